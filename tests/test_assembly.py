"""One composition root: the CLI and the web app receive one Assembly built from the settings."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

import pytest

from kb.assembly import Assembly
from kb.cli import cli
from kb.errors import ConfigError
from kb.settings import Settings, load_settings
from tests.conftest import REPO, copy_cases

PASSWORD = "correct horse battery staple"
HEAVY = ("torch", "faiss", "sentence_transformers", "transformers", "flask", "gunicorn")


def _imported_after(code: str) -> list[str]:
    """The heavy modules a fresh interpreter has imported after running ``code``."""
    probe = f"import sys\n{code}\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return eval(result.stdout.strip().splitlines()[-1])


def test_help_and_kb_users_add_load_no_model_and_no_web_framework(tmp_path):
    assert _imported_after("from kb.cli import cli\ncli(['--help'], standalone_mode=False)") == []
    assert _imported_after("from kb.cli import cli\ncli(['serve', '--help'], standalone_mode=False)") == []
    add = ("from click.testing import CliRunner\nfrom kb.cli import cli\n"
           f"r = CliRunner().invoke(cli, ['users', 'add', 'ada', '--role', 'admin', '--password-stdin'], "
           f"input={PASSWORD + chr(10)!r}, env={{'KB_DATA': {str(tmp_path)!r}}})\n"
           "assert r.exit_code == 0, r.output")
    assert _imported_after(add) == []
    assert (tmp_path / "kb.sqlite3").is_file()


def test_the_web_layer_adds_serve_to_the_cli_through_an_entry_point():
    import webui.cli

    (entry,) = [e for e in entry_points(group="kb.commands") if e.name == "serve"]
    assert entry.value == "webui.cli:serve"
    assert cli.commands["serve"] is webui.cli.serve
    source = "\n".join(path.read_text(encoding="utf-8") for path in (REPO / "kb").rglob("*.py"))
    assert "import webui" not in source and "from webui" not in source


def test_parts_are_built_on_first_use_and_shared(tmp_path):
    assembly = Assembly(load_settings({}, cases_dir=tmp_path / "cases", data_dir=tmp_path / "data"))
    with assembly.users() as users:
        users.add("ada", "admin", PASSWORD)
    assert assembly._knowledge_base is None and assembly._live is None and not assembly.model_loaded
    assert assembly.knowledge_base is assembly.knowledge_base
    assert assembly.live_indexer is assembly.live_indexer
    assert not assembly.model_loaded  # building the knowledge base loads no model
    with assembly.search_log() as log:
        assert log.retention == 180 and log.path == assembly.settings.database_path


def test_one_model_for_search_the_background_indexer_and_insights(tmp_path, embedder):
    assembly = Assembly(Settings(cases_dir=tmp_path, data_dir=tmp_path / "data"), embedder=embedder)
    assert assembly.model_loaded and assembly.embedder is embedder
    assert assembly.knowledge_base.embedder is embedder
    assert assembly.live_indexer._embedder_factory() is embedder
    shared = Assembly(assembly.settings, knowledge_base=assembly.knowledge_base)
    assert shared.knowledge_base is assembly.knowledge_base and shared.embedder is embedder


def test_the_stores_follow_the_settings(tmp_path):
    settings = load_settings({"KB_DATA": str(tmp_path / "data"), "KB_DATABASE": str(tmp_path / "u.sqlite3"),
                              "KB_LOG_RETENTION_DAYS": "7"})
    assembly = Assembly(settings)
    with assembly.users() as users, assembly.search_log() as log, assembly.search_log() as other:
        assert users.path == log.path == tmp_path / "u.sqlite3" and log.retention == 7
        assert log.schedule is other.schedule  # the database is pruned once an hour, however many logs


def test_a_save_is_one_call_that_schedules_the_index_update(tmp_path, monkeypatch):
    from kb.editing import CaseForm, file_hash

    cases = copy_cases(tmp_path / "cases", ["saltmarsh-inns"])
    assembly = Assembly(Settings(cases_dir=cases, data_dir=tmp_path / "data"))
    reasons: list[str] = []
    monkeypatch.setattr(assembly, "update_index", reasons.append)
    form = CaseForm(slug="orchard-cider", fields={"title": "A cider maker", "status": "draft"},
                    body="## Situation\nApples.\n")
    case = assembly.save_case(form, expected_hash=None, create=True)
    assert case.id == "orchard-cider" and (cases / "orchard-cider.md").is_file()
    published = assembly.set_status("orchard-cider", "published", file_hash(cases / "orchard-cider.md"))
    assert not published.is_draft
    assert reasons == ["saved orchard-cider", "published orchard-cider"]


def test_insights_read_the_log_without_loading_the_model(small_settings, tmp_path):
    assembly = Assembly(small_settings.replace(database_file=tmp_path / "kb.sqlite3", stale_months=6))
    report = assembly.insights(since_days=30)
    assert report.totals["searches"] == 0 and report.stale_months == 6
    assert not assembly.model_loaded


def test_every_command_receives_the_assembly_of_its_flags_and_environment(runner, tmp_path):
    built = []

    def factory(settings):
        built.append(settings)
        return Assembly(settings)

    env = {"KB_DATA": str(tmp_path / "data"), "KB_DATABASE": str(tmp_path / "users.sqlite3")}
    result = runner.invoke(cli, ["users", "add", "ada", "--role", "admin", "--password-stdin"], env=env,
                           input=f"{PASSWORD}\n", obj=factory)
    assert result.exit_code == 0, result.output
    assert [s.database_path for s in built] == [tmp_path / "users.sqlite3"]
    result = runner.invoke(cli, ["users", "list", "--cases", str(tmp_path / "c")], env=env, obj=factory)
    assert result.output.startswith("ada ") and built[-1].cases_dir == tmp_path / "c"


def test_a_bad_variable_stops_a_command_naming_it(runner, tmp_path):
    result = runner.invoke(cli, ["users", "list"], env={"KB_DATA": str(tmp_path), "KB_PORT": "http"})
    assert result.exit_code == 1
    assert result.output == "Error: KB_PORT must be a whole number, not 'http'\n"


# -- the web app ------------------------------------------------------------------------------


def test_create_app_serves_the_assembly_it_is_given(tmp_path):
    from tests.web_fixtures import login
    from webui import create_app

    settings = load_settings({}, cases_dir=tmp_path / "cases", data_dir=tmp_path / "data",
                             database_file=tmp_path / "elsewhere.sqlite3", require_login=True, secret_key="s" * 32)
    assembly = Assembly(settings)
    with assembly.users() as users:
        users.add("ada", "admin", PASSWORD)
    app = create_app(assembly, {"TESTING": True})
    assert app.extensions["kb_assembly"] is assembly and app.extensions["kb"] is assembly.knowledge_base
    assert app.extensions["live"] is assembly.live_indexer
    assert app.config["KB_DATABASE"] == tmp_path / "elsewhere.sqlite3" and app.config["SECRET_KEY"] == "s" * 32
    client = app.test_client()
    assert client.get("/browse").status_code == 302  # reading needs a login
    assert login(client, "ada", PASSWORD).status_code == 302
    assert client.get("/admin/users").status_code == 200


def test_settings_do_not_go_in_the_flask_config(tmp_path):
    from webui import create_app

    assembly = Assembly(Settings(cases_dir=tmp_path, data_dir=tmp_path / "data"))
    with pytest.raises(ConfigError, match="KB_REQUIRE_LOGIN is a setting"):
        create_app(assembly, {"KB_REQUIRE_LOGIN": True})


def test_a_config_mapping_still_builds_an_app(tmp_path):
    """gunicorn's workers get the Flask config of the assembly; the former mapping form stays."""
    from webui import create_app
    from webui.config import flask_config, split_config

    settings = Settings(cases_dir=tmp_path, data_dir=tmp_path / "data")
    assembly, rest = split_config({"KB_SETTINGS": settings, "SECRET_KEY": "k", "KB_DATABASE": tmp_path / "u.db",
                                   "PROD": True, "TRUSTED_HOSTS": None, "TESTING": True})
    assert rest == {"TESTING": True}
    assert assembly.settings.database_path == tmp_path / "u.db" and assembly.settings.any_host
    # keys absent keep what the mapping meant before: no login, anonymous searches logged, no limit
    assert (assembly.settings.require_login, assembly.settings.log_anonymous) == (False, True)
    assert assembly.settings.log_searches_per_minute == 0
    served = Assembly(load_settings({}, cases_dir=tmp_path, data_dir=tmp_path / "data", prod=True))
    again, _ = split_config(flask_config(served))  # what each worker rebuilds: the same settings
    assert again.settings.model_dump(exclude={"database_file", "secret_key"}) == served.settings.model_dump(
        exclude={"database_file", "secret_key"})
    assert again.settings.database_path == served.settings.database_path
    assert again.secret_key == again.settings.secret_key == served.secret_key
    app = create_app(flask_config(served))
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["KB_REQUIRE_LOGIN"]
