"""The web UI and JSON API of kb: a Flask app over one :class:`~kb.service.KnowledgeBase`.

The app translates requests into calls on the knowledge base and its errors into HTTP
answers; every rule about cases and search lives in ``kb``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from kb.service import KnowledgeBase

__all__ = ["create_app"]


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app.

    Args:
        config: Flask settings, usually from :func:`webui.config.web_config`: ``KB_SETTINGS``
            (:class:`kb.settings.Settings`) and ``SECRET_KEY`` are required. Tests may pass
            ``KB_KNOWLEDGE_BASE``, an existing :class:`KnowledgeBase`, to share a loaded model.
            Defaults to :func:`~webui.config.web_config` (environment variables).

    Returns:
        The app; its knowledge base is ``app.extensions["kb"]``.
    """
    if config is None:
        from webui.config import web_config

        config = web_config()
    config = dict(config)
    base = config.pop("KB_KNOWLEDGE_BASE", None) or KnowledgeBase(config["KB_SETTINGS"])

    app = Flask(__name__)
    app.config.from_mapping(config)
    app.json.sort_keys = False
    app.extensions["kb"] = base

    from webui import errors, security, templating
    from webui.views import api, pages

    security.init_app(app)
    templating.init_app(app)
    errors.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    return app
