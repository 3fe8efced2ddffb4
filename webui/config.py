"""The Flask configuration of a kb server, from its :class:`~kb.assembly.Assembly`'s settings.

Every setting is read once, by :func:`kb.settings.load_settings`; this module only turns the
settings into Flask's keys. The ``KB_*`` keys it sets mirror settings for code that reads the
Flask config; the assembly (``webui.views.assembly()``) is their source.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kb.assembly import Assembly
from kb.errors import ConfigError
from kb.settings import LOOPBACK_HOSTS, Settings, load_settings, stored_secret_key

__all__ = ["CONFIG_SETTINGS", "LOOPBACK_HOSTS", "flask_config", "split_config", "stored_secret_key", "web_config"]

#: Flask config keys that are settings, and the setting each one is.
CONFIG_SETTINGS = {
    "KB_DATABASE": "database_file",
    "KB_REQUIRE_LOGIN": "require_login",
    "KB_STALE_MONTHS": "stale_months",
    "KB_LOG_RETENTION_DAYS": "log_retention_days",
    "KB_LOG_SEARCHES_PER_MINUTE": "log_searches_per_minute",
    "KB_LOG_ANONYMOUS": "log_anonymous",
    "KB_PROXY_HOPS": "proxy_hops",
    "KB_SESSION_HOURS": "session_hours",
    "TRUSTED_HOSTS": "trusted_hosts",
    "MAX_CONTENT_LENGTH": "max_request_bytes",
    "SECRET_KEY": "secret_key",
    "HOST": "host",
    "PORT": "port",
    "WORKERS": "workers",
    "PROD": "prod",
}
#: What a config mapping without these keys meant to ``create_app`` before it took an
#: assembly: no login needed, anonymous searches logged, no limit on logging.
MAPPING_DEFAULTS = {"require_login": False, "log_anonymous": True, "log_searches_per_minute": 0}


def flask_config(assembly: Assembly) -> dict[str, Any]:
    """The Flask configuration serving ``assembly`` (the secret key generated if need be)."""
    settings = assembly.settings
    return {
        "KB_SETTINGS": settings,
        "SECRET_KEY": assembly.secret_key,
        "KB_REQUIRE_LOGIN": settings.require_login,
        "KB_DATABASE": settings.database_path,  # the CLI reads the same file
        "KB_STALE_MONTHS": settings.stale_months,
        "KB_LOG_RETENTION_DAYS": settings.log_retention_days,
        "KB_LOG_SEARCHES_PER_MINUTE": settings.log_searches_per_minute,
        "KB_LOG_ANONYMOUS": settings.log_anonymous,
        "KB_PROXY_HOPS": settings.proxy_hops,
        "KB_SESSION_HOURS": settings.session_hours,
        # Flask's TRUSTED_HOSTS: None trusts any host name.
        "TRUSTED_HOSTS": None if settings.any_host else list(settings.trusted_hosts),
        "MAX_CONTENT_LENGTH": settings.max_request_bytes,
        # Form fields may use the whole request (a story's Markdown), no more.
        "MAX_FORM_MEMORY_SIZE": settings.max_request_bytes,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": settings.prod,
        "HOST": settings.host,
        "PORT": settings.port,
        "WORKERS": settings.workers,
        "PROD": settings.prod,
    }


def split_config(config: Mapping[str, Any]) -> tuple[Assembly, dict[str, Any]]:
    """An assembly and the remaining Flask keys from a config mapping (``create_app``'s former
    argument, still what gunicorn's workers receive).

    ``KB_SETTINGS`` is required; ``KB_KNOWLEDGE_BASE`` is an existing knowledge base to share
    (and its loaded model); the keys of :data:`CONFIG_SETTINGS` change those settings; keys
    absent keep :data:`MAPPING_DEFAULTS` unless the settings set them.
    """
    rest = dict(config)
    try:
        settings: Settings = rest.pop("KB_SETTINGS")
    except KeyError:
        raise ConfigError("the app's config needs KB_SETTINGS (a kb.settings.Settings)") from None
    base = rest.pop("KB_KNOWLEDGE_BASE", None)
    rest.pop("MAX_FORM_MEMORY_SIZE", None)  # follows the request limit
    changes = {name: rest.pop(key) for key, name in CONFIG_SETTINGS.items() if key in rest}
    if "trusted_hosts" in changes and changes["trusted_hosts"] is None:
        changes["trusted_hosts"] = ("*",)
    for name, value in MAPPING_DEFAULTS.items():
        if name not in changes and name not in settings.model_fields_set:
            changes[name] = value
    return Assembly(settings.replace(**changes), knowledge_base=base), rest


def web_config(*, prod: bool = False, host: str | None = None, port: int | None = None,
               workers: int | None = None, secret_key: str | None = None, require_login: bool | None = None,
               settings: Settings | None = None, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The Flask configuration of a kb server read from ``environ`` and these flags (None: not given).

    ``settings``' explicitly set values count as flags. Prefer ``flask_config(Assembly(load_settings(...)))``.

    Raises:
        ConfigError: a variable holds a value kb cannot use (the message names it).
    """
    given = {name: getattr(settings, name) for name in settings.model_fields_set} if settings is not None else {}
    given.update({key: value for key, value in (("prod", prod or None), ("host", host), ("port", port),
                                                 ("workers", workers), ("secret_key", secret_key),
                                                 ("require_login", require_login)) if value is not None})
    return flask_config(Assembly(load_settings(environ, **given)))
