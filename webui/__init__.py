"""The web UI and JSON API of kb: a Flask app over one :class:`~kb.assembly.Assembly`.

The app translates requests into calls on the assembly (its knowledge base, stores,
editing and insights) and its errors into HTTP answers; every rule about cases and search
lives in ``kb``. Flask is imported when an app is built, so ``kb --help`` (which loads
:mod:`webui.cli`, the ``kb serve`` command) does not import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from kb.assembly import Assembly

__all__ = ["create_app"]


def create_app(assembly: Assembly | Mapping[str, Any] | None = None, config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app serving an assembly.

    Args:
        assembly: What the app serves (:class:`kb.assembly.Assembly`); by default one over the
            settings of the process environment (:func:`kb.settings.load_settings`). A Flask
            config mapping is accepted too, as gunicorn's workers receive it
            (:func:`webui.config.split_config`: ``KB_SETTINGS`` required, ``KB_KNOWLEDGE_BASE``
            to share a loaded knowledge base, ``KB_*`` keys over those settings).
        config: Flask keys laid over the ones the settings give (e.g. ``TESTING``); kb's
            settings themselves belong in the assembly's :class:`~kb.settings.Settings`.

    Returns:
        The app; its assembly is ``app.extensions["kb_assembly"]``, its knowledge base
        ``app.extensions["kb"]`` and its background indexer ``app.extensions["live"]``.

    Raises:
        ConfigError: ``config`` holds a setting, or the settings cannot be used.
    """
    from datetime import timedelta

    from flask import Flask
    from werkzeug.middleware.proxy_fix import ProxyFix

    from kb.assembly import Assembly
    from kb.errors import ConfigError
    from webui.config import CONFIG_SETTINGS, flask_config, split_config

    extra = dict(config or {})
    for key in extra:
        if key in CONFIG_SETTINGS or key in ("KB_SETTINGS", "KB_KNOWLEDGE_BASE"):
            raise ConfigError(f"{key} is a setting: give it in the assembly's settings, not in the Flask config")
    if assembly is None:
        assembly = Assembly.from_environment()
    elif not isinstance(assembly, Assembly):
        assembly, rest = split_config(assembly)
        extra = {**rest, **extra}

    app = Flask(__name__)
    app.config.from_mapping(flask_config(assembly))
    app.config.from_mapping(extra)
    app.permanent_session_lifetime = timedelta(hours=assembly.settings.session_hours)
    hops = assembly.settings.proxy_hops
    if hops:
        # The client's address, scheme and host as the trusted proxies in front saw them.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    app.json.sort_keys = False
    app.extensions["kb_assembly"] = assembly
    app.extensions["kb"] = assembly.knowledge_base
    app.extensions["live"] = assembly.live_indexer

    from webui import auth, errors, security, stores, templating
    from webui.views import admin, api, editor, insights, pages, sessions

    security.init_app(app)
    auth.init_app(app)
    stores.init_app(app)
    templating.init_app(app)
    errors.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(sessions.bp)
    app.register_blueprint(editor.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(insights.bp)
    return app
