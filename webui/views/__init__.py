"""The blueprints: ``pages`` (HTML), ``api`` (JSON), sessions, the editor, admin and insights."""

from __future__ import annotations

from kb.service import KnowledgeBase
from webui.stores import assembly

__all__ = ["assembly", "knowledge_base"]


def knowledge_base() -> KnowledgeBase:
    """The app's knowledge base (one per process): ``assembly().knowledge_base``."""
    return assembly().knowledge_base
