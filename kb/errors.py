"""Domain errors. The CLI and the web layer translate them; the core never prints.

The index's errors are the indexer's, re-exported here so that the layers above kb need
nothing of the indexer (a contract in pyproject.toml); their remedies are kb's commands
(:data:`INDEX_WORDING`).
"""

from __future__ import annotations

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

__all__ = [
    "INDEX_WORDING",
    "AuthenticationError",
    "CaseExistsError",
    "CaseFormatError",
    "CaseNotFoundError",
    "ConcurrentEditError",
    "ConfigError",
    "IndexBusyError",
    "IndexCorruptError",
    "IndexFormatError",
    "IndexNotFoundError",
    "IndexWriteError",
    "IndexerError",
    "InvalidQueryError",
    "InvalidSlugError",
    "KbError",
    "LoginThrottledError",
    "ModelError",
    "UserError",
]

#: kb's words in the index's messages: its commands are the remedies ("no index in .kb/index:
#: run `kb index` to build it"). Give it to every :class:`indexer.IndexStore` kb opens.
INDEX_WORDING = Wording(
    reader="this kb",
    build="run `kb index` to build it",
    rebuild="run `kb index --full` to rebuild it",
    retry="run `kb index` again",
    full="--full was asked for",
)


class KbError(Exception):
    """Base class of every error kb reports to a person.

    The message says what is wrong and what to do about it.
    """


class CaseFormatError(KbError):
    """A case file could not be read as a case study.

    Attributes:
        problems: The problems found, each naming the file and line.
    """

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class CaseExistsError(KbError):
    """A new case would overwrite an existing file."""


class InvalidSlugError(KbError):
    """A case id (slug) is not made of lowercase letters, digits and hyphens."""


class CaseNotFoundError(KbError):
    """No case has the requested id."""


class InvalidQueryError(KbError):
    """A search query is empty or otherwise unusable."""


class ConfigError(KbError):
    """A setting has a value kb cannot use."""


class UserError(KbError):
    """A user cannot be added, found or changed as asked."""


class AuthenticationError(KbError):
    """A name and password do not match a user."""


class LoginThrottledError(AuthenticationError):
    """Too many failed logins: the next attempt must wait.

    Attributes:
        retry_after: Seconds to wait before trying again.
    """

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class ConcurrentEditError(KbError):
    """The case file changed on disk since the editor opened it.

    Attributes:
        current_text: What the file holds now, so neither version is lost.
    """

    def __init__(self, message: str, current_text: str):
        super().__init__(message)
        self.current_text = current_text
