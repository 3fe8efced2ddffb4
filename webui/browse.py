"""The browse list: the cases a reader may see, filtered by facets and sorted by date or title.

Matching and counting are the knowledge base's (:meth:`KnowledgeBase.list_cases` and
:meth:`KnowledgeBase.facets`), so browse filters exactly as search does.
"""

from __future__ import annotations

from typing import Any

from kb.service import KnowledgeBase


def browse_cases(base: KnowledgeBase, filters: dict[str, tuple[str, ...]], sort: str = "date",
                 include_drafts: bool = False) -> tuple[list[dict[str, Any]], dict[str, dict[str, int]]]:
    """The cases matching filters, and the facet counts around them.

    Args:
        base: The knowledge base.
        filters: Field -> accepted values.
        sort: ``date`` (newest first, undated last) or ``title``.
        include_drafts: Show drafts too (marketers and admins).

    Returns:
        The cases' metadata in order, and facet name -> value -> count.
    """
    cases = base.list_cases(filters, sort=sort, include_drafts=include_drafts)
    return cases, base.facets(filters, include_drafts=include_drafts)
