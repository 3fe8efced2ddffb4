"""Turning the cases folder into an index: cases to documents, documents to a new version."""

from __future__ import annotations

from dataclasses import dataclass

from indexer import BuildReport, Document, Embedder, IndexStore, Segment, build_index

from kb.cases import Case, Problem
from kb.corpus import load_corpus
from kb.errors import ConfigError
from kb.settings import Settings
from kb.text import plain_text


@dataclass(frozen=True)
class IndexResult:
    """A build's report and the case files that were skipped."""

    report: BuildReport
    problems: list[Problem]

    @property
    def skipped(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]


def case_document(case: Case) -> Document:
    """The indexer's view of a case: its sections as plain-text segments, its metadata."""
    segments = tuple(Segment(text=plain_text(section.text), section=section.title, stage=section.stage)
                     for section in case.sections)
    if not segments:
        segments = (Segment(text=case.summary or "", section=None, stage=None),)
    meta = case.metadata()
    meta["content_hash"] = case.content_hash
    meta["path"] = str(case.path)
    return Document(id=case.id, context=case.title, segments=segments, meta=meta)


def index_cases(settings: Settings, *, full: bool = False, embedder: Embedder | None = None,
                progress=None, lock_wait: float = 0.0) -> IndexResult:
    """Index every readable case of ``settings.cases_dir``; unreadable files are skipped.

    Args:
        settings: Where the cases and the index are, and the model.
        full: Re-embed everything instead of reusing unchanged cases.
        embedder: A loaded model to reuse (loaded from settings when None).
        progress: Called as progress(done, total) while embedding.
        lock_wait: Seconds to wait for another build to finish.
    """
    if not settings.cases_dir.is_dir():
        raise ConfigError(f"cases folder {settings.cases_dir} does not exist; set KB_CASES or pass --cases")
    corpus = load_corpus(settings.cases_dir)
    embedder = embedder or Embedder(settings.model)
    documents = [case_document(case) for case in sorted(corpus.cases.values(), key=lambda c: c.id)]
    report = build_index(IndexStore(settings.index_path), documents, embedder, full=full,
                         progress=progress, lock_wait=lock_wait)
    return IndexResult(report=report, problems=corpus.problems)
