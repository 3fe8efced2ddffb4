"""What sellers search for: the most frequent searches."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from kb.insights.counting import most_typed, normalize_query, tally
from kb.searchlog import LoggedSearch, QueryTally, iso_time


@dataclass(frozen=True)
class TopSearch:
    """A search text and how often it was run.

    Attributes:
        text: The wording typed most often (searches are counted casefolded, spaces collapsed).
        count: Times it was searched.
        weak: Of those, times it found no strong match.
        users: Distinct signed-in users who searched it.
        last_seen: When it was last searched (UTC, ISO 8601).
    """

    text: str
    count: int
    weak: int
    users: int
    last_seen: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def top_searches(searches: Iterable[LoggedSearch | QueryTally], limit: int = 20) -> list[TopSearch]:
    """The most frequent searches, most frequent first (ties: most recent first).

    Args:
        searches: Logged searches, or their tallies (:meth:`SearchLog.tallies`).
    """
    groups: dict[str, list[QueryTally]] = {}
    for item in tally(searches):
        groups.setdefault(normalize_query(item.query), []).append(item)
    ranked = sorted(((sum(t.count for t in items), max(t.last_at for t in items), items) for items in groups.values()),
                    key=lambda row: (-row[0], -row[1]))
    if limit <= 0:
        return []
    cut = min(limit, len(ranked))  # the rows to show, and those tied with the last one (the wording decides)
    while cut < len(ranked) and ranked[cut][:2] == ranked[limit - 1][:2]:
        cut += 1
    rows = [(last, TopSearch(text=most_typed(items), count=count, weak=sum(t.weak for t in items),
                             users=len({t.user for t in items if t.user}), last_seen=iso_time(last)))
            for count, last, items in ranked[:cut]]
    rows.sort(key=lambda row: (-row[1].count, -row[0], row[1].text))
    return [row for _, row in rows[:limit]]
