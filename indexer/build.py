"""Building a new index version, incrementally: only changed documents are re-embedded."""

from __future__ import annotations

import datetime as dt
import errno
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from indexer.chunking import split_to_fit
from indexer.dense import DenseIndex
from indexer.embedder import Embedder
from indexer.errors import IndexCorruptError, IndexFormatError, IndexNotFoundError, IndexWriteError
from indexer.lexical import B, K1, LexicalIndex
from indexer.passages import Document, Passage
from indexer.store import FORMAT_VERSION, IndexStore, IndexVersion, checksum_files, write_json, write_jsonl

#: Word pieces shared by consecutive windows of a long section.
OVERLAP_TOKENS = 48
#: Most word pieces of document context (title) put in front of each passage.
MAX_CONTEXT_TOKENS = 48

#: Called as progress(done, total) while passages are embedded.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class BuildReport:
    """What a build did."""

    version: str
    documents: int
    passages: int
    reembedded: int
    reembedded_passages: int
    reused: int
    removed: int
    seconds: float
    full_reason: str | None = None
    unchanged: bool = False

    def summary(self, noun: str = "documents") -> str:
        """One line for a person: counts and time."""
        if self.unchanged:
            return (f"{self.documents} {noun}, {self.passages} passages: nothing changed, "
                    f"{self.version} stays live ({self.seconds:.1f} s)")
        return (f"{self.documents} {noun}, {self.passages} passages: {self.reembedded} re-embedded "
                f"({self.reembedded_passages} passages), {self.reused} reused, {self.removed} removed "
                f"in {self.seconds:.1f} s")


def fit_passages(document: Document, embedder: Embedder) -> list[Passage]:
    """Split a document's segments into passages that fit the model's word-piece limit.

    The embedded text of each passage (context, section title and window) stays within
    ``embedder.max_tokens`` word pieces, special tokens included.
    """
    context = _clip_to_tokens(document.context, embedder, MAX_CONTEXT_TOKENS)
    passages: list[Passage] = []
    for number, segment in enumerate(document.segments):
        if not segment.text.strip() and not segment.section:
            continue
        probe = Passage(document.id, number, segment.section, segment.stage, "", context)
        budget = embedder.max_tokens - embedder.count_tokens(probe.embedding_text()) - 1
        if budget < 16:  # a huge section title: clip it so the text still gets room
            section = _clip_to_tokens(segment.section or "", embedder, MAX_CONTEXT_TOKENS)
            probe = Passage(document.id, number, section, segment.stage, "", context)
            budget = embedder.max_tokens - embedder.count_tokens(probe.embedding_text()) - 1
        windows = split_to_fit(segment.text, embedder.token_spans, budget, OVERLAP_TOKENS) or [(0, "")]
        for start, text in windows:
            passages.append(Passage(document.id, number, probe.section, segment.stage, text, context, start))
    return passages


def build_index(store: IndexStore, documents: Sequence[Document], embedder: Embedder, *,
                full: bool = False, progress: Progress | None = None, lock_wait: float = 0.0) -> BuildReport:
    """Write a new index version of documents and switch to it atomically.

    Documents whose fingerprint matches the live version reuse its passages and vectors;
    the others are split and embedded. A different model, chunking or format forces a
    full rebuild, reported in ``full_reason``.

    Raises:
        IndexBusyError: Another build holds the lock for longer than ``lock_wait`` seconds.
        IndexWriteError: Writing the new version failed (e.g. the disk is full); the
            previous version stays live and nothing half-written is left behind.
    """
    started = time.perf_counter()
    with store.lock(wait=lock_wait):
        store.clean_up()
        previous, full_reason = _previous_version(store, embedder, full)
        ids = [doc.id for doc in documents]
        if len(set(ids)) != len(ids):
            raise ValueError("document ids must be unique")

        kept: dict[str, tuple[list[Passage], np.ndarray]] = {}
        fresh: dict[str, list[Passage]] = {}
        for document in documents:
            entry = previous.manifest["documents"].get(document.id) if previous else None
            if entry and entry["fingerprint"] == document.fingerprint():
                span = previous.doc_range(document.id)
                kept[document.id] = (previous.passages[span.start:span.stop], previous.vectors[span.start:span.stop])
            else:
                fresh[document.id] = fit_passages(document, embedder)
        if previous is not None and not fresh and _same_documents(previous, documents):
            # Nothing to write: a new version would be a copy, and every reader would reload it.
            return BuildReport(version=previous.name, documents=len(documents), passages=len(previous.passages),
                               reembedded=0, reembedded_passages=0, reused=len(kept), removed=0,
                               seconds=time.perf_counter() - started, unchanged=True)

        to_embed = [p for passages in fresh.values() for p in passages]
        done = 0

        def advance(count: int) -> None:
            nonlocal done
            done += count
            if progress:
                progress(done, len(to_embed))

        if progress:
            progress(0, len(to_embed))
        new_vectors = embedder.encode([p.embedding_text() for p in to_embed], progress=advance)

        passages: list[Passage] = []
        blocks: list[np.ndarray] = []
        entries: dict[str, dict] = {}
        cursor = 0
        for document in documents:
            if document.id in kept:
                doc_passages, doc_vectors = kept[document.id]
            else:
                doc_passages = fresh[document.id]
                doc_vectors = new_vectors[cursor:cursor + len(doc_passages)]
                cursor += len(doc_passages)
            entries[document.id] = {"fingerprint": document.fingerprint(), "first": len(passages),
                                    "count": len(doc_passages)}
            passages.extend(doc_passages)
            blocks.append(doc_vectors)
        vectors = (np.vstack(blocks) if blocks else np.zeros((0, embedder.dimension), dtype=np.float32))
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)

        removed = len(set(previous.doc_ids) - set(ids)) if previous else 0
        name, tmp = store.new_version_dir()
        try:
            dense = DenseIndex.build(vectors)
            np.save(tmp / "vectors.npy", vectors, allow_pickle=False)
            dense.save(tmp / "dense.faiss")
            LexicalIndex.build([_lexical_text(p) for p in passages]).save(tmp / "lexical")
            LexicalIndex.build([_document_text(d) for d in documents]).save(tmp / "doc_lexical")
            write_jsonl(tmp / "passages.jsonl", [asdict(p) for p in passages])
            write_jsonl(tmp / "documents.jsonl", [{"id": d.id, "meta": d.meta} for d in documents])
            report = BuildReport(
                version=name, documents=len(documents), passages=len(passages),
                reembedded=len(fresh), reembedded_passages=len(to_embed), reused=len(kept),
                removed=removed, seconds=0.0, full_reason=full_reason)
            manifest = {
                "format": FORMAT_VERSION,
                "name": name,
                "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "model": {"name": embedder.name, "dimension": embedder.dimension,
                          "max_tokens": embedder.max_tokens},
                "chunking": _chunking(),
                "dense": {"kind": dense.kind},
                "lexical": _lexical(),
                "counts": {"documents": len(documents), "passages": len(passages)},
                "documents": entries,
                "build": {"reembedded": len(fresh), "reembedded_passages": len(to_embed),
                          "reused": len(kept), "removed": removed},
                "files": checksum_files(tmp),
            }
            write_json(tmp / "manifest.json", manifest)
            store.publish(name, tmp)
        except BaseException as exc:
            import shutil

            # Nothing half-written stays behind: neither the temporary folder nor a version
            # that was moved into place but never made live.
            shutil.rmtree(tmp, ignore_errors=True)
            if store.current_name() != name:
                shutil.rmtree(store.versions_dir / name, ignore_errors=True)
            if isinstance(exc, OSError):
                raise _write_error(store, exc) from exc
            raise
        store.clean_up()
    return BuildReport(**{**asdict(report), "seconds": time.perf_counter() - started})


def _write_error(store: IndexStore, exc: OSError) -> IndexWriteError:
    """Say what failed, what is still live, and what to do."""
    what = exc.strerror or str(exc)
    if exc.filename:
        what += f" ({exc.filename})"
    live = "the previous index is still live" if store.current_name() else "no index was built"
    fix = "Free some disk space" if exc.errno == errno.ENOSPC else "Fix that"
    return IndexWriteError(f"could not write the new index version in {store.root}: {what}; {live}. "
                           f"{fix}, then {store.wording.retry}")


def _same_documents(previous: IndexVersion, documents: Sequence[Document]) -> bool:
    """True when the live version holds exactly these documents, in this order, with this metadata."""
    if previous.doc_ids != [d.id for d in documents] or previous.manifest.get("lexical") != _lexical():
        return False
    return all(previous.doc_meta[d.id] == json.loads(json.dumps(d.meta, ensure_ascii=False)) for d in documents)


def _lexical_text(passage: Passage) -> str:
    return f"{passage.context}\n{passage.lexical_text()}"


def _document_text(document: Document) -> str:
    """A whole document as one text, for document-level BM25 (its evidence adds up over sections)."""
    return "\n".join([document.context, *(segment.text for segment in document.segments)])


def _lexical() -> dict:
    return {"k1": K1, "b": B, "documents": True}


def _chunking() -> dict:
    return {"overlap": OVERLAP_TOKENS, "max_context": MAX_CONTEXT_TOKENS}


def _previous_version(store: IndexStore, embedder: Embedder, full: bool) -> tuple[IndexVersion | None, str | None]:
    """The live version to reuse vectors from, or None with the reason for a full build."""
    if full:
        return None, store.wording.full
    try:
        previous = store.open()
    except IndexNotFoundError:
        return None, None
    except (IndexFormatError, IndexCorruptError) as exc:
        return None, f"the previous index could not be reused ({exc})"
    model = previous.manifest["model"]
    if model["name"] != embedder.name or model["dimension"] != embedder.dimension:
        return None, f"the model changed from {model['name']} to {embedder.name}"
    if previous.manifest.get("chunking") != _chunking() or model.get("max_tokens") != embedder.max_tokens:
        return None, "the passage splitting changed"
    return previous, None


def _clip_to_tokens(text: str, embedder: Embedder, limit: int) -> str:
    spans = embedder.token_spans(text)
    return text if len(spans) <= limit else text[: spans[limit - 1][1]]
