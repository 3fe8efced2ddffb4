"""Embedding and index storage. Knows nothing of kb, the web or the case format.

The caller hands in :class:`Document` objects (an id, a context, text segments and opaque
metadata); the indexer splits them into passages that fit the model, embeds them, and
stores dense (FAISS) and lexical (BM25) indexes in a versioned directory. Its messages say
what is wrong; what to run about it is the caller's to say (:class:`Wording`).
"""

from indexer.build import BuildReport, build_index, fit_passages
from indexer.dense import DenseIndex
from indexer.embedder import DEFAULT_MODEL, Embedder, resolve_model
from indexer.errors import (
    IndexBusyError,
    IndexCorruptError,
    IndexerError,
    IndexFormatError,
    IndexNotFoundError,
    IndexWriteError,
    ModelError,
    Wording,
)
from indexer.lexical import LexicalIndex, tokenize, word_terms
from indexer.passages import Document, Passage, Segment
from indexer.store import IndexStore, IndexVersion

__all__ = [
    "DEFAULT_MODEL",
    "BuildReport",
    "DenseIndex",
    "Document",
    "Embedder",
    "IndexBusyError",
    "IndexCorruptError",
    "IndexFormatError",
    "IndexNotFoundError",
    "IndexStore",
    "IndexWriteError",
    "IndexVersion",
    "IndexerError",
    "LexicalIndex",
    "ModelError",
    "Passage",
    "Segment",
    "Wording",
    "build_index",
    "fit_passages",
    "resolve_model",
    "tokenize",
    "word_terms",
]
