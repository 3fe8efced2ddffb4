"""The cached vectors of the wordings insights group (table ``query_vectors``).

Keyed by model name and wording, no user and no time of search: a wording is embedded once
per model however many reports group it. At most :data:`MAX_CACHED_VECTORS` are kept (the
least recently used go first); vectors no report used within the retention are pruned with
the log (:meth:`kb.searchlog.SearchLog.prune`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence

from kb.db import transaction
from kb.searchlog.records import compact_json

#: Cached query vectors kept at most (least recently used go first); about 1.5 KB each.
MAX_CACHED_VECTORS = 20_000
#: Seconds between refreshes of a cached vector's "last used" time (fewer writes on reads).
VECTOR_TOUCH_SECONDS = 86400.0


def cached_vectors(db: sqlite3.Connection, model: str, texts: Sequence[str], now: float) -> dict[str, bytes]:
    """The cached vectors (float32 bytes) of those texts under a model, by text.

    The ones found are marked as used at ``now`` (at most once a day each, to keep reads from writing).
    """
    if not texts:
        return {}
    found = {text: bytes(vector) for text, vector in db.execute(
        "SELECT query, vector FROM query_vectors WHERE model = ? AND query IN (SELECT value FROM json_each(?))",
        (model, compact_json(list(texts))))}
    if found:
        db.execute("UPDATE query_vectors SET used_at = ? WHERE model = ? AND used_at < ? "
                   "AND query IN (SELECT value FROM json_each(?))",
                   (now, model, now - VECTOR_TOUCH_SECONDS, compact_json(list(found))))
    return found


def store_vectors(db: sqlite3.Connection, model: str, vectors: Mapping[str, bytes], now: float) -> None:
    """Cache vectors (float32 bytes) of texts under a model, used at ``now``; beyond
    :data:`MAX_CACHED_VECTORS` the least recently used are dropped."""
    if not vectors:
        return

    def store(db):
        db.executemany("INSERT OR REPLACE INTO query_vectors (model, query, vector, used_at) VALUES (?, ?, ?, ?)",
                       [(model, text, vector, now) for text, vector in vectors.items()])
        extra = db.execute("SELECT COUNT(*) FROM query_vectors").fetchone()[0] - MAX_CACHED_VECTORS
        if extra > 0:
            db.execute("DELETE FROM query_vectors WHERE (model, query) IN "
                       "(SELECT model, query FROM query_vectors ORDER BY used_at LIMIT ?)", (extra,))

    transaction(db, store)


def drop_unused_vectors(db: sqlite3.Connection, cutoff: float) -> None:
    """Delete the cached vectors no report used since ``cutoff`` (inside the caller's transaction)."""
    db.execute("DELETE FROM query_vectors WHERE used_at < ?", (cutoff,))
