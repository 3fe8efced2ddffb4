"""Every setting of kb, declared once: type, default, bounds, environment variable, flag, meaning.

:class:`Settings` is a pydantic-settings ``BaseSettings`` (environment prefix ``KB_``). Values
come from flags, else from the environment, else from the defaults, and only
:func:`load_settings` reads an environment (the one it is handed, or the process's): building
``Settings(...)`` directly uses only the values given, so tests never see the machine's
``KB_*`` variables. A flag given as None is "not given"; a blank variable is unset. A value
kb cannot use raises :class:`~kb.errors.ConfigError` naming the variable and the value.

:func:`settings_table` renders the settings as the Markdown table of the README
(``kb settings --readme README.md`` rewrites it there).
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, InitSettingsSource, NoDecode, SettingsConfigDict

from indexer import DEFAULT_MODEL

from kb.errors import ConfigError

ENV_PREFIX = "KB_"
#: How an on/off variable may be written (any case, spaces around ignored).
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")
#: Host names trusted when KB_TRUSTED_HOSTS is unset (plus the address served on, if specific).
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")
#: Addresses that listen on every interface (so they name no host).
ANY_ADDRESS = ("0.0.0.0", "::", "")
#: The file in DATA_DIR holding the generated session key.
SECRET_KEY_FILE = "secret_key"
#: The README's generated settings table sits between these lines.
TABLE_BEGIN = "<!-- settings table: generated from kb.settings.Settings by `kb settings --readme README.md` -->"
TABLE_END = "<!-- end of the settings table -->"


# -- how values are read ------------------------------------------------------------------


def _path(value: Any) -> Any:
    return Path(value).expanduser() if isinstance(value, (str, os.PathLike)) else value


def _switch(value: Any) -> Any:
    """1/true/yes/on or 0/false/no/off (any case); None (derived) and booleans pass."""
    if value is None or isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"must be one of {', '.join(TRUE_WORDS)} (on) or {', '.join(FALSE_WORDS)} (off), not {value!r}")


def _whole_number(minimum: int, maximum: int | None = None):
    """A whole number within bounds ("KB_X must be a whole number from 0 to 10, not -1")."""

    def check(value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(f"must be a whole number, not {value!r}")
        if isinstance(value, int):
            number = value
        else:
            try:
                number = int(str(value).strip())
            except ValueError:
                raise ValueError(f"must be a whole number, not {value!r}") from None
        if number < minimum or (maximum is not None and number > maximum):
            bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of {minimum} or more"
            raise ValueError(f"must be a whole number {bounds}, not {number}")
        return number

    return check


def _count(value: Any) -> Any:
    """A whole number, 0 or more ("KB_X must be a whole number, 0 or more (got 'x')")."""
    raw = str(value).strip()
    try:
        number = int(raw) if not isinstance(value, bool) else -1
    except ValueError:
        number = -1
    if number < 0:
        raise ValueError(f"must be a whole number, 0 or more (got {raw!r})")
    return number


def _host_names(value: Any) -> Any:
    """A comma-separated list of host names (or a sequence of them)."""
    if isinstance(value, str):
        return tuple(name.strip() for name in value.split(",") if name.strip())
    return tuple(value) if isinstance(value, (list, tuple)) else value


def _whole(minimum: int, maximum: int | None = None):
    return Annotated[int, BeforeValidator(_whole_number(minimum, maximum)), Field(ge=minimum, le=maximum)]


Port = _whole(1, 65535)
Workers = _whole(1, 64)
ProxyHops = _whole(0, 10)
RequestBytes = _whole(1024)
SessionHours = _whole(1, 24 * 366)
SettingPath = Annotated[Path, BeforeValidator(_path)]
OptionalPath = Annotated[Path | None, BeforeValidator(_path)]
Switch = Annotated[bool | None, BeforeValidator(_switch)]
Count = Annotated[int, BeforeValidator(_count), Field(ge=0)]


def _setting(default: Any, description: str, *, env: str | None = None, flag: str | None = None,
             shown: str | None = None, **field: Any) -> Any:
    """A field with its description, and for the table its flag and how its default reads."""
    extra = {key: value for key, value in (("flag", flag), ("default", shown)) if value is not None}
    return Field(default, description=description, validation_alias=env, json_schema_extra=extra or None, **field)


# -- the settings ---------------------------------------------------------------------------


class Settings(BaseSettings):
    """Every setting of kb. See the module docstring for where values come from.

    ``index_dir`` and ``database_file`` left unset mean ``DATA_DIR/index`` and
    ``DATA_DIR/kb.sqlite3`` (:attr:`index_path`, :attr:`database_path`); ``require_login``,
    ``log_anonymous`` and ``trusted_hosts`` left unset are derived from ``prod`` and ``host``
    once the settings are read, so they always hold a value.
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="forbid", validate_by_name=True,
                                      validate_by_alias=True, validate_default=False)

    # where things are
    cases_dir: SettingPath = _setting(Path("cases"), "cases folder (case-study Markdown files)", env="KB_CASES",
                                      flag="`--cases`")
    index_dir: OptionalPath = _setting(None, "index directory", env="KB_INDEX", flag="`--index`",
                                       shown="`KB_DATA/index`")
    data_dir: SettingPath = _setting(Path(".kb"), "data folder (index, database, secret key)", env="KB_DATA")
    model: str = _setting(DEFAULT_MODEL, "embedding model (package name or folder)", flag="`--model`")
    ranking_file: OptionalPath = _setting(None, "ranking settings (TOML file)", env="KB_RANKING",
                                          flag="`--ranking` (`search`, `eval`, `serve`)",
                                          shown="built-in (see `kb eval --tune`)")
    database_file: OptionalPath = _setting(None, "users and search log database (the CLI and the server use the "
                                           "same one)", env="KB_DATABASE", shown="`KB_DATA/kb.sqlite3`")
    # the server
    host: str = _setting("127.0.0.1", "address the server listens on", flag="`--host` (`serve`)")
    port: Port = _setting(5000, "port the server listens on", flag="`--port` (`serve`)")
    prod: Switch = _setting(False, "production: gunicorn workers, `Secure` cookies, HSTS; turns "
                            "`KB_REQUIRE_LOGIN` on and `KB_LOG_ANONYMOUS` off unless they are set",
                            flag="`--prod` (`serve`)", shown="off")
    workers: Workers = _setting(2, "gunicorn worker processes (with `--prod`)", flag="`--workers` (`serve`)")
    secret_key: str | None = _setting(None, "session secret key", flag="`--secret-key` (`serve`)", repr=False,
                                      shown="generated on first run, stored in `KB_DATA/secret_key`")
    require_login: Switch = _setting(None, "reading needs a login (writing always does)",
                                     flag="`--require-login` / `--no-require-login` (`serve`)",
                                     shown="on with `--prod`, off otherwise")
    log_anonymous: Switch = _setting(None, "log anonymous visitors' searches and story opens",
                                     shown="on, off with `--prod`")
    proxy_hops: ProxyHops = _setting(0, "reverse proxies in front whose `X-Forwarded-For/-Proto/-Host/-Port` "
                                         "are trusted", shown="`0` (headers ignored)")
    trusted_hosts: Annotated[tuple[str, ...] | None, NoDecode, BeforeValidator(_host_names)] = _setting(
        None, "host names the server answers to (`.example.com` includes subdomains; `*`: any)",
        shown="`localhost`, `127.0.0.1` and the `--host` address when it is a specific one")
    max_request_bytes: RequestBytes = _setting(1024 * 1024, "largest request body, in bytes (bigger: 413, unread)")
    session_hours: SessionHours = _setting(12, "hours a sign-in lasts")
    # insights and the search log
    stale_months: Count = _setting(24, "months until a story is stale", flag="`--stale-months` (`insights report`)")
    log_retention_days: Count = _setting(180, "days the search log is kept (0: forever)",
                                         flag="`--days` (`insights prune`)")
    log_searches_per_minute: Count = _setting(30, "searches logged per client and minute (0: no limit; beyond it "
                                              "a search is answered but not logged)")

    def __init__(self, /, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise config_error(exc) from None

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        """Only the values given: the environment is read by :func:`load_settings` alone."""
        return (init_settings,)

    @model_validator(mode="after")
    def _derive(self) -> Settings:
        derived = {"prod": bool(self.prod)}
        if self.require_login is None:
            derived["require_login"] = bool(self.prod)
        if self.log_anonymous is None:
            derived["log_anonymous"] = not self.prod
        if self.trusted_hosts is None:
            extra = () if self.host in (*ANY_ADDRESS, *LOOPBACK_HOSTS) else (self.host,)
            derived["trusted_hosts"] = (*LOOPBACK_HOSTS, *extra)
        self.__dict__.update(derived)  # frozen: set once, while validating
        return self

    @property
    def index_path(self) -> Path:
        """The index directory: KB_INDEX, else DATA_DIR/index."""
        return self.index_dir if self.index_dir is not None else self.data_dir / "index"

    @property
    def database_path(self) -> Path:
        """The SQLite database of users and the search log: KB_DATABASE, else DATA_DIR/kb.sqlite3."""
        return self.database_file if self.database_file is not None else self.data_dir / "kb.sqlite3"

    @property
    def any_host(self) -> bool:
        """Whether any host name is answered (``KB_TRUSTED_HOSTS=*``, e.g. a proxy in front checks)."""
        return "*" in self.trusted_hosts

    def replace(self, **changes: Any) -> Settings:
        """These settings with some values changed (derived ones derived again)."""
        unknown = set(changes) - set(type(self).model_fields)
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        return type(self)(**{**{name: getattr(self, name) for name in self.model_fields_set}, **changes})


def env_name(name: str) -> str:
    """The environment variable of a setting (``cases_dir`` -> ``KB_CASES``)."""
    field = Settings.model_fields[name]
    return field.validation_alias if isinstance(field.validation_alias, str) else ENV_PREFIX + name.upper()


def load_settings(environ: Mapping[str, str] | None = None, **given: Any) -> Settings:
    """The settings: the given values that are not None (flags), else the environment, else defaults.

    Args:
        environ: The environment to read (default: the process's, ``os.environ``). Only
            ``KB_*`` names in capitals count; a blank value is unset.
        given: Values by setting name; None means "not given".

    Raises:
        ConfigError: An unknown setting name, or a value kb cannot use (the message names the
            variable and the value).
    """
    unknown = set(given) - set(Settings.model_fields)
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    values = {name: value for name, value in given.items() if value is not None}
    environ = os.environ if environ is None else environ
    sources = (InitSettingsSource(Settings, init_kwargs=values), _Environment(Settings, environ))
    return Settings(_build_sources=(sources, values))


class _Environment(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping instead of ``os.environ``."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]):
        self._environ = {name: value for name, value in environ.items()
                         if name.startswith(ENV_PREFIX) and name == name.upper()
                         and isinstance(value, str) and value.strip()}
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {name.lower(): value for name, value in self._environ.items()}


def explain(settings: Settings, environ: Mapping[str, str] | None = None) -> list[tuple[str, str, str]]:
    """Each setting as (variable, value in words, where it came from: flag, environment or default).

    ``environ`` is the environment the settings were read from (default: the process's). The
    secret key is never shown.
    """
    environ = os.environ if environ is None else environ
    try:
        from_environment = load_settings(environ)
    except ConfigError:  # a bad variable a flag overrides
        from_environment = None
    rows = []
    for name in Settings.model_fields:
        variable = env_name(name)
        if name not in settings.model_fields_set:
            origin = "default"
        elif (from_environment is not None and name in from_environment.model_fields_set
              and getattr(from_environment, name) == getattr(settings, name)):
            origin = "environment"
        else:
            origin = "flag"
        value = getattr(settings, name)
        if name == "secret_key":
            value = "(given)" if value else f"(generated into {settings.data_dir / SECRET_KEY_FILE})"
        elif name == "index_dir" and value is None:
            value = settings.index_path
        elif name == "database_file" and value is None:
            value = settings.database_path
        elif isinstance(value, bool):
            value = "on" if value else "off"
        elif isinstance(value, tuple):
            value = ", ".join(value)
        rows.append((variable, str(value), origin))
    return rows


def config_error(exc: ValidationError) -> ConfigError:
    """A pydantic ValidationError of :class:`Settings` as kb says it: variable, then the problem."""
    by_key = {key: name for name in Settings.model_fields for key in (name, env_name(name))}
    messages = []
    for error in exc.errors():
        key = str(error["loc"][0]) if error.get("loc") else ""
        name = by_key.get(key) or by_key.get(key.upper())
        variable = env_name(name) if name else key
        reason = (error.get("ctx") or {}).get("error")
        if isinstance(reason, ValueError):
            messages.append(f"{variable} {reason}")
        elif error["type"] == "extra_forbidden":
            messages.append(f"unknown setting(s): {key}")
        else:
            messages.append(f"{variable} cannot be {error.get('input')!r}: {error['msg']}")
    return ConfigError("; ".join(messages))


def stored_secret_key(data_dir: Path | str) -> str:
    """The secret key kept in DATA_DIR/secret_key, generated on first use (never a fixed default).

    The file is created readable by its owner only; when two processes start at once, both
    use the key the first one wrote.

    Raises:
        ConfigError: The file stays empty.
    """
    path = Path(data_dir) / SECRET_KEY_FILE
    for _ in range(100):
        try:
            key = path.read_text(encoding="utf-8").strip()
            if key:
                return key
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue  # another process made it meanwhile: read theirs
            key = secrets.token_hex(32)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(key + "\n")
            return key
        time.sleep(0.01)  # being written by another process
    raise ConfigError(f"{path} is empty: delete it (a new key is generated) or set KB_SECRET_KEY")


# -- the README's table ----------------------------------------------------------------------


def default_text(name: str) -> str:
    """How a setting's default reads in the table."""
    field = Settings.model_fields[name]
    shown = (field.json_schema_extra or {}).get("default")
    if shown:
        return shown
    if field.default is False or field.default is True:
        return "on" if field.default else "off"
    return f"`{field.default}`"


def values_text(name: str) -> str:
    """What a setting accepts, as the table says it."""
    field = Settings.model_fields[name]
    if any(getattr(m, "func", None) is _switch for m in field.metadata):
        return f"{'/'.join(TRUE_WORDS)} or {'/'.join(FALSE_WORDS)}"
    low = next((m.ge for m in field.metadata if getattr(m, "ge", None) is not None), None)
    high = next((m.le for m in field.metadata if getattr(m, "le", None) is not None), None)
    if low is not None:
        return f"whole number, {low} to {high}" if high is not None else f"whole number, {low} or more"
    if any(getattr(m, "func", None) is _path for m in field.metadata):
        return "path"
    if any(getattr(m, "func", None) is _host_names for m in field.metadata):
        return "names, comma-separated"
    return "text"


def settings_table() -> str:
    """The settings as a Markdown table: variable, flag, default, what it accepts, what it is."""
    lines = ["| environment | flag | default | values | setting |", "|---|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        flag = (field.json_schema_extra or {}).get("flag") or "—"
        lines.append(f"| `{env_name(name)}` | {flag} | {default_text(name)} | {values_text(name)} | "
                     f"{field.description} |")
    return "\n".join(lines) + "\n"


def readme_section() -> str:
    """What stands between the README's markers: how it is made, then the table."""
    return ("`kb settings` shows the values in effect and where each comes from. This table is generated from "
            "`kb.settings.Settings`; after changing a setting, run `kb settings --readme README.md`.\n\n"
            + settings_table())


def with_table(text: str) -> str:
    """A README's text with the generated section between its markers.

    Raises:
        ConfigError: The markers are missing.
    """
    pattern = re.compile(re.escape(TABLE_BEGIN) + r"\n.*?" + re.escape(TABLE_END), re.DOTALL)
    if not pattern.search(text):
        raise ConfigError(f"no settings table markers in the README: add the lines {TABLE_BEGIN!r} and {TABLE_END!r}")
    return pattern.sub(lambda _: f"{TABLE_BEGIN}\n{readme_section()}{TABLE_END}", text, count=1)
