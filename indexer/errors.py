"""Errors of the index store, and the caller's words in their messages.

A message says what is wrong; what to do about it is the calling program's to say, in its own
terms (its commands), so the indexer takes those words from the caller: :class:`Wording`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Wording:
    """What the program using the index calls itself and tells a person to do.

    Given to :class:`indexer.IndexStore`; the defaults name no program.

    Attributes:
        reader: Who reads the index: "index in DIR has format 2 but {reader} reads format 1".
        build: What to do when nothing has been built: "no index in DIR: {build}".
        rebuild: What to do when the live version cannot be used: "index file F is missing; {rebuild}".
        retry: What to do once a failed write is fixed: "Free some disk space, then {retry}".
        full: Why a build asked to re-embed everything did (its report's ``full_reason``).
    """

    reader: str = "this indexer"
    build: str = "build it first"
    rebuild: str = "build it again in full"
    retry: str = "build it again"
    full: str = "a full build was asked for"


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
