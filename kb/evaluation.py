"""Measuring ranking quality on judged queries: nDCG@10, MRR@10 and Recall@5, and weak marks.

A judged query names its relevant cases with grades (1 = partly, 2 = exactly relevant). A
query judged with no relevant case at all (``"rel": {}``) is a *gap*: a situation no story
covers, where the right answer is "no strong match". Gaps take no part in the ranking
metrics; they measure the weak-match marking instead, together with the grade-2 hits that
are marked weak although they are the right story.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from kb.errors import InvalidQueryError, KbError
from kb.search.query import filters_of
from kb.slugs import read_case_id


@dataclass(frozen=True)
class JudgedQuery:
    """A query and the grade of each relevant case (1 = partly, 2 = exactly relevant).

    With no relevant case (an empty ``rel``), a gap: no story fits the situation.
    """

    id: str
    text: str
    rel: dict[str, int]
    filters: dict | None = None
    #: Other keys of the query's line (a "style", say), for grouping the figures.
    fields: dict | None = None

    @property
    def is_gap(self) -> bool:
        return not self.rel


@dataclass(frozen=True)
class Scores:
    """Mean metrics over the judged queries of a set (gaps left out); ``queries`` counts them."""

    ndcg10: float
    mrr10: float
    recall5: float
    queries: int


@dataclass(frozen=True)
class WeakMarks:
    """How the weak-match marking fared on a query set.

    Attributes:
        hits: Judged queries with a grade-2 case in the top 10.
        hits_weak: Of those, how many had their first grade-2 case marked weak.
        gaps: Gap queries (no relevant case).
        gaps_flagged: Of those, how many got only weak results ("no strong match").
    """

    hits: int
    hits_weak: int
    gaps: int
    gaps_flagged: int

    def sentences(self) -> list[str]:
        """The figures in words, one line each (none for a part with no queries)."""
        out = []
        if self.hits:
            out.append(f"first grade-2 hit marked weak in {self.hits_weak} of {self.hits} queries "
                       f"({self.hits_weak / self.hits:.1%}): the right story, shown as a weak match")
        if self.gaps:
            out.append(f"gap queries answered 'no strong match': {self.gaps_flagged} of {self.gaps} "
                       f"({self.gaps_flagged / self.gaps:.1%})")
        return out


def load_queries(path: Path | str) -> list[JudgedQuery]:
    """Read judged queries: one JSON object per line with "id", "text" and "rel".

    A judged case id is read by the rule of case file names (:func:`kb.slugs.read_case_id`):
    ``openAI`` judges the case of ``openAI.md``, indexed as ``openai``.

    Raises:
        KbError: naming the file and line of a malformed entry.
    """
    path = Path(path)
    queries: list[JudgedQuery] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise KbError(f"cannot read queries file {path}: {exc}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            rel = {read_case_id(str(k)): int(v) for k, v in row.get("rel", {}).items()}
            query = JudgedQuery(id=str(row["id"]), text=str(row["text"]), rel=rel,
                                filters=filters_of(row) or None,
                                fields={k: v for k, v in row.items() if k not in ("id", "text", "rel", "filters")})
        except InvalidQueryError as exc:
            raise KbError(f"{path}:{number}: {exc}") from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KbError(f"{path}:{number}: not a judged query ({exc}); expected "
                          '{"id": ..., "text": ..., "rel": {"case-id": 2}}') from None
        if any(grade not in (1, 2) for grade in rel.values()):
            raise KbError(f"{path}:{number}: grades must be 1 or 2")
        queries.append(query)
    if not queries:
        raise KbError(f"{path} holds no queries")
    return queries


def judgment_warnings(queries: Sequence[JudgedQuery], indexed: Collection[str],
                      searchable: Collection[str]) -> list[str]:
    """What in judged queries no ranking can find, one sentence each (empty when all is well).

    A judged id missing from the index (a typo, or a case not indexed yet) or naming a case
    the rankings hide (a draft) counts as a miss for every ranking, so it lowers all figures
    alike without saying why; a query left with no findable relevant case scores 0 everywhere.

    Args:
        queries: The judged queries.
        indexed: Ids of every case in the index.
        searchable: Ids of the cases the rankings may return.
    """
    indexed, searchable = set(indexed), set(searchable)
    judged = {case_id for query in queries for case_id in query.rel}
    warnings = []
    unknown = sorted(judged - indexed)
    if unknown:
        warnings.append(f"{_count(unknown, 'judged case id')} not in the index, counted as missed by every "
                        f"ranking (a typo, or a case not indexed yet): {_listed(unknown)}")
    hidden = sorted((judged & indexed) - searchable)
    if hidden:
        warnings.append(f"{_count(hidden, 'judged case')} hidden from the rankings (drafts; --drafts includes "
                        f"them), counted as missed: {_listed(hidden)}")
    hopeless = [query.id for query in queries if query.rel and not set(query.rel) & searchable]
    if hopeless:
        warnings.append(f"{_count(hopeless, 'query', 'queries')} with no relevant case the rankings can return, "
                        f"scoring 0 for every ranking: {_listed(hopeless)}")
    return warnings


def _count(items: Sequence[str], one: str, many: str | None = None) -> str:
    return f"1 {one}" if len(items) == 1 else f"{len(items)} {many or one + 's'}"


def _listed(items: Sequence[str], most: int = 10) -> str:
    shown = ", ".join(items[:most])
    return shown + (f" and {len(items) - most} more" if len(items) > most else "")


def ndcg_at(ranked: Sequence[str], rel: dict[str, int], k: int = 10) -> float:
    """Normalized discounted cumulative gain with gains 2^grade - 1."""
    dcg = sum((2 ** rel.get(doc, 0) - 1) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sorted(rel.values(), reverse=True)[:k]
    idcg = sum((2 ** grade - 1) / math.log2(i + 2) for i, grade in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def mrr_at(ranked: Sequence[str], rel: dict[str, int], k: int = 10) -> float:
    """Reciprocal rank of the first grade-2 case in the top k (0 when none)."""
    for i, doc in enumerate(ranked[:k], start=1):
        if rel.get(doc, 0) >= 2:
            return 1.0 / i
    return 0.0


def recall_at(ranked: Sequence[str], rel: dict[str, int], k: int = 5) -> float:
    """Share of the relevant cases (any grade) found in the top k."""
    relevant = {doc for doc, grade in rel.items() if grade > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


#: The peer ranking measured beside kb's: plain BM25 over each case's whole text.
PEER = "doc-bm25"
#: Rankings :func:`measure` compares by default: kb's three modes, then the peer.
MODES = ("hybrid", "dense", "lexical", PEER)

#: A search as the measurements see it: (query, mode) -> top results as (case id, marked weak).
Search = Callable[[JudgedQuery, str], list[tuple[str, bool]]]


@dataclass(frozen=True)
class Report:
    """What :func:`measure` found: each ranking's figures, and the hybrid ranking's weak marks."""

    scores: dict[str, Scores]
    marks: WeakMarks | None


def measure(queries: Sequence[JudgedQuery], search: Search, modes: Sequence[str] = MODES) -> Report:
    """Each ranking's figures over the judged queries, and weak marks when hybrid is measured.

    Gap queries are searched only for the hybrid ranking, whose marks the page shows.
    """
    scores: dict[str, Scores] = {}
    marks = None
    for mode in modes:
        wanted = queries if mode == "hybrid" else [query for query in queries if not query.is_gap]
        found = [(query, search(query, mode)) for query in wanted]
        scores[mode] = _scores([(query, [case for case, _ in results]) for query, results in found
                                if not query.is_gap])  # hybrid's list holds the gaps too
        if mode == "hybrid":
            marks = _marks(found)
    return Report(scores, marks)


def grouped(queries: Sequence[JudgedQuery], field: str) -> dict[str, list[JudgedQuery]]:
    """The queries by the value of one of their other fields (``"style"``), in first-seen
    order; queries without it are grouped under "(none)"."""
    groups: dict[str, list[JudgedQuery]] = {}
    for query in queries:
        value = (query.fields or {}).get(field)
        groups.setdefault("(none)" if value is None else str(value), []).append(query)
    return groups


def evaluate(queries: Sequence[JudgedQuery], rank: Callable[[JudgedQuery], list[str]]) -> Scores:
    """Mean nDCG@10, MRR@10 and Recall@5 of a ranking function over the judged queries.

    Gap queries are not ranked; with none judged, every figure is 0 and ``queries`` is 0.
    """
    return _scores([(query, rank(query)) for query in queries if not query.is_gap])


def _scores(ranked: Sequence[tuple[JudgedQuery, list[str]]]) -> Scores:
    totals = [0.0, 0.0, 0.0]
    for query, cases in ranked:
        totals[0] += ndcg_at(cases, query.rel)
        totals[1] += mrr_at(cases, query.rel)
        totals[2] += recall_at(cases, query.rel)
    n = max(len(ranked), 1)
    return Scores(totals[0] / n, totals[1] / n, totals[2] / n, len(ranked))


def _marks(found: Sequence[tuple[JudgedQuery, list[tuple[str, bool]]]]) -> WeakMarks:
    hits = hits_weak = gaps = gaps_flagged = 0
    for query, results in found:
        results = results[:10]
        if query.is_gap:
            gaps += 1
            gaps_flagged += all(weak for _, weak in results)
            continue
        first = next((weak for case_id, weak in results if query.rel.get(case_id, 0) >= 2), None)
        if first is not None:
            hits += 1
            hits_weak += first
    return WeakMarks(hits, hits_weak, gaps, gaps_flagged)
