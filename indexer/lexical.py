"""The lexical index: BM25 (bm25s) over the same passages as the dense index."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

#: BM25 parameters (Lucene's variant).
K1 = 1.2
B = 0.75
LANGUAGE = "english"


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer(LANGUAGE)


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lowercase, drop English stop words and stem, exactly as the index does."""
    import bm25s

    return bm25s.tokenize(list(texts), stopwords="en", stemmer=_stemmer(), return_ids=False,
                          show_progress=False)


#: Words whose index term :func:`word_terms` remembers (a few MiB at most).
WORD_CACHE_SIZE = 50_000
_word_terms: dict[str, str | None] = {}
_UNKNOWN = object()


def word_terms(words: Sequence[str]) -> list[str | None]:
    """The index term of each single word (None for a stop word), as :func:`tokenize` makes it.

    Remembered per word: snippets look up the same few thousand words in search after
    search, and one :func:`tokenize` call costs far more than a dictionary lookup. Safe to
    call from several threads at once.
    """
    known: dict[str, str | None] = {}
    for word in set(words):
        term = _word_terms.get(word, _UNKNOWN)
        if term is not _UNKNOWN:
            known[word] = term
    missing = [word for word in dict.fromkeys(words) if word not in known]
    if missing:
        found = {word: terms[0] if terms else None for word, terms in zip(missing, tokenize(missing))}
        known.update(found)
        if len(_word_terms) + len(found) > WORD_CACHE_SIZE:
            _word_terms.clear()
        if len(found) <= WORD_CACHE_SIZE:
            _word_terms.update(found)
    return [known[word] for word in words]


class LexicalIndex:
    """BM25 scores of every passage for a query."""

    def __init__(self, retriever, size: int):
        self._retriever = retriever
        self._size = size

    @classmethod
    def build(cls, texts: Sequence[str], k1: float = K1, b: float = B) -> LexicalIndex:
        import bm25s

        retriever = bm25s.BM25(k1=k1, b=b, method="lucene")
        if texts:
            retriever.index(tokenize(texts), show_progress=False)
        return cls(retriever, len(texts))

    @classmethod
    def load(cls, directory: Path, size: int) -> LexicalIndex:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.ERROR)
        if size == 0:
            return cls(bm25s.BM25(), 0)
        return cls(bm25s.BM25.load(str(directory), show_progress=False), size)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        if self._size:
            self._retriever.save(str(directory), show_progress=False)

    def __len__(self) -> int:
        return self._size

    def coverage(self, query: str) -> np.ndarray:
        """How much of the query each row holds: the IDF-weighted share of the query's indexed
        terms that occur in the row, from 0 (none) to 1 (all).

        Unlike a BM25 score, it means the same for a 3-word and a 300-word query, so it can
        say whether a match is strong. Terms no row holds count for nothing.
        """
        return self._coverage(self._known_terms(query))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for query (zeros when no query term is indexed)."""
        return self._scores(self._known_terms(query))

    def scores_and_coverage(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`scores` and :meth:`coverage` of one query, tokenized once."""
        known = self._known_terms(query)
        return self._scores(known), self._coverage(known)

    def _known_terms(self, query: str) -> list[str]:
        """The query's terms the index holds, in order, repeated as often as the query repeats them."""
        vocab = getattr(self._retriever, "vocab_dict", {})
        return [t for t in tokenize([query])[0] if t in vocab] if self._size else []

    def _scores(self, known: list[str]) -> np.ndarray:
        if not known:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(known), dtype=np.float32)

    def _coverage(self, known: list[str]) -> np.ndarray:
        if not known:
            return np.zeros(self._size, dtype=np.float32)
        present = np.stack([np.asarray(self._retriever.get_scores([t])) > 0 for t in dict.fromkeys(known)])
        df = present.sum(axis=1)
        idf = np.log1p((self._size - df + 0.5) / (df + 0.5))
        return (idf @ present / idf.sum()).astype(np.float32)
