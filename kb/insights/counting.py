"""How searches are counted: one form per wording, tallies per query text and user, and the
wording shown for a group of them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from kb.searchlog import LoggedSearch, QueryTally


def normalize_query(text: str) -> str:
    """The form searches are counted under: casefolded, whitespace collapsed."""
    return " ".join(text.casefold().split())


def tally(searches: Iterable[LoggedSearch | QueryTally]) -> list[QueryTally]:
    """Searches counted per query text and user, as :meth:`SearchLog.tallies` counts them in
    SQL (tallies given are kept as they are)."""
    tallies: list[QueryTally] = []
    rows: dict[tuple[str, str | None], dict[str, Any]] = {}
    for search in searches:
        if isinstance(search, QueryTally):
            tallies.append(search)
            continue
        last = (search.at, search.id)
        row = rows.setdefault((search.query, search.user), {"count": 0, "weak": 0, "last": last, "last_weak": None})
        row["count"] += 1
        row["last"] = max(row["last"], last)
        if search.weak:
            row["weak"] += 1
            row["last_weak"] = last if row["last_weak"] is None else max(row["last_weak"], last)
    tallies.extend(QueryTally(query, user, row["count"], row["weak"], *row["last"], *(row["last_weak"] or (None, None)))
                   for (query, user), row in rows.items())
    return tallies


def most_typed(items: Sequence[QueryTally], weak: bool = False) -> str:
    """The wording typed most often (ties: the most recent), of the weak searches only when ``weak``."""
    counts: Counter[str] = Counter()
    latest: dict[str, tuple] = {}
    for t in items:
        counts[t.query] += t.weak if weak else t.count
        last = (t.last_weak_at, t.last_weak_id) if weak else (t.last_at, t.last_id)
        if last[0] is not None:
            latest[t.query] = max(latest.get(t.query, last), last)
    return max((text for text in counts if counts[text]), key=lambda text: (counts[text], latest[text]))
