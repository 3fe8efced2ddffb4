"""Ranking settings: fusion, aggregation, boosts and the weak-match threshold."""

from __future__ import annotations

from dataclasses import dataclass, field

FUSION_METHODS = ("rrf", "score")
MODES = ("hybrid", "dense", "lexical")


@dataclass(frozen=True)
class RankingSettings:
    """How dense and lexical evidence become one ranked list of cases.

    Attributes:
        fusion: "rrf" (reciprocal-rank fusion of case ranks) or "score" (a weighted sum of
            normalized case scores).
        dense_weight: Weight of the dense ranking in the fusion.
        lexical_weight: Weight of the lexical ranking in the fusion.
        rrf_k: The constant of reciprocal-rank fusion.
        second_passage_weight: How much a case's second-best passage adds to its best one
            (0 = only the best passage counts, so a long story does not win by volume).
        candidates: Passages each method contributes before fusion (at least; filters apply first).
        boosts: Score multiplier added per matching "like you" attribute.
        weak_similarity: Below this cosine similarity of its best passage, a result is weak.
    """

    fusion: str = "rrf"
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    rrf_k: float = 60.0
    second_passage_weight: float = 0.0
    candidates: int = 1000
    boosts: dict[str, float] = field(default_factory=lambda: {
        "industry": 0.15, "company_size": 0.08, "region": 0.05})
    weak_similarity: float = 0.30
