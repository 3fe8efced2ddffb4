"""Searches over time: per day or week, weak and strong, empty buckets included."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kb.searchlog import LoggedSearch


@dataclass(frozen=True)
class TimeBucket:
    """Searches in one day or week (starting on ``start``, a Monday for weeks)."""

    start: str
    searches: int
    weak: int

    @property
    def strong(self) -> int:
        return self.searches - self.weak

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "searches": self.searches, "weak": self.weak, "strong": self.strong}


def timeline(searches: Iterable[LoggedSearch], today: dt.date, start: dt.date | None = None,
             bucket: str = "auto") -> tuple[str, list[TimeBucket]]:
    """Searches per day or week, weak and strong, from ``start`` (default: the first search)
    to today, empty buckets included.

    Args:
        bucket: "day", "week", or "auto" (days for up to 31 days, weeks beyond).

    Returns:
        The bucket used and the buckets, oldest first.
    """
    days: dict[dt.date, tuple[int, int]] = {}
    for search in searches:
        day = dt.datetime.fromtimestamp(search.at, dt.timezone.utc).date()
        count, weak = days.get(day, (0, 0))
        days[day] = (count + 1, weak + int(search.weak))
    return timeline_of_days(days, today, start, bucket)


def timeline_of_days(days: Mapping[dt.date, tuple[int, int]], today: dt.date, start: dt.date | None = None,
                     bucket: str = "auto") -> tuple[str, list[TimeBucket]]:
    """:func:`timeline` from (searches, weak searches) per day (:meth:`SearchLog.daily_counts`)."""
    if start is None:
        if not days:
            return ("day" if bucket == "auto" else bucket), []
        start = min(days)
    start = min(start, today)
    if bucket == "auto":
        bucket = "day" if (today - start).days <= 31 else "week"
    if bucket not in ("day", "week"):
        raise ValueError("bucket must be day, week or auto")

    def key(day: dt.date) -> dt.date:
        return day if bucket == "day" else day - dt.timedelta(days=day.weekday())

    step = dt.timedelta(days=1 if bucket == "day" else 7)
    totals: Counter[dt.date] = Counter()
    weak_totals: Counter[dt.date] = Counter()
    for day, (count, weak) in days.items():
        totals[key(day)] += count
        weak_totals[key(day)] += weak
    out = []
    current = key(start)
    while current <= key(today):
        out.append(TimeBucket(current.isoformat(), totals[current], weak_totals[current]))
        current += step
    return bucket, out
