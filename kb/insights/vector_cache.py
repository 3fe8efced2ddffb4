"""Embedding the wordings a report groups once per model: vectors kept in the search log's
database (:mod:`kb.searchlog.vectors`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence

import numpy as np

from kb.searchlog import SearchLog


class CachedEmbedder:
    """An embedder whose vectors are kept in the search log's database (table
    ``query_vectors``), keyed by the model's name and the text: a wording is embedded once per
    model, however many reports group it.

    Args:
        log: The search log (its database holds the cache).
        embedder: Has ``encode(texts)``; its ``name`` keys the cache (without one, nothing
            is cached).
        model: The cache key of the model, instead of ``embedder.name``.
    """

    def __init__(self, log: SearchLog, embedder, model: str | None = None):
        self.log = log
        self.embedder = embedder
        self.model = model or getattr(embedder, "name", None)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Normalized float32 rows, one per text; only texts never embedded reach the model."""
        texts = list(texts)
        if not self.model or not texts:
            return np.asarray(self.embedder.encode(texts), dtype=np.float32)
        vectors = self._cached(texts)
        missing = [text for text in dict.fromkeys(texts) if text not in vectors]
        if missing:
            new = np.asarray(self.embedder.encode(missing), dtype=np.float32)
            if vectors and new.shape[1] != len(next(iter(vectors.values()))):
                # Cached by a model of another size under the same name: the model changed.
                vectors, missing = {}, list(dict.fromkeys(texts))
                new = np.asarray(self.embedder.encode(missing), dtype=np.float32)
            fresh = dict(zip(missing, new))
            self._store(fresh)
            vectors.update(fresh)
        return np.stack([vectors[text] for text in texts]).astype(np.float32, copy=False)

    def _cached(self, texts: list[str]) -> dict[str, np.ndarray]:
        try:
            cached = self.log.cached_vectors(self.model, texts)
        except sqlite3.OperationalError:  # e.g. locked for long: it is only a cache, embed instead
            return {}
        vectors = {text: np.frombuffer(blob, dtype="<f4") for text, blob in cached.items()}
        return vectors if len({len(v) for v in vectors.values()}) <= 1 else {}

    def _store(self, vectors: Mapping[str, np.ndarray]) -> None:
        try:
            self.log.store_vectors(self.model, {text: np.asarray(v, dtype="<f4").tobytes()
                                                for text, v in vectors.items()})
        except sqlite3.OperationalError:
            pass  # a cache: this report has its vectors, the next one embeds them again
