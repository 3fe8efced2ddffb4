"""What a search answers: ranked results, why each matched, facet counts and notices.

Plain data, JSON-ready through ``to_dict()`` (the CLI's ``--json``); the web layer renders the
HTML (a snippet's ``<mark>``s) and its typed API models from these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kb.fields import FRONT_MATTER
from kb.search.snippets import Snippet
from kb.search.understanding import Understood
from kb.stages import stage_label

#: The case metadata a result carries: every front-matter field of the registry.
RESULT_FIELDS: tuple[str, ...] = tuple(known.name for known in FRONT_MATTER)


@dataclass(frozen=True)
class Why:
    """The signals that made a result match."""

    similarity: float
    terms: tuple[str, ...]
    attributes: tuple[str, ...]
    coverage: float = 0.0  # IDF-weighted share of the situation's terms the story holds

    def reasons(self) -> list[str]:
        out = [f"meaning of the passage (similarity {self.similarity:.2f})"]
        if self.terms:
            out.append("shared terms: " + ", ".join(self.terms))
        if self.coverage:
            out.append(f"the story holds {self.coverage:.0%} of the situation's words (weighted by rarity)")
        out.extend(f"like you: {attribute}" for attribute in self.attributes)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"similarity": round(self.similarity, 4), "coverage": round(self.coverage, 4),
                "terms": list(self.terms), "attributes": list(self.attributes), "reasons": self.reasons()}


@dataclass(frozen=True)
class Result:
    """One case in the ranking, with the passage that matched best.

    ``weak`` is the one meaning of a weak match: :meth:`RankingSettings.is_weak` of the best
    passage's similarity and the story's coverage of the query's terms.
    """

    id: str
    score: float
    meta: dict[str, Any]
    section: str | None
    stage: str | None
    passage: str
    snippet: Snippet
    why: Why
    weak: bool

    @property
    def snippet_text(self) -> str:
        """The snippet as plain text (clipped ends unmarked)."""
        return self.snippet.marked("", "")

    def to_dict(self) -> dict[str, Any]:
        meta = self.meta
        values = {name: meta.get(name) for name in RESULT_FIELDS}
        return {
            "id": self.id,
            **values,
            "score": round(self.score, 6),
            "snippet": self.snippet_text,
            "section": self.section,
            "stage": self.stage,
            "stage_label": stage_label(self.stage),
            "why": self.why.to_dict(),
            "weak": self.weak,
        }


@dataclass
class Response:
    """A ranked list of cases, facet counts and notices for the person."""

    query: str
    results: list[Result]
    facets: dict[str, dict[str, int]]
    notices: list[str] = field(default_factory=list)
    total: int = 0
    understood: Understood = field(default_factory=Understood)

    @property
    def all_weak(self) -> bool:
        """Results were found and every one is weak (the page's "no strong match" notice)."""
        return bool(self.results) and all(result.weak for result in self.results)

    @property
    def no_strong_match(self) -> bool:
        """No result is a strong match (none at all, or only weak ones): what the search log
        counts as a weak search and the evaluation as a gap answered."""
        return all(result.weak for result in self.results)

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "total": self.total, "results": [r.to_dict() for r in self.results],
                "facets": self.facets, "notices": self.notices, "understood": self.understood.to_dict(),
                "all_weak": self.all_weak}
