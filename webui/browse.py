"""The browse list: every published case, filtered by facets and sorted by date or title.

Matching follows the search's filters: any of a field's values, every field; values compare
without regard to case; ``stage`` matches the stages a story tells.
"""

from __future__ import annotations

from typing import Any

from kb.search import SearchRequest
from kb.service import KnowledgeBase


def browse_cases(base: KnowledgeBase, filters: dict[str, tuple[str, ...]],
                 sort: str = "date") -> tuple[list[dict[str, Any]], dict[str, dict[str, int]]]:
    """The published cases matching filters, and the facet counts around them.

    Args:
        base: The knowledge base.
        filters: Field -> accepted values.
        sort: ``date`` (newest first, undated last) or ``title``.

    Returns:
        The cases' metadata in order, and facet name -> value -> count.
    """
    engine = base.engine()
    cases = [meta for meta in engine.version.doc_meta.values()
             if meta.get("status") != "draft" and _matches(meta, filters)]
    if sort == "title":
        cases.sort(key=lambda meta: (str(meta.get("title") or "").casefold(), meta["id"]))
    else:
        cases.sort(key=lambda meta: str(meta.get("title") or "").casefold())
        cases.sort(key=lambda meta: meta.get("published") or "", reverse=True)
    return cases, facet_counts(base, filters)


def facet_counts(base: KnowledgeBase, filters: dict[str, tuple[str, ...]]) -> dict[str, dict[str, int]]:
    """Facet counts over the published cases, each facet counted under every other filter."""
    return base.engine().facet_counts(SearchRequest(text="", filters=filters))


def _matches(meta: dict[str, Any], filters: dict[str, tuple[str, ...]]) -> bool:
    for field, wanted in filters.items():
        raw = meta.get("stages") if field == "stage" else meta.get(field)
        values = {raw} if isinstance(raw, str) else set(raw or ())
        if not {str(v).casefold() for v in values} & {w.casefold() for w in wanted}:
            return False
    return True
