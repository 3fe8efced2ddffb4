"""The stories an insight counts: the published ones, as sellers find them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kb.visibility import is_visible


def published_cases(doc_meta: Mapping[str, Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """The cases sellers can find (drafts left out, by :func:`kb.visibility.is_visible`), by id."""
    return {case_id: meta for case_id, meta in sorted(doc_meta.items()) if is_visible(meta, include_drafts=False)}
