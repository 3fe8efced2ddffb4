"""Which stories are used: never in a search's top results, never opened, most opened."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from kb.insights.published import published_cases
from kb.searchlog import LoggedOpen, LoggedSearch


@dataclass(frozen=True)
class CaseActivity:
    """How often a published story was in a search's top results, and opened."""

    id: str
    title: str
    shown: int
    opened: int
    opened_from_search: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Activity:
    """Stories by use: never in any search's top results, never opened, most opened."""

    never_shown: list[CaseActivity]
    never_opened: list[CaseActivity]
    most_opened: list[CaseActivity]

    def to_dict(self) -> dict[str, Any]:
        return {name: [c.to_dict() for c in getattr(self, name)]
                for name in ("never_shown", "never_opened", "most_opened")}


def case_activity(doc_meta: Mapping[str, Mapping[str, Any]], searches: Iterable[LoggedSearch],
                  opens: Iterable[LoggedOpen], limit: int = 10) -> Activity:
    """Count, for each published story, the searches that showed it and the times it was opened."""
    shown: Counter[str] = Counter()
    for search in searches:
        shown.update({case_id for case_id, _ in search.results})
    opened: dict[str, tuple[int, int]] = {}
    for item in opens:
        count, from_search = opened.get(item.case_id, (0, 0))
        opened[item.case_id] = (count + 1, from_search + (item.search_id is not None))
    return activity(doc_meta, shown, opened, limit)


def activity(doc_meta: Mapping[str, Mapping[str, Any]], shown: Mapping[str, int],
             opened: Mapping[str, tuple[int, int]], limit: int = 10) -> Activity:
    """The use of each published story from counts (:meth:`SearchLog.shown_counts`,
    :meth:`SearchLog.open_counts`): searches that showed it; opens, and opens from a search."""
    rows = [CaseActivity(case_id, meta.get("title") or case_id, shown.get(case_id, 0), *opened.get(case_id, (0, 0)))
            for case_id, meta in published_cases(doc_meta).items()]
    most = sorted((r for r in rows if r.opened), key=lambda r: (-r.opened, -r.shown, r.id))[:limit]
    return Activity(never_shown=[r for r in rows if not r.shown],
                    never_opened=sorted((r for r in rows if not r.opened), key=lambda r: (-r.shown, r.id)),
                    most_opened=most)
