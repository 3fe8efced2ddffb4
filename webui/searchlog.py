"""Logging searches and opened stories from the web (:mod:`kb.searchlog` does the storing).

Every search with a query, on the search page (its results fragment too: a filter change is
a new search) or through ``GET /api/search``, is logged with the signed-in user's name (None
when anonymous); its id travels in the result links as ``sid``, so the story page can log
that the story was opened from that search. Logging is one INSERT (well under a millisecond)
on a connection kept open per thread (:mod:`webui.stores`); when it fails the search is answered anyway and the
failure goes to the app log.
"""

from __future__ import annotations

import sqlite3

from flask import current_app

from kb.errors import ConfigError
from kb.searchlog import SearchLog
from webui.auth import current_user
from webui.params import SearchArgs
from webui.stores import thread_store

#: Longest ``sid`` read from a link (a larger number is no search of ours).
_MAX_SID_DIGITS = 18
#: What may go wrong while logging, and is then only reported.
_LOG_ERRORS = (sqlite3.Error, OSError, ValueError, ConfigError)


def search_log() -> SearchLog:
    """This thread's search log (see :mod:`webui.stores`)."""
    return thread_store("search_log", lambda: SearchLog(
        current_app.config["KB_DATABASE"], retention=current_app.config.get("KB_LOG_RETENTION_DAYS")))


def _user() -> str | None:
    user = current_user()
    return user.name if user else None


def log_search(response, args: SearchArgs) -> int | None:
    """Log a search and return its id, or None when it could not be logged (never raises)."""
    try:
        return search_log().record_response(response, filters=args.filters, profile=args.profile, user=_user())
    except _LOG_ERRORS as exc:
        current_app.logger.warning("search not logged (%s: %s)", type(exc).__name__, exc)
        return None


def log_open(case_id: str, sid: str | None) -> None:
    """Log that a story was opened, from the search ``sid`` names or directly (never raises).

    ``sid`` comes from the link, so it is not trusted: :meth:`SearchLog.record_open` keeps it
    only when it names a search of the same user (or an anonymous one).
    """
    try:
        search_log().record_open(parse_sid(sid), case_id, user=_user())
    except _LOG_ERRORS as exc:
        current_app.logger.warning("story open not logged (%s: %s)", type(exc).__name__, exc)


def parse_sid(value: str | None) -> int | None:
    """The search id of a link's ``sid`` parameter, or None when it is missing or not an id."""
    value = (value or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > _MAX_SID_DIGITS:
        return None
    return int(value)
