"""Logging searches and opened stories from the web (:mod:`kb.searchlog` does the storing).

Every search with a query, on the search page (its results fragment too: a filter change is
a new search) or through ``GET /api/search``, is logged with the signed-in user's name (None
when anonymous); its id travels in the result links as ``sid``, so the story page can log
that the story was opened from that search. Logging is one INSERT (well under a millisecond)
on a connection kept open per thread (:mod:`webui.stores`); when it fails the search is answered anyway and the
failure goes to the app log.

Since anyone who can search can write to the log, and the insights report works on it, not
everything is logged: anonymous visitors only when ``KB_LOG_ANONYMOUS`` is on, and at most
``KB_LOG_SEARCHES_PER_MINUTE`` searches (and as many opens) per client and minute, the
client being the signed-in user, else the address (``request.remote_addr``, the proxy's
client with ``KB_PROXY_HOPS``). Beyond that the search is answered as usual, with no
``search_id``. The count is kept in each worker process's memory (:class:`kb.searchlog.RateLimiter`,
bounded), so with several workers a client may get up to workers x the limit. Those settings,
and the log's retention, are the app's assembly's (:func:`webui.stores.assembly`).

The app owns what its per-thread logs share: the limiter and the prune schedule
(:class:`kb.searchlog.PruneSchedule`), so recording prunes the database at most once an hour
per app and process however many threads log.
"""

from __future__ import annotations

import sqlite3

from flask import current_app, request

from kb.errors import ConfigError
from kb.searchlog import RateLimiter, SearchLog
from webui.auth import current_user
from webui.params import SearchArgs
from webui.stores import assembly, thread_store

#: Longest ``sid`` read from a link (a larger number is no search of ours).
_MAX_SID_DIGITS = 18
#: What may go wrong while logging, and is then only reported.
_LOG_ERRORS = (sqlite3.Error, OSError, ValueError, ConfigError)


def search_log() -> SearchLog:
    """This thread's search log (see :mod:`webui.stores`), built by the assembly (its database,
    retention and the one prune schedule of that database)."""
    return thread_store("search_log", assembly().search_log)


def _user() -> str | None:
    user = current_user()
    return user.name if user else None


def may_log(kind: str, user: str | None) -> bool:
    """Whether this request's search (``kind`` "search") or story open ("open") is logged:
    an anonymous one only when ``KB_LOG_ANONYMOUS`` is on, and at most
    ``KB_LOG_SEARCHES_PER_MINUTE`` of each kind per client and minute."""
    if user is None and not assembly().settings.log_anonymous:
        return False
    client = ("user", user) if user else ("address", request.remote_addr or "")
    return _limiter().allow((kind, *client))


def _limiter() -> RateLimiter:
    """The app's limiter of logged searches and opens (one per app and process)."""
    limiter = current_app.extensions.get("kb_log_limiter")
    if limiter is None:
        limit = assembly().settings.log_searches_per_minute
        limiter = current_app.extensions.setdefault("kb_log_limiter", RateLimiter(limit))
    return limiter


def log_search(response, args: SearchArgs) -> int | None:
    """Log a search and return its id, or None when it is not logged (see :func:`may_log`) or
    could not be (never raises)."""
    user = _user()
    if not may_log("search", user):
        return None
    try:
        return search_log().record_response(response, filters=args.filters, profile=args.profile, user=user)
    except _LOG_ERRORS as exc:
        current_app.logger.warning("search not logged (%s: %s)", type(exc).__name__, exc)
        return None


def log_open(case_id: str, sid: str | None) -> None:
    """Log that a story was opened, from the search ``sid`` names or directly (never raises).

    ``sid`` comes from the link, so it is not trusted: :meth:`SearchLog.record_open` keeps it
    only when it names a search of the same user (or an anonymous one). Opens are limited
    like searches (:func:`may_log`).
    """
    user = _user()
    if not may_log("open", user):
        return
    try:
        search_log().record_open(parse_sid(sid), case_id, user=user)
    except _LOG_ERRORS as exc:
        current_app.logger.warning("story open not logged (%s: %s)", type(exc).__name__, exc)


def parse_sid(value: str | None) -> int | None:
    """The search id of a link's ``sid`` parameter, or None when it is missing or not an id."""
    value = (value or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > _MAX_SID_DIGITS:
        return None
    return int(value)
