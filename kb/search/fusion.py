"""Fusion: passage scores of the two methods into one score per case, joined by whole-case evidence.

By default each passage's dense and lexical scores are standardized and combined, and a case
scores its best passage plus a little of its second best (the other fusion, reciprocal-rank
fusion of the per-method case rankings, is a setting). In hybrid mode the case's passage-based
score is then mixed with evidence about the whole story (BM25 of its whole text, the similarity
of its mean passage vector). See docs/search-quality.md for how the weights were chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kb.search.settings import RankingSettings


@dataclass(frozen=True)
class DocumentEvidence:
    """Evidence about whole cases for one query: z-scores over the allowed cases (one per case)."""

    allowed: np.ndarray  # cases with at least one passage the filters allow
    matched: np.ndarray  # allowed cases sharing a term with the query
    bm25: np.ndarray  # BM25 of the case's whole text
    vector: np.ndarray  # similarity of the case's mean passage vector
    coverage: np.ndarray  # IDF-weighted share of the query's terms in the case's text (0 to 1, raw)


def fuse(dense: dict[int, float], lexical: dict[int, float], passage_doc: np.ndarray, mode: str,
         settings: RankingSettings) -> dict[int, float]:
    """Combine the methods' passage scores into one score per case (higher is better).

    Args:
        dense, lexical: Passage -> score of each method (the candidates).
        passage_doc: The case of each passage.
        mode: ``hybrid``, ``dense`` or ``lexical``.
    """
    s = settings
    if mode == "dense":
        return aggregate(standardized(dense), passage_doc, s)
    if mode == "lexical":
        return aggregate(standardized(lexical), passage_doc, s)
    if s.fusion == "zscore":
        d, l = standardized(dense), standardized(lexical)
        total = s.dense_weight + s.lexical_weight
        return aggregate({p: (s.dense_weight * d.get(p, 0.0) + s.lexical_weight * l.get(p, 0.0)) / total
                          for p in set(d) | set(l)}, passage_doc, s)
    fused: dict[int, float] = {}
    for weight, scores in ((s.dense_weight, aggregate(dense, passage_doc, s)),
                           (s.lexical_weight, aggregate(lexical, passage_doc, s))):
        for rank, doc in enumerate(sorted(scores, key=lambda d: -scores[d]), start=1):
            fused[doc] = fused.get(doc, 0.0) + weight / (s.rrf_k + rank)
    return fused


def aggregate(passage_scores: dict[int, float], passage_doc: np.ndarray, settings: RankingSettings) -> dict[int, float]:
    """A case's score: its best passage, plus a share of its second best.

    Only a second passage that is itself a good match (a positive z-score) adds, and only
    a share of it, so a long story does not win by volume (see docs/search-quality.md).
    """
    best: dict[int, list[float]] = {}
    for passage, score in passage_scores.items():
        best.setdefault(int(passage_doc[passage]), []).append(score)
    weight = settings.second_passage_weight
    out: dict[int, float] = {}
    for doc, scores in best.items():
        scores.sort(reverse=True)
        out[doc] = scores[0] + (weight * max(scores[1], 0.0) if weight and len(scores) > 1 else 0.0)
    return out


def with_documents(passage_scores: dict[int, float], documents: DocumentEvidence,
                   settings: RankingSettings) -> dict[int, float]:
    """A case's passage-based score, standardized, mixed with its whole-case evidence.

    Passages show what matched; evidence spread thinly over a story (a paraphrased situation)
    adds up only over the whole text. Cases no passage brought in but whose text shares terms
    with the query join the ranking at the lowest passage score.
    """
    w_bm25, w_vector = settings.document_bm25_weight, settings.document_vector_weight
    w_passages = 1.0 - w_bm25 - w_vector
    z = standardized(passage_scores)
    floor = min(z.values(), default=0.0)
    cases = set(z) | {int(doc) for doc in np.flatnonzero(documents.matched)}
    return {doc: w_passages * z.get(doc, floor) + w_bm25 * float(documents.bm25[doc])
            + w_vector * float(documents.vector[doc]) for doc in cases if documents.allowed[doc]}


def standardized(scores: dict[int, float]) -> dict[int, float]:
    """Z-scores: each score minus the mean, over the standard deviation, of the list."""
    if not scores:
        return {}
    values = np.fromiter(scores.values(), dtype=np.float64, count=len(scores))
    spread = float(values.std()) or 1.0
    mean = float(values.mean())
    return {key: (score - mean) / spread for key, score in scores.items()}


def standardized_array(values: np.ndarray, over: np.ndarray) -> np.ndarray:
    """Z-scores of values, with the mean and spread of the entries ``over`` selects."""
    if not over.any():
        return np.zeros_like(values)
    chosen = values[over]
    return (values - chosen.mean()) / (float(chosen.std()) or 1.0)
