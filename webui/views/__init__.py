"""The blueprints: ``pages`` (HTML) and ``api`` (JSON)."""

from __future__ import annotations

from flask import current_app

from kb.service import KnowledgeBase


def knowledge_base() -> KnowledgeBase:
    """The app's knowledge base (one per process)."""
    return current_app.extensions["kb"]
