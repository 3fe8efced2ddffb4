"""The background indexer's status as a person reads it (the page and its JSON poll share it)."""

from __future__ import annotations

from typing import Any

from kb.live import LiveIndexer
from webui.stores import assembly

#: States in which the page keeps polling.
BUSY_STATES = ("queued", "running")


def live_indexer() -> LiveIndexer:
    """The app's background indexer (one per process)."""
    return assembly().live_indexer


def index_status() -> dict[str, Any]:
    """The last written status, with a ``message`` in words and whether it is ``busy``."""
    status = assembly().index_status()
    return {**status, "message": status_message(status), "busy": status.get("state") in BUSY_STATES}


def status_message(status: dict[str, Any]) -> str:
    """One sentence about the search index."""
    state = status.get("state")
    if state == "queued":
        return "Waiting to update the search index…"
    if state == "running":
        return "Updating the search index…"
    if state == "failed":
        return f"Updating the search index failed: {status.get('error') or 'unknown error'}. The previous index is still used."
    if status.get("finished_at"):
        return f"Search index up to date ({status.get('summary') or 'updated'}, at {status['finished_at']})."
    return "Search index up to date."
