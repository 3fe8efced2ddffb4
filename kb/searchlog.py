"""The search log: what sellers searched for, what came back, and which story they opened.

Kept in the SQLite database (tables ``searches`` and ``opens``). A row holds the query text,
the filters and "like you" profile, the top results with their scores, whether the search
found only weak matches, and the time; the user name is kept when someone was signed in.
Nothing else about the person is stored: no IP address, no user agent. A search's embedding
is not stored with it either; insights embed the distinct weak wordings they group and cache
those vectors (table ``query_vectors``, keyed by model and wording, no user), so the log
survives a change of model and a wording is embedded once.

Rows older than the retention period (``KB_LOG_RETENTION_DAYS``, default 180; 0 keeps them
forever), and cached vectors no report used in that period, are deleted by ``kb insights
prune`` and, at most once an hour per process, while recording.

The web layer logs at most ``KB_LOG_SEARCHES_PER_MINUTE`` searches (and as many opens) per
client and minute (:class:`RateLimiter`), so one client cannot fill the log and, through it, the
work of the insights report.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import threading
import time
from collections import Counter, OrderedDict, deque
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
#: Searches (and, separately, story opens) logged per client and minute when
#: KB_LOG_SEARCHES_PER_MINUTE is not set; beyond it a search is answered but not logged.
DEFAULT_SEARCHES_PER_MINUTE = 30
#: Clients a :class:`RateLimiter` keeps track of at most (its memory bound).
MAX_TRACKED_CLIENTS = 10_000
#: Cached query vectors kept at most (least recently used go first); about 1.5 KB each.
MAX_CACHED_VECTORS = 20_000
#: Seconds between refreshes of a cached vector's "last used" time (fewer writes on reads).
VECTOR_TOUCH_SECONDS = 86400.0

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


def searches_per_minute(environ: Mapping[str, str] | None = None) -> int:
    """Searches logged per client and minute: ``KB_LOG_SEARCHES_PER_MINUTE`` (0 = no limit), default 30.

    Raises:
        ConfigError: The variable is not a whole number, 0 or more.
    """
    environ = os.environ if environ is None else environ
    return whole_number_setting(environ, "KB_LOG_SEARCHES_PER_MINUTE", DEFAULT_SEARCHES_PER_MINUTE)


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
        return self.record_search(response.query, filters, profile, results, response.no_strong_match, user=user, mode=mode, at=at)

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
            db.execute("DELETE FROM query_vectors WHERE used_at < ?", (cutoff,))  # no report used them
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

    # -- cached vectors of the grouped wordings -----------------------------------------

    def cached_vectors(self, model: str, texts: Sequence[str]) -> dict[str, bytes]:
        """The cached vectors (float32 bytes) of those texts under a model, by text.

        The ones found are marked as used (at most once a day each, to keep reads from writing).
        """
        if not texts:
            return {}
        wanted = _json(list(texts))
        found = {text: bytes(vector) for text, vector in self.db.execute(
            "SELECT query, vector FROM query_vectors WHERE model = ? AND query IN (SELECT value FROM json_each(?))",
            (model, wanted))}
        if found:
            now = self._clock()
            self.db.execute("UPDATE query_vectors SET used_at = ? WHERE model = ? AND used_at < ? "
                            "AND query IN (SELECT value FROM json_each(?))",
                            (now, model, now - VECTOR_TOUCH_SECONDS, _json(list(found))))
        return found

    def store_vectors(self, model: str, vectors: Mapping[str, bytes]) -> None:
        """Cache vectors (float32 bytes) of texts under a model; beyond :data:`MAX_CACHED_VECTORS`
        the least recently used are dropped."""
        if not vectors:
            return
        now = self._clock()

        def store(db):
            db.executemany("INSERT OR REPLACE INTO query_vectors (model, query, vector, used_at) VALUES (?, ?, ?, ?)",
                           [(model, text, vector, now) for text, vector in vectors.items()])
            extra = db.execute("SELECT COUNT(*) FROM query_vectors").fetchone()[0] - MAX_CACHED_VECTORS
            if extra > 0:
                db.execute("DELETE FROM query_vectors WHERE (model, query) IN "
                           "(SELECT model, query FROM query_vectors ORDER BY used_at LIMIT ?)", (extra,))

        transaction(self.db, store)

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

class RateLimiter:
    """At most ``limit`` events per client in any ``window`` seconds (0 = no limit).

    Kept in this process's memory: with several worker processes each counts on its own, so
    a client may get up to workers x limit. The memory is bounded: at most ``max_clients``
    clients are tracked, each with at most ``limit`` times. When the table is full, the
    clients seen least recently that had no event in the last window are forgotten; when
    every tracked client is still active, a new client is refused until one goes quiet, so
    a flood from many addresses fills neither this table nor what it protects.

    Thread-safe.
    """

    def __init__(self, limit: int, window: float = 60.0, max_clients: int = MAX_TRACKED_CLIENTS,
                 clock=time.monotonic):
        if limit < 0 or window <= 0 or max_clients < 1:
            raise ValueError("a rate limit needs a limit of 0 or more, a window and room for a client")
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self._clock = clock
        self._clients: OrderedDict[Any, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, client: Any) -> bool:
        """Count an event of ``client`` and return True, or return False (not counted) when
        the client already had ``limit`` events in the last window."""
        if self.limit == 0:
            return True
        now = self._clock()
        with self._lock:
            times = self._clients.get(client)
            if times is None:
                if len(self._clients) >= self.max_clients and not self._forget_quiet(now):
                    return False
                times = self._clients[client] = deque(maxlen=self.limit)
            else:
                self._clients.move_to_end(client)
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.limit:
                return False
            times.append(now)
            return True

    def __len__(self) -> int:
        """Clients tracked."""
        return len(self._clients)

    def _forget_quiet(self, now: float) -> bool:
        """Forget the least recently seen clients while their last event is a window old;
        True when there is room for a new client."""
        while self._clients:
            client, times = next(iter(self._clients.items()))
            if times and times[-1] > now - self.window:
                break
            del self._clients[client]
        return len(self._clients) < self.max_clients


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


__all__ = ["CSV_COLUMNS", "DEFAULT_SEARCHES_PER_MINUTE", "DEMO_USER", "LoggedOpen", "LoggedSearch", "QueryTally",
           "RateLimiter", "SearchLog", "iso_time", "retention_days", "searches_per_minute"]
