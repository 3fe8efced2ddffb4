"""Stale stories: published ones old enough that their numbers and quotes may no longer hold."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from kb.insights.published import published_cases

#: Months after which a published story counts as stale, unless the caller says otherwise
#: (the settings' stale months, the page's ``stale_months``, ``--stale-months``).
DEFAULT_STALE_MONTHS = 24


@dataclass(frozen=True)
class StaleCase:
    """A published story and how old it is."""

    id: str
    title: str
    published: str | None
    months: int | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole months from start to end (2024-01-31 to 2024-02-29 is 0, to 2024-03-01 is 1)."""
    return (end.year - start.year) * 12 + end.month - start.month - (1 if end.day < start.day else 0)


def stale_cases(doc_meta: Mapping[str, Mapping[str, Any]], months: int,
                today: dt.date) -> tuple[list[StaleCase], list[StaleCase]]:
    """Published stories published ``months`` whole months or more before today, oldest
    first; and, separately, the published stories with no (readable) date."""
    stale, undated = [], []
    for case_id, meta in published_cases(doc_meta).items():
        title = meta.get("title") or case_id
        try:
            published = dt.date.fromisoformat(str(meta.get("published"))[:10])
        except ValueError:
            undated.append(StaleCase(case_id, title, None, None))
            continue
        age = months_between(published, today)
        if age >= months:
            stale.append(StaleCase(case_id, title, published.isoformat(), age))
    stale.sort(key=lambda c: (c.published, c.id))
    return stale, undated
