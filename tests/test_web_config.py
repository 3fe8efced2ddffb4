"""Web settings: KB_REQUIRE_LOGIN and KB_DATABASE, and `kb serve --require-login`.

``webui.config.web_config`` reads them as :func:`kb.settings.load_settings` does, into Flask's keys.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.cli import cli
from kb.errors import ConfigError
from kb.settings import Settings, load_settings
from webui.config import web_config


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(cases_dir=tmp_path / "cases", data_dir=tmp_path / "data")


@pytest.mark.parametrize("prod, environ, flag, expected", [
    (False, {}, None, False),
    (True, {}, None, True),
    (False, {"KB_REQUIRE_LOGIN": "1"}, None, True),
    (False, {"KB_REQUIRE_LOGIN": "Yes"}, None, True),
    (False, {"KB_REQUIRE_LOGIN": " on "}, None, True),
    (True, {"KB_REQUIRE_LOGIN": "0"}, None, False),
    (True, {"KB_REQUIRE_LOGIN": "false"}, None, False),
    (True, {"KB_REQUIRE_LOGIN": "OFF"}, None, False),
    (True, {"KB_REQUIRE_LOGIN": ""}, None, True),
    (True, {"KB_REQUIRE_LOGIN": "1"}, False, False),
    (False, {"KB_REQUIRE_LOGIN": "no"}, True, True),
])
def test_require_login_defaults_to_production_and_flags_win(settings, prod, environ, flag, expected):
    config = web_config(prod=prod, require_login=flag, settings=settings, environ={"KB_SECRET_KEY": "k", **environ})
    assert config["KB_REQUIRE_LOGIN"] is expected


@pytest.mark.parametrize("value", ["maybe", "2", "enabled"])
def test_require_login_rejects_other_values_naming_the_variable(settings, value):
    with pytest.raises(ConfigError, match=rf"KB_REQUIRE_LOGIN must be one of 1, true, yes, on .*not '{value}'"):
        web_config(settings=settings, environ={"KB_REQUIRE_LOGIN": value, "KB_SECRET_KEY": "k"})


def test_database_defaults_to_the_data_folder(settings, tmp_path):
    assert web_config(settings=settings, environ={"KB_SECRET_KEY": "k"})["KB_DATABASE"] == settings.database_path
    assert settings.database_path == Path(settings.data_dir) / "kb.sqlite3"
    env = {"KB_SECRET_KEY": "k", "KB_DATA": str(tmp_path / "data"), "KB_DATABASE": str(tmp_path / "u.db")}
    assert web_config(environ=env)["KB_DATABASE"] == tmp_path / "u.db" == load_settings(env).database_path


def test_the_cli_and_the_server_use_the_same_database(runner, tmp_path):
    """`kb users add` with KB_DATABASE set writes the file the server reads (it used to write
    KB_DATA/kb.sqlite3, so the admin just added could not sign in)."""
    from kb.users import UserStore

    env = {"KB_DATA": str(tmp_path / "data"), "KB_DATABASE": str(tmp_path / "shared.sqlite3")}
    result = runner.invoke(cli, ["users", "add", "ada", "--role", "admin", "--password-stdin"], env=env,
                           input="correct horse battery staple\n")
    assert result.exit_code == 0, result.output
    server_database = web_config(environ={**env, "KB_SECRET_KEY": "k"})["KB_DATABASE"]
    assert server_database == tmp_path / "shared.sqlite3"
    assert UserStore(server_database).authenticate("ada", "correct horse battery staple").role == "admin"
    assert not (tmp_path / "data" / "kb.sqlite3").exists()


def test_secret_key_is_generated_once_and_kept(settings):
    first = web_config(settings=settings, environ={})["SECRET_KEY"]
    assert len(first) == 64 and web_config(settings=settings, environ={})["SECRET_KEY"] == first
    assert (Path(settings.data_dir) / "secret_key").stat().st_mode & 0o077 == 0


def test_serve_offers_require_login(runner):
    result = runner.invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--require-login / --no-require-login" in result.output and "KB_REQUIRE_LOGIN" in result.output


@pytest.mark.parametrize("args, env, expected", [
    ([], {}, False), (["--prod"], {}, True), (["--require-login"], {}, True),
    (["--prod", "--no-require-login"], {}, False), ([], {"KB_REQUIRE_LOGIN": "yes"}, True),
])
def test_serve_passes_require_login_to_the_app(runner, monkeypatch, tmp_path, args, env, expected):
    seen = {}
    monkeypatch.setattr("webui.production.run_gunicorn", lambda config: seen.update(config))
    monkeypatch.setattr("werkzeug.serving.run_simple", lambda *a, **k: None)
    monkeypatch.setattr("kb.service.KnowledgeBase.engine", lambda self: None)

    import webui

    real = webui.create_app

    def create_app(assembly):  # the development server's app, over the command's assembly
        app = real(assembly)
        seen.update(app.config)
        return app

    monkeypatch.setattr(webui, "create_app", create_app)
    result = runner.invoke(cli, ["serve", *args, "--cases", str(tmp_path / "cases")],
                           env={"KB_DATA": str(tmp_path / "data"), "KB_SECRET_KEY": "k", **env})
    assert result.exit_code == 0, result.output
    assert seen["KB_REQUIRE_LOGIN"] is expected
    assert "no users yet: add one with `kb users add NAME --role admin`" in result.output
    assert ("reading needs a login" in result.output) is expected
