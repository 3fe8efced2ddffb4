"""The search log's SQLite repository: recording searches and opens, pruning, and counting
in SQL what the insights report needs (tables ``searches`` and ``opens``, see :mod:`kb.db`)."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from kb.db import DatabaseStore, transaction
from kb.errors import ConfigError
from kb.searchlog import vectors as vector_cache
from kb.searchlog.export import write_csv
from kb.searchlog.pruning import PruneSchedule
from kb.searchlog.records import LoggedOpen, LoggedSearch, QueryTally, compact_json

#: Days a search is kept by default (0 keeps them forever).
DEFAULT_RETENTION_DAYS = 180
#: Results kept per search (the first page a seller sees).
LOGGED_RESULTS = 10
#: Longest query text kept, in characters (the search engine's own limit).
MAX_LOGGED_QUERY = 2000
#: Opens of the same case from the same search by the same user within this many seconds
#: count once (a reload is not a second read).
OPEN_DEDUP_SECONDS = 30 * 60

_DAY = 86400.0


class SearchLog(DatabaseStore):
    """The search log in the SQLite database.

    Args:
        path: The SQLite database file (``settings.database_path``).
        clock: Returns the current time in seconds (injectable for tests).
        retention: Days to keep (0 = forever), default 180.
        schedule: When recording prunes next: share one per database among the logs made
            of it (e.g. one per web request); default, a schedule of this log's own.

    Raises:
        ConfigError: The retention is negative.

    Make one per thread or per web request (like :class:`kb.users.UserStore`): its connection
    must not run two threads' statements at once.
    """

    def __init__(self, path: Path | str, clock=time.time, retention: int = DEFAULT_RETENTION_DAYS,
                 schedule: PruneSchedule | None = None):
        super().__init__(path)
        self._clock = clock
        self.retention = _checked_retention(retention)
        self.schedule = schedule if schedule is not None else PruneSchedule()

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
            (now, user or None, text, compact_json(_clean_filters(filters)), compact_json(_clean_profile(profile)),
             mode, compact_json(kept), int(bool(weak))))
        return int(cursor.lastrowid)

    def record_response(self, response, filters: Mapping[str, Any] | None = None,
                        profile: Mapping[str, Any] | None = None, user: str | None = None,
                        mode: str = "hybrid", at: float | None = None) -> int:
        """Log a :class:`kb.search.Response`: its query, top results, and weak when it has
        no result or only weak ones."""
        results = [(result.id, result.score) for result in response.results]
        return self.record_search(response.query, filters, profile, results, response.no_strong_match, user=user,
                                  mode=mode, at=at)

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
        """Delete searches and opens older than the retention, and the cached vectors no
        report used for that long; return how many searches and opens.

        Args:
            retention_days: Days to keep (default: the log's retention; 0 keeps everything).
        """
        days = self.retention if retention_days is None else _checked_retention(retention_days)
        if days == 0:
            return 0, 0
        cutoff = self._clock() - days * _DAY

        def delete(db):
            searches = db.execute("DELETE FROM searches WHERE at < ?", (cutoff,)).rowcount
            opens = db.execute("DELETE FROM opens WHERE at < ?", (cutoff,)).rowcount
            vector_cache.drop_unused_vectors(db, cutoff)
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
        """Prune when the log's schedule says a prune is due (see :mod:`kb.searchlog.pruning`)."""
        if self.schedule.due(self._clock()):
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

    def tallies(self, since: float | None = None) -> list[QueryTally]:
        """The searches at or after ``since`` counted per query text and user, in one SQL
        pass: the insights' Python work grows with distinct texts, not with searches."""
        rows = self.db.execute(
            "SELECT query, user, COUNT(*), SUM(weak), MAX(at), MAX(id), MAX(CASE WHEN weak = 1 THEN at END), "
            "MAX(CASE WHEN weak = 1 THEN id END) FROM searches WHERE at >= ? GROUP BY query, user",
            (since or 0.0,))
        return [QueryTally(*row) for row in rows]

    def daily_counts(self, since: float | None = None) -> dict[dt.date, tuple[int, int]]:
        """Searches, and of them weak ones, per UTC day, at or after ``since``."""
        epoch = dt.date(1970, 1, 1)
        rows = self.db.execute("SELECT CAST(at / 86400 AS INTEGER) AS day, COUNT(*), SUM(weak) FROM searches "
                               "WHERE at >= ? GROUP BY day", (since or 0.0,))
        return {epoch + dt.timedelta(days=day): (count, weak) for day, count, weak in rows}

    def shown_counts(self, since: float | None = None) -> Counter[str]:
        """How many searches at or after ``since`` had each case among their logged results.

        Reads only the results column (parsing it here is faster than SQLite's json_each).
        """
        shown: Counter[str] = Counter()
        for (results,) in self.db.execute("SELECT results FROM searches WHERE at >= ?", (since or 0.0,)):
            shown.update({case_id for case_id, _ in json.loads(results)})
        return shown

    def open_counts(self, since: float | None = None) -> dict[str, tuple[int, int]]:
        """Per case: the opens at or after ``since``, and how many of them came from a search."""
        rows = self.db.execute("SELECT case_id, COUNT(*), COUNT(search_id) FROM opens WHERE at >= ? "
                               "GROUP BY case_id", (since or 0.0,))
        return {case_id: (opened, from_search) for case_id, opened, from_search in rows}

    def state(self) -> tuple:
        """A value that changes whenever searches or opens are added or deleted (what a cached
        report is keyed on); a few index lookups and counts."""
        searches = tuple(self.db.execute("SELECT COUNT(*), MAX(id), MAX(at) FROM searches").fetchone())
        opens = tuple(self.db.execute("SELECT COUNT(*), MAX(id), MAX(at) FROM opens").fetchone())
        return searches + opens

    def counts(self) -> dict[str, int]:
        """How many searches (and of them weak) and opens the log holds."""
        searches, weak = self.db.execute("SELECT COUNT(*), COALESCE(SUM(weak), 0) FROM searches").fetchone()
        opens = self.db.execute("SELECT COUNT(*) FROM opens").fetchone()[0]
        return {"searches": searches, "weak": weak, "opens": opens}

    def export_csv(self, out: TextIO, since: float | None = None) -> int:
        """Write the searches at or after ``since`` as CSV (:func:`kb.searchlog.export.write_csv`);
        return the count. Open ``out`` with ``newline=""``."""
        return write_csv(self.searches(since), out)

    # -- cached vectors of the grouped wordings (kb.searchlog.vectors) ------------------

    def cached_vectors(self, model: str, texts: Sequence[str]) -> dict[str, bytes]:
        """The cached vectors (float32 bytes) of those texts under a model, by text; the ones
        found are marked as used (at most once a day each)."""
        return vector_cache.cached_vectors(self.db, model, texts, self._clock()) if texts else {}

    def store_vectors(self, model: str, vectors: Mapping[str, bytes]) -> None:
        """Cache vectors (float32 bytes) of texts under a model; beyond
        :data:`kb.searchlog.vectors.MAX_CACHED_VECTORS` the least recently used are dropped."""
        if vectors:
            vector_cache.store_vectors(self.db, model, vectors, self._clock())


def _checked_retention(days: int) -> int:
    if days < 0:
        raise ConfigError("the retention must be 0 (keep forever) or more days")
    return days


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
