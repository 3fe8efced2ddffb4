"""Atomic file writes: a case file is either fully written or not touched at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from kb.errors import CaseExistsError


def _write_temp(directory: Path, text: str) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=".kb-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def create_file(path: Path, text: str) -> None:
    """Write a new file atomically; never overwrite an existing one.

    The text goes to a temporary file in the same folder, which is then hard-linked to
    its name (failing if the name exists) so a reader never sees a partial file.

    Raises:
        CaseExistsError: path already exists.
    """
    tmp = _write_temp(path.parent, text)
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise CaseExistsError(f"{path} already exists; choose another id or edit that file") from None
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def replace_file(path: Path, text: str) -> None:
    """Write a file atomically, replacing any previous version (temporary file, then rename)."""
    tmp = _write_temp(path.parent, text)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
