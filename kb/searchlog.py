"""The search log: what sellers searched for, what came back, and which story they opened.

Kept in the SQLite database (tables ``searches`` and ``opens``). A row holds the query text,
the filters and "like you" profile, the top results with their scores, whether the search
found only weak matches, and the time; the user name is kept when someone was signed in.
Nothing else about the person is stored: no IP address, no user agent. Query embeddings are
not stored either: insights compute them when asked, so the log stays small and survives a
change of model.

Rows older than the retention period (``KB_LOG_RETENTION_DAYS``, default 180; 0 keeps them
forever) are deleted by ``kb insights prune`` and, at most once an hour per process, while
recording.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from kb.db import DatabaseStore, transaction
from kb.errors import ConfigError

#: Days a search is kept when KB_LOG_RETENTION_DAYS is not set.
DEFAULT_RETENTION_DAYS = 180
#: Results kept per search (the first page a seller sees).
LOGGED_RESULTS = 10
#: Longest query text kept, in characters (the search engine's own limit).
MAX_LOGGED_QUERY = 2000
#: Seconds between automatic prunes while recording.
PRUNE_EVERY = 3600
#: Opens of the same case from the same search by the same user within this many seconds
#: count once (a reload is not a second read).
OPEN_DEDUP_SECONDS = 30 * 60
#: The user name of rows written by ``kb insights seed-demo``.
DEMO_USER = "demo"

#: Columns of :meth:`SearchLog.export_csv`, in order.
CSV_COLUMNS = ("id", "time", "user", "query", "filters", "profile", "mode", "weak", "result_ids",
               "result_scores", "opened")

_DAY = 86400.0
#: Database path -> when this process prunes it next.
_NEXT_PRUNE: dict[str, float] = {}


def retention_days(environ: Mapping[str, str] | None = None) -> int:
    """Days searches are kept: ``KB_LOG_RETENTION_DAYS`` (0 = forever), default 180.

    Raises:
        ConfigError: The variable is not a whole number of days, 0 or more.
    """
    environ = os.environ if environ is None else environ
    return whole_number_setting(environ, "KB_LOG_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)


def whole_number_setting(environ: Mapping[str, str], name: str, default: int) -> int:
    """A setting that is a whole number, 0 or more, from an environment variable (default when unset)."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise ConfigError(f"{name} must be a whole number, 0 or more (got {raw!r})")
    return value


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


class SearchLog(DatabaseStore):
    """The search log in the SQLite database.

    Args:
        path: The SQLite database file (``settings.database_path``).
        clock: Returns the current time in seconds (injectable for tests).
        retention: Days to keep (0 = forever); None reads ``KB_LOG_RETENTION_DAYS``.

    Make one per thread or per web request (like :class:`kb.users.UserStore`): its connection
    must not run two threads' statements at once.
    """

    def __init__(self, path: Path | str, clock=time.time, retention: int | None = None):
        super().__init__(path)
        self._clock = clock
        self._prune_key = str(self.path.resolve())  # once: resolving is a few system calls
        self.retention = retention_days() if retention is None else retention
        if self.retention < 0:
            raise ConfigError("the retention must be 0 (keep forever) or more days")

    # -- writing -----------------------------------------------------------------------

    def record_search(self, query: str, filters: Mapping[str, Any] | None, profile: Mapping[str, Any] | None,
                      results: Sequence[tuple[str, float]], weak: bool, user: str | None = None,
                      mode: str = "hybrid", at: float | None = None) -> int:
        """Log a search and return its id (to link the stories opened from it).

        Args:
            query: The situation as the seller typed it (cut to 2,000 characters).
            filters: Field -> values; empty values are dropped.
            profile: "Like you" attributes; empty values are dropped.
            results: (case id, score) best first; the first 10 are kept.
            weak: The search had no strong match.
            user: The signed-in user's name, or None.
            at: The time of the search (default: now; for importing and demos).

        Raises:
            ValueError: The query is blank.
        """
        text = " ".join(str(query or "").split())[:MAX_LOGGED_QUERY]
        if not text:
            raise ValueError("a logged search needs its query text")
        now = self._clock() if at is None else float(at)
        kept = [[str(case_id), round(float(score), 4)] for case_id, score in list(results)[:LOGGED_RESULTS]]
        self._maybe_prune()
        cursor = self.db.execute(
            "INSERT INTO searches (at, user, query, filters, profile, mode, results, weak) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (now, user or None, text, _json(_clean_filters(filters)), _json(_clean_profile(profile)),
             mode, _json(kept), int(bool(weak))))
        return int(cursor.lastrowid)

    def record_response(self, response, filters: Mapping[str, Any] | None = None,
                        profile: Mapping[str, Any] | None = None, user: str | None = None,
                        mode: str = "hybrid", at: float | None = None) -> int:
        """Log a :class:`kb.search.Response`: its query, top results, and weak when it has
        no result or only weak ones."""
        results = [(result.id, result.score) for result in response.results]
        weak = not response.results or all(result.weak for result in response.results)
        return self.record_search(response.query, filters, profile, results, weak, user=user, mode=mode, at=at)

    def record_open(self, search_id: int | None, case_id: str, user: str | None = None,
                    at: float | None = None) -> int | None:
        """Log that a story was opened, from a search or directly; return the row id.

        The search id usually comes from a link (a URL parameter), so it is not trusted: it is
        kept only when that search exists and was made by the same user (or anonymously);
        otherwise the open is logged as direct. The same story opened again from the same
        search by the same user within 30 minutes counts once (None is returned then).
        """
        now = self._clock() if at is None else float(at)
        user = user or None
        link = None
        if search_id is not None:
            try:
                row = self.db.execute("SELECT user FROM searches WHERE id = ?", (int(search_id),)).fetchone()
            except (TypeError, ValueError, OverflowError):
                row = None
            if row is not None and (row["user"] is None or row["user"] == user):
                link = int(search_id)
        if link is not None or user is not None:
            seen = self.db.execute(
                "SELECT 1 FROM opens WHERE case_id = ? AND search_id IS ? AND user IS ? AND at > ?",
                (case_id, link, user, now - OPEN_DEDUP_SECONDS)).fetchone()
            if seen:
                return None
        self._maybe_prune()
        cursor = self.db.execute("INSERT INTO opens (at, search_id, case_id, user) VALUES (?, ?, ?, ?)",
                                 (now, link, str(case_id), user))
        return int(cursor.lastrowid)

    def prune(self, retention_days: int | None = None) -> tuple[int, int]:
        """Delete searches and opens older than the retention; return how many of each.

        Args:
            retention_days: Days to keep (default: the log's retention; 0 keeps everything).
        """
        days = self.retention if retention_days is None else retention_days
        if days < 0:
            raise ConfigError("the retention must be 0 (keep forever) or more days")
        if days == 0:
            return 0, 0
        cutoff = self._clock() - days * _DAY

        def delete(db):
            searches = db.execute("DELETE FROM searches WHERE at < ?", (cutoff,)).rowcount
            opens = db.execute("DELETE FROM opens WHERE at < ?", (cutoff,)).rowcount
            return searches, opens

        return transaction(self.db, delete)

    def remove_user(self, user: str) -> tuple[int, int]:
        """Delete every search and open of a user (e.g. the ``demo`` rows); return the counts."""
        def delete(db):
            opens = db.execute("DELETE FROM opens WHERE user = ? OR search_id IN "
                               "(SELECT id FROM searches WHERE user = ?)", (user, user)).rowcount
            searches = db.execute("DELETE FROM searches WHERE user = ?", (user,)).rowcount
            return searches, opens

        return transaction(self.db, delete)

    def _maybe_prune(self) -> None:
        """Prune when this process last pruned this database an hour ago or more (or the clock
        went back), however many SearchLog objects it made (e.g. one per web request)."""
        now = self._clock()
        due = _NEXT_PRUNE.get(self._prune_key, 0.0)
        if now >= due or now < due - PRUNE_EVERY:
            _NEXT_PRUNE[self._prune_key] = now + PRUNE_EVERY
            self.prune()

    # -- reading -----------------------------------------------------------------------

    def searches(self, since: float | None = None) -> Iterator[LoggedSearch]:
        """Logged searches at or after ``since`` (seconds; None = all), oldest first, each with
        the stories opened from it."""
        opened: dict[int, list[str]] = {}
        for row in self.db.execute("SELECT search_id, case_id FROM opens WHERE search_id IS NOT NULL "
                                   "AND at >= ? ORDER BY at, id", (since or 0.0,)):
            opened.setdefault(row["search_id"], []).append(row["case_id"])
        for row in self.db.execute("SELECT * FROM searches WHERE at >= ? ORDER BY at, id", (since or 0.0,)):
            yield LoggedSearch(id=row["id"], at=row["at"], user=row["user"], query=row["query"],
                               filters=json.loads(row["filters"]), profile=json.loads(row["profile"]),
                               mode=row["mode"], results=[(r[0], r[1]) for r in json.loads(row["results"])],
                               weak=bool(row["weak"]), opened=opened.get(row["id"], []))

    def opens(self, since: float | None = None) -> Iterator[LoggedOpen]:
        """Logged opens at or after ``since`` (None = all), oldest first."""
        for row in self.db.execute("SELECT * FROM opens WHERE at >= ? ORDER BY at, id", (since or 0.0,)):
            yield LoggedOpen(id=row["id"], at=row["at"], search_id=row["search_id"], case_id=row["case_id"],
                             user=row["user"])

    def counts(self) -> dict[str, int]:
        """How many searches (and of them weak) and opens the log holds."""
        searches, weak = self.db.execute("SELECT COUNT(*), COALESCE(SUM(weak), 0) FROM searches").fetchone()
        opens = self.db.execute("SELECT COUNT(*) FROM opens").fetchone()[0]
        return {"searches": searches, "weak": weak, "opens": opens}

    def export_csv(self, out: TextIO, since: float | None = None) -> int:
        """Write one CSV row per logged search (columns :data:`CSV_COLUMNS`); return the count.

        ``result_ids`` and ``result_scores`` are space-separated, best first; ``opened`` lists
        the stories opened from the search. A query starting with ``=``, ``+``, ``-``, ``@``
        or a tab gets a leading ``'`` so a spreadsheet shows it instead of running it as a formula.
        Open ``out`` with ``newline=""``.
        """
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        count = 0
        for search in self.searches(since):
            writer.writerow([
                search.id, search.time, search.user or "", _spreadsheet_safe(search.query),
                _json(search.filters), _json(search.profile), search.mode, "true" if search.weak else "false",
                " ".join(case_id for case_id, _ in search.results),
                " ".join(f"{score:g}" for _, score in search.results),
                " ".join(search.opened),
            ])
            count += 1
        return count

def iso_time(seconds: float) -> str:
    """A UTC timestamp as 2026-11-23T15:44:27Z."""
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _clean_filters(filters: Mapping[str, Any] | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, values in (filters or {}).items():
        values = [values] if isinstance(values, str) else list(values or ())
        kept = [str(v).strip() for v in values if str(v).strip()]
        if kept:
            out[str(key)] = kept
    return out


def _clean_profile(profile: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(key): str(value).strip() for key, value in (profile or {}).items()
            if value is not None and str(value).strip()}


def _spreadsheet_safe(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


__all__ = ["CSV_COLUMNS", "DEMO_USER", "LoggedOpen", "LoggedSearch", "SearchLog", "iso_time", "retention_days"]
