"""The search log: what sellers searched for, what came back, and which story they opened.

Kept in the SQLite database (tables ``searches`` and ``opens``). A row holds the query text,
the filters and "like you" profile, the top results with their scores, whether the search
found only weak matches, and the time; the user name is kept when someone was signed in.
Nothing else about the person is stored: no IP address, no user agent. A search's embedding
is not stored with it either; insights embed the distinct weak wordings they group and cache
those vectors (table ``query_vectors``, keyed by model and wording, no user), so the log
survives a change of model and a wording is embedded once.

Rows older than the retention (a :class:`SearchLog` argument, default 180 days; 0 keeps them
forever), and cached vectors no report used in that period, are deleted by ``kb insights
prune`` and, at most once an hour per :class:`PruneSchedule`, while recording.

The web layer logs at most a set number of searches (and as many opens) per client and
minute (:class:`RateLimiter`, default 30), so one client cannot fill the log and, through it,
the work of the insights report. Settings (retention, the limit) are read by the caller and
handed in; nothing here reads the environment.

Modules: :mod:`~kb.searchlog.records` (what a row is), :mod:`~kb.searchlog.store` (the
SQLite repository), :mod:`~kb.searchlog.pruning` (when recording prunes),
:mod:`~kb.searchlog.vectors` (the cached vectors), :mod:`~kb.searchlog.export` (CSV),
:mod:`~kb.searchlog.rate_limit` (the per-client limit).
"""

from kb.searchlog.export import CSV_COLUMNS, write_csv
from kb.searchlog.pruning import PRUNE_EVERY, PruneSchedule
from kb.searchlog.rate_limit import DEFAULT_SEARCHES_PER_MINUTE, MAX_TRACKED_CLIENTS, RateLimiter
from kb.searchlog.records import DEMO_USER, LoggedOpen, LoggedSearch, QueryTally, iso_time
from kb.searchlog.store import (DEFAULT_RETENTION_DAYS, LOGGED_RESULTS, MAX_LOGGED_QUERY, OPEN_DEDUP_SECONDS,
                                SearchLog)

__all__ = [
    "CSV_COLUMNS",
    "DEFAULT_RETENTION_DAYS",
    "DEFAULT_SEARCHES_PER_MINUTE",
    "DEMO_USER",
    "LOGGED_RESULTS",
    "MAX_LOGGED_QUERY",
    "MAX_TRACKED_CLIENTS",
    "OPEN_DEDUP_SECONDS",
    "PRUNE_EVERY",
    "LoggedOpen",
    "LoggedSearch",
    "PruneSchedule",
    "QueryTally",
    "RateLimiter",
    "SearchLog",
    "iso_time",
    "write_csv",
]
