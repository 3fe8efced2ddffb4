"""The index directory: immutable versions, a manifest each, and an atomic switch.

Layout::

    INDEX_DIR/
      CURRENT              name of the live version (replaced atomically)
      .lock                held by the one build running at a time
      versions/
        v20261123T150301-000123/
          manifest.json    format, model, counts, per-document fingerprints, file checksums
          documents.jsonl  one line per document: id and the caller's metadata
          passages.jsonl   one line per passage, in vector order
          vectors.npy      normalized float32 vectors, one row per passage
          dense.faiss      the FAISS index over those vectors
          lexical/         the BM25 index over the same passages
          doc_lexical/     a BM25 index over whole documents (one row each)

A build writes a new version under a temporary name, renames it into place, then replaces
CURRENT. A crash at any point leaves CURRENT naming a complete version; the next build
deletes what was left behind. The previous version is kept so readers holding it keep working.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from indexer.dense import DenseIndex
from indexer.errors import IndexBusyError, IndexCorruptError, IndexFormatError, IndexNotFoundError, Wording
from indexer.lexical import LexicalIndex
from indexer.passages import Passage

#: Bumped whenever the files of a version change meaning; older versions are refused.
FORMAT_VERSION = 1
#: Complete versions kept on disk: the live one and the one before it.
KEEP_VERSIONS = 2

CURRENT = "CURRENT"
VERSIONS = "versions"
MANIFEST = "manifest.json"
BUILDING_PREFIX = ".building-"


@dataclass
class IndexVersion:
    """One complete, loaded version of the index. Immutable once loaded."""

    name: str
    path: Path
    manifest: dict[str, Any]
    doc_ids: list[str]
    doc_meta: dict[str, dict[str, Any]]
    passages: list[Passage]
    passage_doc: np.ndarray  # document number of each passage
    vectors: np.ndarray
    dense: DenseIndex
    lexical: LexicalIndex
    #: BM25 over whole documents (one row per document); None in versions built before it.
    doc_lexical: LexicalIndex | None = None

    @property
    def model(self) -> str:
        return self.manifest["model"]["name"]

    @property
    def dimension(self) -> int:
        return int(self.manifest["model"]["dimension"])

    def doc_range(self, doc_id: str) -> range:
        entry = self.manifest["documents"][doc_id]
        return range(entry["first"], entry["first"] + entry["count"])


class IndexStore:
    """An index directory: finds, loads, locks and switches its versions.

    Args:
        root: The directory.
        wording: The caller's words in the errors' messages: what to run about them.
    """

    def __init__(self, root: Path | str, wording: Wording = Wording()):
        self.root = Path(root)
        self.versions_dir = self.root / VERSIONS
        self.wording = wording

    # -- reading -----------------------------------------------------------------------

    def current_name(self) -> str | None:
        """Name of the live version, or None when nothing has been built."""
        try:
            name = (self.root / CURRENT).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except NotADirectoryError:
            return None
        return name or None

    def open(self) -> IndexVersion:
        """Load the live version, checking it against its manifest.

        Raises:
            IndexNotFoundError: Nothing has been built here.
            IndexFormatError: Built with another index format.
            IndexCorruptError: A file is missing, truncated or inconsistent.
        """
        for attempt in range(3):
            name = self.current_name()
            if name is None:
                raise IndexNotFoundError(f"no index in {self.root}: {self.wording.build}")
            path = self.versions_dir / name
            if path.is_dir() or attempt == 2:
                return load_version(path, self.wording)
            time.sleep(0.05)  # CURRENT moved on while we read it: read it again
        raise AssertionError("unreachable")

    def version_names(self) -> list[str]:
        """Names of the complete versions on disk, oldest first."""
        if not self.versions_dir.is_dir():
            return []
        return sorted(p.name for p in self.versions_dir.iterdir()
                      if p.is_dir() and not p.name.startswith("."))

    # -- writing -----------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, wait: float = 0.0) -> Iterator[None]:
        """Hold the build lock; wait up to ``wait`` seconds for another build to finish.

        Raises:
            IndexBusyError: Another build still holds the lock.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as handle:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() >= deadline:
                        raise IndexBusyError(
                            f"another build is updating {self.root}; wait for it to finish") from None
                    time.sleep(0.1)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def new_version_dir(self) -> tuple[str, Path]:
        """Create an empty folder to write a version into, under a temporary name."""
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S-%f")
        name = f"v{stamp}"
        tmp = self.versions_dir / f"{BUILDING_PREFIX}{name}"
        tmp.mkdir()
        return name, tmp

    def publish(self, name: str, tmp: Path) -> None:
        """Move a fully written version into place and make it the live one, atomically."""
        final = self.versions_dir / name
        os.rename(tmp, final)
        _fsync_dir(self.versions_dir)
        pointer = self.root / f".{CURRENT}.tmp"
        try:
            with open(pointer, "w", encoding="utf-8") as handle:
                handle.write(name + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(pointer, self.root / CURRENT)
        except BaseException:
            pointer.unlink(missing_ok=True)
            raise
        _fsync_dir(self.root)

    def clean_up(self) -> list[str]:
        """Delete unfinished builds and versions older than the ones kept. Hold the lock.

        Returns:
            The names of what was deleted.
        """
        removed: list[str] = []
        if not self.versions_dir.is_dir():
            return removed
        for path in self.versions_dir.iterdir():
            if path.name.startswith(BUILDING_PREFIX):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
        current = self.current_name()
        names = self.version_names()
        # Keep the live version and the newest ones before it; a version newer than the live
        # one was never published (a crash between rename and switch) and goes.
        older = [name for name in names if current is not None and name <= current]
        keep = set(older[-KEEP_VERSIONS:])
        for name in names:
            if name not in keep:
                shutil.rmtree(self.versions_dir / name, ignore_errors=True)
                removed.append(name)
        (self.root / f".{CURRENT}.tmp").unlink(missing_ok=True)
        return removed


def write_json(path: Path, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False))
            handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())


def checksum_files(directory: Path) -> dict[str, dict[str, Any]]:
    """Size and SHA-256 of every file in a version folder (the manifest excluded)."""
    files: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file() and path.name != MANIFEST:
            files[path.relative_to(directory).as_posix()] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
    return files


def load_version(path: Path, wording: Wording = Wording()) -> IndexVersion:
    """Load and check one version folder (see :meth:`IndexStore.open`)."""
    fix = wording.rebuild
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexCorruptError(f"index version {path} has no manifest; {fix}") from None
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"index manifest {path / MANIFEST} is unreadable ({exc}); {fix}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise IndexFormatError(
            f"index in {path.parent.parent} has format {found!r} but {wording.reader} reads format {FORMAT_VERSION}; "
            f"{fix}")
    try:
        for rel, expected in manifest["files"].items():
            file = path / rel
            if not file.is_file():
                raise IndexCorruptError(f"index file {file} is missing; {fix}")
            size = file.stat().st_size
            if size != expected["bytes"]:
                raise IndexCorruptError(
                    f"index file {file} is {size} bytes, the manifest says {expected['bytes']} (truncated?); {fix}")
            if _sha256(file) != expected["sha256"]:
                raise IndexCorruptError(f"index file {file} does not match its checksum (corrupted); {fix}")
        docs = [json.loads(line) for line in (path / "documents.jsonl").read_text(encoding="utf-8").splitlines()]
        rows = [json.loads(line) for line in (path / "passages.jsonl").read_text(encoding="utf-8").splitlines()]
        passages = [Passage(**row) for row in rows]
        vectors = np.load(path / "vectors.npy", allow_pickle=False)
        counts = manifest["counts"]
        dense = DenseIndex.load(path / "dense.faiss", manifest["dense"]["kind"])
        lexical = LexicalIndex.load(path / "lexical", len(passages))
        doc_lexical = (LexicalIndex.load(path / "doc_lexical", len(docs))
                       if manifest.get("lexical", {}).get("documents") else None)
    except IndexCorruptError:
        raise
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise IndexCorruptError(f"index version {path} cannot be read ({exc}); {fix}") from None

    doc_ids = [doc["id"] for doc in docs]
    found = {"documents": len(doc_ids), "passages": len(passages), "vectors": len(vectors), "dense": len(dense)}
    expected_counts = {"documents": counts["documents"], "passages": counts["passages"],
                       "vectors": counts["passages"], "dense": counts["passages"]}
    for what, number in found.items():
        if number != expected_counts[what]:
            raise IndexCorruptError(
                f"index version {path} holds {number} {what} but its manifest says {expected_counts[what]}; {fix}")
    index_of = {doc_id: i for i, doc_id in enumerate(doc_ids)}
    passage_doc = np.fromiter((index_of[p.doc_id] for p in passages), dtype=np.int64, count=len(passages))
    return IndexVersion(
        name=path.name, path=path, manifest=manifest, doc_ids=doc_ids,
        doc_meta={doc["id"]: doc.get("meta", {}) for doc in docs},
        passages=passages, passage_doc=passage_doc, vectors=vectors, dense=dense, lexical=lexical,
        doc_lexical=doc_lexical)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
