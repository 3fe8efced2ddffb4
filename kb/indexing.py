"""Turning the cases folder into an index: cases to documents, documents to a new version."""

from __future__ import annotations

from dataclasses import dataclass

from indexer import BuildReport, Document, Embedder, IndexStore, Segment, build_index

from kb.cases import Case, Problem
from kb.corpus import load_corpus
from kb.errors import INDEX_WORDING, ConfigError
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


#: Section title of the passage that sums up who the customer is and what happened.
PROFILE_SECTION = "At a glance"
#: Extra front-matter keys read as the summary when a story has none (imported stories).
SUMMARY_FALLBACKS = ("subtitle", "description", "abstract")


def profile_text(case: Case) -> str:
    """A short passage of the case's attributes and summary: who, where, what situation.

    Sellers describe prospects by these ("mid-size regional bank, deposits leaking"), and
    story sections rarely state them all in one place.
    """
    summary = case.summary or next((str(case.extra[k]) for k in SUMMARY_FALLBACKS
                                    if isinstance(case.extra.get(k), str)), "")
    facts = [
        case.customer,
        " · ".join(part for part in (case.industry, f"{case.company_size} employees" if case.company_size else None,
                                     case.region) if part),
        ", ".join(case.tags),
        ", ".join(case.roles),
        summary,
    ]
    return "\n".join(fact for fact in facts if fact)


def case_document(case: Case) -> Document:
    """The indexer's view of a case: a profile passage, then its sections as plain text."""
    segments = (Segment(text=profile_text(case), section=PROFILE_SECTION, stage=None),) + tuple(
        Segment(text=plain_text(section.text), section=section.title, stage=section.stage)
        for section in case.sections)
    meta = case.metadata()
    meta["content_hash"] = case.content_hash
    meta["path"] = str(case.path.resolve())
    return Document(id=case.id, context=case.title, segments=segments, meta=meta)


def index_cases(settings: Settings, *, full: bool = False, embedder: Embedder | None = None,
                progress=None, lock_wait: float = 0.0) -> IndexResult:
    """Index every readable case of ``settings.cases_dir``; unreadable files are skipped.

    So are links and files whose name is no case id (see :func:`kb.corpus.load_corpus`):
    nothing outside the cases folder is indexed.

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
    report = build_index(IndexStore(settings.index_path, INDEX_WORDING), documents, embedder, full=full,
                         progress=progress, lock_wait=lock_wait)
    return IndexResult(report=report, problems=corpus.problems)
