"""Hybrid "customers like you" ranking over one loaded index version.

Each method (dense: FAISS over passage vectors; lexical: BM25 over the same passages)
scores the candidate passages. By default each passage's two scores are standardized and
combined, and a case scores its best passage plus a little of its second best (the other
fusion, reciprocal-rank fusion of the per-method case rankings, is a setting); "like you"
profile matches raise the case's score. Filters restrict the passages before any cut, so
a filter never starves the results.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from indexer import Embedder, IndexVersion

from kb.indexing import PROFILE_SECTION
from kb.search.query import FILTER_FIELDS, PROFILE_FIELDS, SearchRequest
from kb.search.settings import RankingSettings
from kb.search.snippets import make_snippet, query_terms
from kb.search.understanding import UNDERSTOOD_FIELDS, Understood, Vocabulary
from kb.stages import stage_label
from kb.visibility import is_draft

#: Facets reported with every response, in display order.
FACET_FIELDS = ("industry", "company_size", "region", "stage", "tags")
#: Filter sets whose case masks and facet counts an engine keeps.
MEMO_SIZE = 256


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
    """One case in the ranking, with the passage that matched best."""

    id: str
    score: float
    meta: dict[str, Any]
    section: str | None
    stage: str | None
    passage: str
    snippet_text: str
    snippet_html: str
    why: Why
    weak: bool

    def to_dict(self) -> dict[str, Any]:
        meta = self.meta
        return {
            "id": self.id,
            "title": meta.get("title"),
            "customer": meta.get("customer"),
            "industry": meta.get("industry"),
            "company_size": meta.get("company_size"),
            "region": meta.get("region"),
            "tags": meta.get("tags", []),
            "products": meta.get("products", []),
            "published": meta.get("published"),
            "status": meta.get("status"),
            "summary": meta.get("summary"),
            "score": round(self.score, 6),
            "snippet": self.snippet_text,
            "snippet_html": self.snippet_html,
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


class SearchEngine:
    """Ranks the cases of one index version for a request. Cheap to create, safe to share."""

    def __init__(self, version: IndexVersion, embedder: Embedder, settings: RankingSettings | None = None):
        self.version = version
        self.embedder = embedder
        self.settings = settings or RankingSettings()
        self._doc_values = [_facet_values(version.doc_meta[doc_id]) for doc_id in version.doc_ids]
        self._draft = np.array([is_draft(version.doc_meta[doc_id]) for doc_id in version.doc_ids], dtype=bool)
        self._passage_stage = np.array([p.stage or "" for p in version.passages], dtype=object)
        self.vocabulary = Vocabulary.from_values(self._known_values())
        # Case masks and facet counts by filters: the version never changes, so neither do they.
        self._memo: dict[tuple, Any] = {}

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
        allowed = self._doc_mask(request.filters, request.include_drafts)  # a stage: cases telling it
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
        mask = self._doc_mask(filters, include_drafts)
        return [self.version.doc_ids[i] for i in np.flatnonzero(mask)]

    def similar(self, doc_id: str, k: int = 5, include_drafts: bool = False) -> list[tuple[str, float]]:
        """The cases nearest to a case, by the mean of their passage vectors."""
        centroids = self._centroids()
        doc = self.version.doc_ids.index(doc_id)
        sims = centroids @ centroids[doc]
        ok = self._doc_mask({}, include_drafts)
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
        doc_ok = self._doc_mask(doc_filters, request.include_drafts)
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
        vector = (self._centroids() @ query_vector).astype(np.float64)
        return DocumentEvidence(allowed=allowed, matched=allowed & (bm25 > 0),
                                bm25=_standardized_array(bm25, allowed), vector=_standardized_array(vector, allowed),
                                coverage=coverage)

    def _rank(self, dense: dict[int, float], lexical: dict[int, float], documents: DocumentEvidence,
              request: SearchRequest, understood: Understood, settings: RankingSettings) -> list[tuple[int, float]]:
        """(case, score) pairs, best first: fused, aggregated per case, joined by the whole cases'
        evidence (hybrid mode), boosted by the profile and by what the query says of the prospect."""
        fused = self._fuse(dense, lexical, request.mode, settings)
        if request.mode == "hybrid" and (settings.document_bm25_weight or settings.document_vector_weight):
            fused = _with_documents(fused, documents, settings)
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

    def _aggregate(self, passage_scores: dict[int, float], settings: RankingSettings) -> dict[int, float]:
        """A case's score: its best passage, plus a share of its second best.

        Only a second passage that is itself a good match (a positive z-score) adds, and only
        a share of it, so a long story does not win by volume (see docs/search-quality.md).
        """
        best: dict[int, list[float]] = {}
        for passage, score in passage_scores.items():
            best.setdefault(int(self.version.passage_doc[passage]), []).append(score)
        weight = settings.second_passage_weight
        out: dict[int, float] = {}
        for doc, scores in best.items():
            scores.sort(reverse=True)
            out[doc] = scores[0] + (weight * max(scores[1], 0.0) if weight and len(scores) > 1 else 0.0)
        return out

    def _fuse(self, dense: dict[int, float], lexical: dict[int, float], mode: str,
              settings: RankingSettings) -> dict[int, float]:
        """Combine the methods' passage scores into one score per case (higher is better)."""
        s = settings
        if mode == "dense":
            return self._aggregate(_standardized(dense), s)
        if mode == "lexical":
            return self._aggregate(_standardized(lexical), s)
        if s.fusion == "zscore":
            d, l = _standardized(dense), _standardized(lexical)
            total = s.dense_weight + s.lexical_weight
            return self._aggregate({p: (s.dense_weight * d.get(p, 0.0) + s.lexical_weight * l.get(p, 0.0)) / total
                                    for p in set(d) | set(l)}, s)
        fused: dict[int, float] = {}
        for weight, scores in ((s.dense_weight, self._aggregate(dense, s)),
                               (s.lexical_weight, self._aggregate(lexical, s))):
            for rank, doc in enumerate(sorted(scores, key=lambda d: -scores[d]), start=1):
                fused[doc] = fused.get(doc, 0.0) + weight / (s.rrf_k + rank)
        return fused

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
                      passage=passage.text, snippet_text=snippet.marked("", ""), snippet_html=snippet.html(),
                      why=why, weak=self.settings.is_weak(similarity, coverage))

    # -- filters and facets ------------------------------------------------------------

    def _doc_mask(self, filters: dict[str, tuple[str, ...]], include_drafts: bool) -> np.ndarray:
        """Which cases pass filters (a fresh array the caller may change)."""
        key = ("mask", _filters_key(filters), include_drafts)
        mask = self._memo.get(key)
        if mask is None:
            mask = self._remember(key, self._compute_doc_mask(filters, include_drafts))
        return mask.copy()

    def _compute_doc_mask(self, filters: dict[str, tuple[str, ...]], include_drafts: bool) -> np.ndarray:
        mask = np.ones(len(self.version.doc_ids), dtype=bool)
        for doc, values in enumerate(self._doc_values):
            if self._draft[doc] and not include_drafts:  # never shown, whatever the filters
                mask[doc] = False
                continue
            for key, wanted in filters.items():
                if not values.get(key, set()) & {w.casefold() for w in wanted}:
                    mask[doc] = False
                    break
        return mask

    def facet_counts(self, request: SearchRequest) -> dict[str, dict[str, int]]:
        """Counts of each facet value among cases matching every other filter (disjunctive facets).

        They depend on the filters only, never on the query text, so each set of filters is
        counted once per index version (a loop over every case: 20 ms per 500 cases).
        """
        key = ("facets", _filters_key(request.filters), request.include_drafts)
        facets = self._memo.get(key)
        if facets is None:
            facets = self._remember(key, self._compute_facet_counts(request))
        return {name: dict(counts) for name, counts in facets.items()}

    def _remember(self, key: tuple, value: Any) -> Any:
        if len(self._memo) >= MEMO_SIZE:
            self._memo.clear()  # many different filter sets: start over rather than grow
        self._memo[key] = value
        return value

    def _compute_facet_counts(self, request: SearchRequest) -> dict[str, dict[str, int]]:
        facets: dict[str, dict[str, int]] = {}
        for name in FACET_FIELDS:
            others = {k: v for k, v in request.filters.items() if k != name}
            mask = self._doc_mask(others, request.include_drafts)
            counts: Counter[str] = Counter()
            for doc in np.flatnonzero(mask):
                meta = self.version.doc_meta[self.version.doc_ids[doc]]
                for value in _listed(meta.get("stages") if name == "stage" else meta.get(name)):
                    counts[value] += 1
            facets[name] = dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
        return facets

    def _known_values(self) -> dict[str, set[str]]:
        """Each understood attribute's values among the published cases (drafts never show)."""
        known: dict[str, set[str]] = {name: set() for name in UNDERSTOOD_FIELDS}
        for doc, doc_id in enumerate(self.version.doc_ids):
            if self._draft[doc]:
                continue
            meta = self.version.doc_meta[doc_id]
            for name in UNDERSTOOD_FIELDS:
                known[name].update(value for value in _listed(meta.get(name)) if isinstance(value, str))
        return known

    def _centroids(self) -> np.ndarray:
        if not hasattr(self, "_centroid_matrix"):
            version = self.version
            matrix = np.zeros((len(version.doc_ids), version.vectors.shape[1] if len(version.vectors) else 1),
                              dtype=np.float32)
            for doc, doc_id in enumerate(version.doc_ids):
                span = version.doc_range(doc_id)
                if len(span):
                    mean = version.vectors[span.start:span.stop].mean(axis=0)
                    matrix[doc] = mean / (np.linalg.norm(mean) or 1.0)
            self._centroid_matrix = matrix
        return self._centroid_matrix


def _facet_values(meta: dict[str, Any]) -> dict[str, set[str]]:
    values: dict[str, set[str]] = {}
    for key in FILTER_FIELDS:
        values[key] = {str(item).casefold() for item in _listed(meta.get("stages") if key == "stage" else meta.get(key))}
    values["status"] = values.get("status") or {"published"}
    return values


def _filters_key(filters: dict[str, tuple[str, ...]]) -> tuple:
    return tuple(sorted((key, tuple(values)) for key, values in filters.items()))


def _same(actual: Any, wanted: str) -> bool:
    return isinstance(actual, str) and actual.casefold() == wanted.casefold()


def _shares(actual: Any, wanted: tuple[str, ...]) -> bool:
    """True when a case's value (or one of its list of values) is among the wanted ones."""
    return any(isinstance(value, str) and value in wanted for value in _listed(actual))


def _listed(raw: Any) -> list:
    """A metadata value as a list: a string is one value, a list its items, anything else none."""
    return [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, list) else []


def _standardized(scores: dict[int, float]) -> dict[int, float]:
    """Z-scores: each score minus the mean, over the standard deviation, of the list."""
    if not scores:
        return {}
    values = np.fromiter(scores.values(), dtype=np.float64, count=len(scores))
    spread = float(values.std()) or 1.0
    mean = float(values.mean())
    return {key: (score - mean) / spread for key, score in scores.items()}


@dataclass(frozen=True)
class DocumentEvidence:
    """Evidence about whole cases for one query: z-scores over the allowed cases (one per case)."""

    allowed: np.ndarray  # cases with at least one passage the filters allow
    matched: np.ndarray  # allowed cases sharing a term with the query
    bm25: np.ndarray  # BM25 of the case's whole text
    vector: np.ndarray  # similarity of the case's mean passage vector
    coverage: np.ndarray  # IDF-weighted share of the query's terms in the case's text (0 to 1, raw)


def _with_documents(passage_scores: dict[int, float], documents: DocumentEvidence,
                    settings: RankingSettings) -> dict[int, float]:
    """A case's passage-based score, standardized, mixed with its whole-case evidence.

    Passages show what matched; evidence spread thinly over a story (a paraphrased situation)
    adds up only over the whole text. Cases no passage brought in but whose text shares terms
    with the query join the ranking at the lowest passage score.
    """
    w_bm25, w_vector = settings.document_bm25_weight, settings.document_vector_weight
    w_passages = 1.0 - w_bm25 - w_vector
    standardized = _standardized(passage_scores)
    floor = min(standardized.values(), default=0.0)
    cases = set(standardized) | {int(doc) for doc in np.flatnonzero(documents.matched)}
    return {doc: w_passages * standardized.get(doc, floor) + w_bm25 * float(documents.bm25[doc])
            + w_vector * float(documents.vector[doc]) for doc in cases if documents.allowed[doc]}


def _standardized_array(values: np.ndarray, over: np.ndarray) -> np.ndarray:
    """Z-scores of values, with the mean and spread of the entries ``over`` selects."""
    if not over.any():
        return np.zeros_like(values)
    chosen = values[over]
    return (values - chosen.mean()) / (float(chosen.std()) or 1.0)


def _shared_terms(text: str, terms: set[str]) -> tuple[str, ...]:
    from indexer import tokenize

    return tuple(sorted(set(tokenize([text])[0]) & terms))


__all__ = ["FACET_FIELDS", "PROFILE_FIELDS", "DocumentEvidence", "Response", "Result", "SearchEngine", "Why"]
