"""Measuring ranking quality on judged queries: nDCG@10, MRR@10 and Recall@5."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from kb.errors import KbError


@dataclass(frozen=True)
class JudgedQuery:
    """A query and the grade of each relevant case (1 = partly, 2 = exactly relevant)."""

    id: str
    text: str
    rel: dict[str, int]
    filters: dict | None = None


@dataclass(frozen=True)
class Scores:
    """Mean metrics over a query set."""

    ndcg10: float
    mrr10: float
    recall5: float
    queries: int


def load_queries(path: Path | str) -> list[JudgedQuery]:
    """Read judged queries: one JSON object per line with "id", "text" and "rel".

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
            rel = {str(k): int(v) for k, v in row.get("rel", {}).items()}
            query = JudgedQuery(id=str(row["id"]), text=str(row["text"]), rel=rel,
                                filters=row.get("filters"))
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
    hopeless = [query.id for query in queries if not set(query.rel) & searchable]
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


def evaluate(queries: Sequence[JudgedQuery], rank: Callable[[JudgedQuery], list[str]]) -> Scores:
    """Mean nDCG@10, MRR@10 and Recall@5 of a ranking function over judged queries."""
    totals = [0.0, 0.0, 0.0]
    for query in queries:
        ranked = rank(query)
        totals[0] += ndcg_at(ranked, query.rel)
        totals[1] += mrr_at(ranked, query.rel)
        totals[2] += recall_at(ranked, query.rel)
    n = len(queries)
    return Scores(totals[0] / n, totals[1] / n, totals[2] / n, n)
