"""Who may see a story: the one rule every reader of the index applies.

A draft is a story a marketer has not published yet. It is indexed (so marketers can search
and preview it) but never shown to anyone who may not read drafts: not in results, facets,
the peer ranking, similar stories, insights, understood attributes or the story page.
A story without a status is published. Security-relevant: change it here only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The status of a story that only marketers and admins may see.
DRAFT = "draft"


def is_draft(meta: Mapping[str, Any]) -> bool:
    """Whether the story of this metadata is a draft (its status, in any case, is "draft")."""
    status = meta.get("status")
    return isinstance(status, str) and status.strip().casefold() == DRAFT


def is_visible(meta: Mapping[str, Any], include_drafts: bool) -> bool:
    """Whether a reader sees the story: every published one, drafts only with ``include_drafts``."""
    return include_drafts or not is_draft(meta)
