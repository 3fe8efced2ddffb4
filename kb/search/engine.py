"""Hybrid "customers like you" ranking over one loaded index version.

Each method (dense: FAISS over passage vectors; lexical: BM25 over the same passages)
scores the candidate passages; :mod:`kb.search.fusion` turns them into one score per case and
mixes in whole-case evidence; "like you" profile matches and what the query says of the
prospect raise the case's score. Filters restrict the passages before any cut, so a filter
never starves the results (:mod:`kb.search.filtering`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np

from indexer import Embedder, IndexVersion

from kb.fields import UNDERSTOOD_FIELDS
from kb.indexing import PROFILE_SECTION
from kb.search.filtering import CaseFilter, listed
from kb.search.fusion import DocumentEvidence, fuse, standardized_array, with_documents
from kb.search.query import SearchRequest
from kb.search.results import Response, Result, Why
from kb.search.settings import RankingSettings
from kb.search.snippets import make_snippet, query_terms
from kb.search.understanding import Understood, Vocabulary


class SearchEngine:
    """Ranks the cases of one index version for a request. Cheap to create, safe to share."""

    def __init__(self, version: IndexVersion, embedder: Embedder, settings: RankingSettings | None = None):
        self.version = version
        self.embedder = embedder
        self.settings = settings or RankingSettings()
        self.cases = CaseFilter(version)
        self._passage_stage = np.array([p.stage or "" for p in version.passages], dtype=object)
        self.vocabulary = Vocabulary.from_values(self.cases.published_values(UNDERSTOOD_FIELDS))

    # -- public ------------------------------------------------------------------------

    def search(self, request: SearchRequest, notices: list[str] | None = None) -> Response:
        """Rank the cases for a request (see :func:`kb.search.query.make_request`)."""
        facets = self.facet_counts(request)
        understood = self.understood(request)
        response = Response(query=request.text, results=[], facets=facets, notices=list(notices or []),
                            understood=understood)
        found = self._find(request, self.settings.candidates)
        if found is None:
            return response
        query_vector, dense, lexical, documents = found
        ranked = self._rank(dense, lexical, documents, request, understood, self.settings)
        response.total = len(ranked)
        terms = query_terms(request.text)
        for doc, score in ranked[: request.k]:
            response.results.append(self._result(doc, score, query_vector, lexical, documents, terms, request))
        if response.all_weak:
            response.notices.append("no strong match: no story is close to this situation, "
                                    "the closest ones are shown as weak matches")
        return response

    def rankings(self, request: SearchRequest, variants: Sequence[RankingSettings]) -> list[list[str]]:
        """The top ``request.k`` case ids under each of several ranking settings.

        One candidate search serves them all (with the most candidates any variant asks
        for), so trying many settings costs little more than one search; each list is what
        :meth:`search` returns with those settings and as many candidates.
        """
        if not variants:
            return []
        found = self._find(request, max(v.candidates for v in variants))
        if found is None:
            return [[] for _ in variants]
        _, dense, lexical, documents = found
        ids, understood = self.version.doc_ids, self.understood(request)
        return [[ids[doc] for doc, _ in self._rank(dense, lexical, documents, request, understood, v)[: request.k]]
                for v in variants]

    def whole_document_bm25(self, request: SearchRequest) -> list[str]:
        """The top ``request.k`` case ids by plain BM25 over each case's whole text, the peer a
        ranking must beat (bm25s, English stemming and stop words; filters apply, nothing else)."""
        lexical = self.version.doc_lexical
        if lexical is None:
            return []
        allowed = self.cases.mask(request.filters, request.include_drafts)  # a stage: cases telling it
        scores = np.where(allowed, lexical.scores(request.text), 0.0)
        order = [int(i) for i in np.argsort(-scores, kind="stable") if scores[i] > 0][: request.k]
        return [self.version.doc_ids[i] for i in order]

    def understood(self, request: SearchRequest) -> Understood:
        """What the request's text says about the prospect, less what the seller removed or gave
        explicitly in the profile (see :mod:`kb.search.understanding`)."""
        if not request.understand:
            return Understood()
        return self.vocabulary.understand(request.text).without(set(request.profile) | set(request.ignore))

    def matching(self, filters: dict[str, tuple[str, ...]], include_drafts: bool = False) -> list[str]:
        """Ids of the cases matching filters (a stage filter: cases that tell that stage)."""
        mask = self.cases.mask(filters, include_drafts)
        return [self.version.doc_ids[i] for i in np.flatnonzero(mask)]

    def similar(self, doc_id: str, k: int = 5, include_drafts: bool = False) -> list[tuple[str, float]]:
        """The cases nearest to a case, by the mean of their passage vectors."""
        centroids = self._centroids
        doc = self.version.doc_ids.index(doc_id)
        sims = centroids @ centroids[doc]
        ok = self.cases.mask({}, include_drafts)
        ok[doc] = False
        order = [i for i in np.argsort(-sims) if ok[i]][:k]
        return [(self.version.doc_ids[i], float(sims[i])) for i in order]

    # -- scoring -----------------------------------------------------------------------

    def _find(self, request: SearchRequest, candidates: int
              ) -> tuple[np.ndarray, dict[int, float], dict[int, float], DocumentEvidence] | None:
        """The query vector, the candidate passages' scores and the whole cases' evidence, or None
        when no passage is allowed."""
        version = self.version
        doc_filters = {k: v for k, v in request.filters.items() if k != "stage"}
        doc_ok = self.cases.mask(doc_filters, request.include_drafts)
        passage_ok = doc_ok[version.passage_doc] if len(version.passages) else np.zeros(0, dtype=bool)
        if "stage" in request.filters and len(version.passages):
            passage_ok &= np.isin(self._passage_stage, list(request.filters["stage"]))
        allowed = np.flatnonzero(passage_ok)
        if len(allowed) == 0:
            return None
        query_vector = self.embedder.encode_query(request.text)  # also gives the "why" similarity
        k = min(len(allowed), max(candidates, request.k * 20))
        dense, lexical = self._candidates(request, query_vector, allowed, passage_ok, k)
        doc_allowed = np.zeros(len(version.doc_ids), dtype=bool)
        doc_allowed[version.passage_doc[allowed]] = True
        return query_vector, dense, lexical, self._documents(request, query_vector, doc_allowed)

    def _documents(self, request: SearchRequest, query_vector: np.ndarray, allowed: np.ndarray) -> DocumentEvidence:
        """Whole-case evidence: BM25 over each case's whole text and the similarity of its mean
        passage vector, standardized over the allowed cases."""
        version = self.version
        if version.doc_lexical is not None:
            bm25, coverage = version.doc_lexical.scores_and_coverage(request.text)
            bm25 = bm25.astype(np.float64)
        else:
            bm25 = coverage = np.zeros(len(version.doc_ids))
        vector = (self._centroids @ query_vector).astype(np.float64)
        return DocumentEvidence(allowed=allowed, matched=allowed & (bm25 > 0),
                                bm25=standardized_array(bm25, allowed), vector=standardized_array(vector, allowed),
                                coverage=coverage)

    def _rank(self, dense: dict[int, float], lexical: dict[int, float], documents: DocumentEvidence,
              request: SearchRequest, understood: Understood, settings: RankingSettings) -> list[tuple[int, float]]:
        """(case, score) pairs, best first: fused, aggregated per case, joined by the whole cases'
        evidence (hybrid mode), boosted by the profile and by what the query says of the prospect."""
        fused = fuse(dense, lexical, self.version.passage_doc, request.mode, settings)
        if request.mode == "hybrid" and (settings.document_bm25_weight or settings.document_vector_weight):
            fused = with_documents(fused, documents, settings)
        boosted = {doc: score + self._boost(doc, request.profile, understood, settings)
                   for doc, score in fused.items()}
        return sorted(boosted.items(), key=lambda item: (-item[1], self.version.doc_ids[item[0]]))

    def _candidates(self, request: SearchRequest, query_vector: np.ndarray, allowed: np.ndarray,
                    passage_ok: np.ndarray, k: int) -> tuple[dict[int, float], dict[int, float]]:
        """Dense and lexical scores of the candidate passages (the union of both top-k lists).

        Every candidate gets both scores, so a passage found by one method is still judged
        by the other.
        """
        version = self.version
        dense: dict[int, float] = {}
        lexical: dict[int, float] = {}
        lexical_all = None
        if request.mode != "lexical":
            restrict = None if len(allowed) == len(version.passages) else allowed
            ids, _ = version.dense.search(query_vector, k, restrict)
            dense = dict.fromkeys(ids.tolist(), 0.0)
        if request.mode != "dense":
            lexical_all = np.where(passage_ok, version.lexical.scores(request.text), 0.0)
            positive = np.flatnonzero(lexical_all > 0)
            if len(positive) > k:
                positive = positive[np.argpartition(-lexical_all[positive], k - 1)[:k]]
            lexical = dict.fromkeys(positive.tolist(), 0.0)
        pool = np.array(sorted(set(dense) | set(lexical)), dtype=np.int64)
        if request.mode != "lexical" and len(pool):
            sims = version.vectors[pool] @ query_vector
            dense = dict(zip(pool.tolist(), sims.tolist()))
        if lexical_all is not None and len(pool):
            lexical = dict(zip(pool.tolist(), lexical_all[pool].tolist()))
        return dense, lexical

    def _boost(self, doc: int, profile: dict[str, str], understood: Understood, settings: RankingSettings) -> float:
        """The "like you" boost: the profile's attributes the case shares, and a share
        (``understood_weight``) of the boost of each understood attribute it shares."""
        if not profile and not understood:
            return 0.0
        meta = self.version.doc_meta[self.version.doc_ids[doc]]
        boost = sum(settings.boosts.get(key, 0.0) for key, value in profile.items() if _same(meta.get(key), value))
        if understood and settings.understood_weight:
            boost += settings.understood_weight * sum(
                settings.boosts.get(key, 0.0) for key, values in understood.attributes.items()
                if _shares(meta.get(key), values))
        return boost

    # -- results -----------------------------------------------------------------------

    def _result(self, doc: int, score: float, query_vector: np.ndarray, lexical: dict[int, float],
                documents: DocumentEvidence, terms: set[str], request: SearchRequest) -> Result:
        version = self.version
        doc_id = version.doc_ids[doc]
        span = version.doc_range(doc_id)
        stage_ok = request.filters.get("stage")
        passages = [i for i in span if not stage_ok or version.passages[i].stage in stage_ok]
        # Show story text: the profile passage (no section stage, first) only when nothing else is left.
        story = [i for i in passages if version.passages[i].section != PROFILE_SECTION]
        shown = story or passages
        similarity = float(np.max(version.vectors[passages] @ query_vector))
        sims = version.vectors[shown] @ query_vector
        top_lex = max((lexical.get(i, 0.0) for i in shown), default=0.0) or 1.0
        # The passage shown is the one best on both signals together.
        blend = [sims[j] + 0.5 * lexical.get(i, 0.0) / top_lex for j, i in enumerate(shown)]
        passage = version.passages[shown[int(np.argmax(blend))]]
        snippet = make_snippet(passage.text, terms)
        meta = version.doc_meta[doc_id]
        attributes = tuple(f"{key.replace('_', ' ')} {meta.get(key)}" for key, value in request.profile.items()
                           if _same(meta.get(key), value))
        coverage = float(documents.coverage[doc])
        why = Why(similarity=similarity, terms=snippet.terms or _shared_terms(passage.text, terms),
                  attributes=attributes, coverage=coverage)
        return Result(id=doc_id, score=score, meta=meta, section=passage.section, stage=passage.stage,
                      passage=passage.text, snippet=snippet, why=why, weak=self.settings.is_weak(similarity, coverage))

    # -- whole cases -------------------------------------------------------------------

    def facet_counts(self, request: SearchRequest) -> dict[str, dict[str, int]]:
        """Counts of each facet value among the cases matching every other filter of the request."""
        return self.cases.facet_counts(request.filters, request.include_drafts)

    @cached_property
    def _centroids(self) -> np.ndarray:
        """Each case's mean passage vector, normalized (its "document vector")."""
        version = self.version
        matrix = np.zeros((len(version.doc_ids), version.vectors.shape[1] if len(version.vectors) else 1),
                          dtype=np.float32)
        for doc, doc_id in enumerate(version.doc_ids):
            span = version.doc_range(doc_id)
            if len(span):
                mean = version.vectors[span.start:span.stop].mean(axis=0)
                matrix[doc] = mean / (np.linalg.norm(mean) or 1.0)
        return matrix


def _same(actual: Any, wanted: str) -> bool:
    return isinstance(actual, str) and actual.casefold() == wanted.casefold()


def _shares(actual: Any, wanted: tuple[str, ...]) -> bool:
    """True when a case's value (or one of its list of values) is among the wanted ones."""
    return any(isinstance(value, str) and value in wanted for value in listed(actual))


def _shared_terms(text: str, terms: set[str]) -> tuple[str, ...]:
    from indexer import tokenize

    return tuple(sorted(set(tokenize([text])[0]) & terms))


__all__ = ["DocumentEvidence", "Response", "Result", "SearchEngine", "Why"]
