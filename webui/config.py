"""Web settings: defaults, then ``KB_*`` environment variables, then flags (flags win)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from kb.errors import ConfigError
from kb.settings import Settings, load_settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000
DEFAULT_WORKERS = 2
#: Largest request body (bytes): bigger ones get 413 before anything is read or written.
DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024
#: Hours a sign-in lasts, however active the session.
DEFAULT_SESSION_HOURS = 12
#: Host names trusted when KB_TRUSTED_HOSTS is unset (plus the address served on, if specific).
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")
#: How KB_REQUIRE_LOGIN may be written.
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def web_config(*, prod: bool = False, host: str | None = None, port: int | None = None,
               workers: int | None = None, secret_key: str | None = None, require_login: bool | None = None,
               settings: Settings | None = None, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """The Flask configuration of a kb server.

    Each value comes from its flag when given, else from its environment variable
    (``KB_HOST``, ``KB_PORT``, ``KB_WORKERS``, ``KB_SECRET_KEY``, ``KB_REQUIRE_LOGIN``,
    ``KB_DATABASE``, ``KB_STALE_MONTHS``, ``KB_LOG_RETENTION_DAYS``,
    ``KB_LOG_SEARCHES_PER_MINUTE``, ``KB_LOG_ANONYMOUS`` (logged unless ``prod``), ``KB_PROXY_HOPS``,
    ``KB_TRUSTED_HOSTS``, ``KB_MAX_REQUEST_BYTES``, ``KB_SESSION_HOURS``), else a default.
    Reading needs a login by default in production only.

    Raises:
        ConfigError: a variable holds a value kb cannot use (the message names it).
    """
    from kb.insights import stale_months  # numpy: only when a server is configured
    from kb.searchlog import retention_days, searches_per_minute

    env = os.environ if environ is None else environ
    settings = settings or load_settings(env)
    try:
        port = port if port is not None else int(env.get("KB_PORT") or DEFAULT_PORT)
        workers = workers if workers is not None else int(env.get("KB_WORKERS") or DEFAULT_WORKERS)
    except ValueError as exc:
        raise ConfigError(f"KB_PORT and KB_WORKERS must be whole numbers ({exc})") from None
    host = host or env.get("KB_HOST") or DEFAULT_HOST
    if require_login is None:
        require_login = parse_switch("KB_REQUIRE_LOGIN", env.get("KB_REQUIRE_LOGIN"), default=prod)
    return {
        "KB_SETTINGS": settings,
        "KB_REQUIRE_LOGIN": require_login,
        "KB_DATABASE": settings.database_path,  # KB_DATABASE is a setting: the CLI reads the same file
        "KB_STALE_MONTHS": stale_months(env),
        "KB_LOG_RETENTION_DAYS": retention_days(env),
        "KB_LOG_SEARCHES_PER_MINUTE": searches_per_minute(env),
        "KB_LOG_ANONYMOUS": parse_switch("KB_LOG_ANONYMOUS", env.get("KB_LOG_ANONYMOUS"), default=not prod),
        "KB_PROXY_HOPS": whole_number("KB_PROXY_HOPS", env.get("KB_PROXY_HOPS"), 0, maximum=10),
        "TRUSTED_HOSTS": trusted_hosts(env.get("KB_TRUSTED_HOSTS"), host),
        "MAX_CONTENT_LENGTH": whole_number("KB_MAX_REQUEST_BYTES", env.get("KB_MAX_REQUEST_BYTES"),
                                           DEFAULT_MAX_REQUEST_BYTES, minimum=1024),
        "KB_SESSION_HOURS": whole_number("KB_SESSION_HOURS", env.get("KB_SESSION_HOURS"), DEFAULT_SESSION_HOURS,
                                         minimum=1, maximum=24 * 366),
        "HOST": host,
        "PORT": port,
        "WORKERS": workers,
        "PROD": prod,
        "SECRET_KEY": secret_key or env.get("KB_SECRET_KEY") or stored_secret_key(settings.data_dir),
    }


def parse_switch(name: str, value: str | None, default: bool) -> bool:
    """An on/off environment variable: 1/true/yes/on or 0/false/no/off (any case); unset: default.

    Raises:
        ConfigError: any other value.
    """
    if value is None or not value.strip():
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"{name} must be one of {', '.join(TRUE_WORDS)} (on) or {', '.join(FALSE_WORDS)} (off), "
                      f"not {value!r}")


def whole_number(name: str, value: str | None, default: int, minimum: int = 0, maximum: int | None = None) -> int:
    """A whole-number environment variable within bounds; unset or blank: default.

    Raises:
        ConfigError: not a whole number, or out of bounds.
    """
    if value is None or not value.strip():
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum or (maximum is not None and number > maximum):
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of {minimum} or more"
        raise ConfigError(f"{name} must be a whole number {bounds}, not {number}")
    return number


def trusted_hosts(value: str | None, host: str) -> list[str] | None:
    """The host names requests may carry (Flask's TRUSTED_HOSTS); None trusts any.

    KB_TRUSTED_HOSTS is a comma-separated list (``.example.com`` also matches its subdomains;
    ``*`` trusts any host, e.g. when a proxy in front already checks). Unset, only loopback
    names are trusted, plus the address kb listens on when it is a specific one.
    """
    if value is not None and value.strip():
        names = [name.strip() for name in value.split(",") if name.strip()]
        return None if "*" in names else names
    names = list(LOOPBACK_HOSTS)
    if host not in ("0.0.0.0", "::", "", *names):
        names.append(host)
    return names


def stored_secret_key(data_dir: Path) -> str:
    """The secret key kept in DATA_DIR/secret_key, generated on first use (never a fixed default)."""
    path = Path(data_dir) / "secret_key"
    try:
        key = path.read_text(encoding="utf-8").strip()
        if key:
            return key
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key
