"""The web UI and JSON API of kb: a Flask app over one :class:`~kb.service.KnowledgeBase`.

The app translates requests into calls on the knowledge base and its errors into HTTP
answers; every rule about cases and search lives in ``kb``.
"""

from __future__ import annotations

from typing import Any

from datetime import timedelta

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from kb.live import LiveIndexer
from kb.service import KnowledgeBase
from webui.config import DEFAULT_MAX_REQUEST_BYTES, DEFAULT_SESSION_HOURS, LOOPBACK_HOSTS

__all__ = ["create_app"]


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app.

    Args:
        config: Flask settings, usually from :func:`webui.config.web_config`: ``KB_SETTINGS``
            (:class:`kb.settings.Settings`) and ``SECRET_KEY`` are required; ``KB_REQUIRE_LOGIN``
            (default off) says whether reading needs a login; ``KB_PROXY_HOPS`` (default 0),
            ``TRUSTED_HOSTS``, ``MAX_CONTENT_LENGTH`` and ``KB_SESSION_HOURS`` are described in
            :func:`~webui.config.web_config`; ``KB_DATABASE`` (default the
            settings' database) holds the users and the search log; ``KB_STALE_MONTHS`` and
            ``KB_LOG_RETENTION_DAYS`` (default: those environment variables) tune insights and
            the log. Tests may pass ``KB_KNOWLEDGE_BASE``, an existing :class:`KnowledgeBase`, to
            share a loaded model. Defaults to :func:`~webui.config.web_config` (environment
            variables).

    Returns:
        The app; its knowledge base is ``app.extensions["kb"]`` and its background indexer
        ``app.extensions["live"]``.
    """
    if config is None:
        from webui.config import web_config

        config = web_config()
    config = dict(config)
    base = config.pop("KB_KNOWLEDGE_BASE", None) or KnowledgeBase(config["KB_SETTINGS"])
    settings = config["KB_SETTINGS"]

    app = Flask(__name__)
    app.config.update(KB_REQUIRE_LOGIN=False, KB_DATABASE=settings.database_path,
                      SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=bool(config.get("PROD")),
                      KB_PROXY_HOPS=0, TRUSTED_HOSTS=list(LOOPBACK_HOSTS),
                      MAX_CONTENT_LENGTH=DEFAULT_MAX_REQUEST_BYTES, KB_SESSION_HOURS=DEFAULT_SESSION_HOURS)
    app.config.from_mapping(config)
    # Form fields may use the whole request (a story's Markdown), no more.
    app.config["MAX_FORM_MEMORY_SIZE"] = app.config["MAX_CONTENT_LENGTH"]
    app.permanent_session_lifetime = timedelta(hours=app.config["KB_SESSION_HOURS"])
    if app.config["KB_PROXY_HOPS"]:
        # The client's address, scheme and host as the trusted proxies in front saw them.
        hops = app.config["KB_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    app.json.sort_keys = False
    app.extensions["kb"] = base
    app.extensions["live"] = LiveIndexer(settings, lambda: base.embedder)

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
