"""Errors of the index store. Messages say what to do next."""

from __future__ import annotations


class IndexerError(Exception):
    """Base class of the indexer's errors."""


class IndexNotFoundError(IndexerError):
    """No index has been built in the directory yet."""


class IndexFormatError(IndexerError):
    """The index was written in a format this version cannot read."""


class IndexCorruptError(IndexerError):
    """An index file is missing, truncated or inconsistent with the manifest."""


class IndexWriteError(IndexerError):
    """A new version could not be written (disk full, ...); the previous one stays live."""


class IndexBusyError(IndexerError):
    """Another build holds the index lock."""


class ModelError(IndexerError):
    """The embedding model cannot be found or loaded."""
