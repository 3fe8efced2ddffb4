"""Measuring ranking quality on judged queries: nDCG@10, MRR@10 and Recall@5."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
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
