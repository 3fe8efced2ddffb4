"""Ranking settings: fusion, aggregation, boosts and the weak-match threshold."""

from __future__ import annotations

from dataclasses import dataclass, field

FUSION_METHODS = ("zscore", "rrf")
MODES = ("hybrid", "dense", "lexical")


@dataclass(frozen=True)
class RankingSettings:
    """How dense and lexical evidence become one ranked list of cases.

    Chosen by `kb eval` on the starter and the Kubernetes query sets (see
    docs/search-quality.md): passage-level z-score fusion beat case-level RRF on both.

    Attributes:
        fusion: "zscore": each passage's dense and lexical scores are standardized over the
            candidate passages and combined with the weights below, then aggregated per
            case; "rrf": per-method case rankings combined by reciprocal-rank fusion.
        dense_weight: Weight of the dense evidence.
        lexical_weight: Weight of the lexical evidence.
        rrf_k: The constant of reciprocal-rank fusion.
        second_passage_weight: How much a case's second-best passage adds to its best one
            (0 = only the best passage counts; small, so a long story does not win by volume).
        document_bm25_weight: In hybrid mode, the share of a case's final score that comes from
            BM25 over its whole text (the rest: its passages' fused score, standardized).
        document_vector_weight: The share from the similarity of the case's mean passage vector.
        candidates: Passages each method contributes before fusion (filters apply first).
        boosts: Added to a case's score per matching "like you" attribute (in standard
            deviations of the fused score).
        understood_weight: The share of a boost given to an attribute understood from the
            query's words (kb.search.understanding) rather than given in the profile.
        weak_threshold: A result is weak ("no strong match") when its match strength, the
            cosine similarity of its best passage plus ``weak_coverage_weight`` times its
            term coverage (the IDF-weighted share of the query's terms its text holds, 0 to
            1), is below this. Chosen on the judged and gap queries of both corpora.
        weak_coverage_weight: How much term coverage adds to the match strength.
    """

    fusion: str = "zscore"
    dense_weight: float = 0.5
    lexical_weight: float = 0.5
    rrf_k: float = 60.0
    second_passage_weight: float = 0.3
    document_bm25_weight: float = 0.2
    document_vector_weight: float = 0.3
    candidates: int = 1000
    boosts: dict[str, float] = field(default_factory=lambda: {
        "industry": 0.5, "company_size": 0.25, "region": 0.2, "roles": 0.1})
    understood_weight: float = 0.5
    weak_threshold: float = 0.56
    weak_coverage_weight: float = 0.3

    def is_weak(self, similarity: float, coverage: float) -> bool:
        """Whether a result with this best-passage similarity and term coverage is weak."""
        return similarity + self.weak_coverage_weight * coverage < self.weak_threshold
