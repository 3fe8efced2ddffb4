"""What the search log holds: a logged search, a logged open, and a query's tally."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

#: The user name of the demo rows (``kb insights seed-demo`` writes them; the report counts them).
DEMO_USER = "demo"


@dataclass(frozen=True)
class LoggedSearch:
    """One logged search.

    Attributes:
        results: The top results as (case id, score), best first.
        weak: True when the search had no strong match (no result, or only weak ones).
        opened: Ids of the cases opened from this search, in the order they were opened.
    """

    id: int
    at: float
    user: str | None
    query: str
    filters: dict[str, list[str]]
    profile: dict[str, str]
    mode: str
    results: list[tuple[str, float]]
    weak: bool
    opened: list[str] = field(default_factory=list)

    @property
    def time(self) -> str:
        return iso_time(self.at)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "time": self.time, "user": self.user, "query": self.query,
                "filters": self.filters, "profile": self.profile, "mode": self.mode,
                "results": [{"id": case_id, "score": score} for case_id, score in self.results],
                "weak": self.weak, "opened": self.opened}


@dataclass(frozen=True)
class LoggedOpen:
    """A story opened, from a logged search (``search_id``) or directly (None)."""

    id: int
    at: float
    search_id: int | None
    case_id: str
    user: str | None


@dataclass(frozen=True)
class QueryTally:
    """The searches of one query text (as logged) by one user in a period, counted in SQL:
    what the frequent searches and the stories to write next are computed from.

    Attributes:
        user: The signed-in user, or None for anonymous searches.
        count: Searches of this text by this user.
        weak: Of those, the searches with no strong match.
        last_at, last_id: Time and largest id of the last of them.
        last_weak_at, last_weak_id: The same for the weak ones (None when none was weak).
    """

    query: str
    user: str | None
    count: int
    weak: int
    last_at: float
    last_id: int
    last_weak_at: float | None = None
    last_weak_id: int | None = None


def iso_time(seconds: float) -> str:
    """A UTC timestamp as 2026-11-23T15:44:27Z."""
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def compact_json(value: Any) -> str:
    """The log's JSON form of a value: keys sorted, no spaces, non-ASCII kept as is."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
