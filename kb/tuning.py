"""Choosing ranking settings by measurement: a grid of settings tried on judged queries.

The grid varies what the measurements in docs/search-quality.md found to matter: the weight
of the dense evidence against the lexical one (z-score fusion of passage scores) and how
much a case's second-best passage adds. Every setting ranks the same candidate passages, so
trying the whole grid costs little more than one evaluation.

Settings tuned and measured on the same queries look better than they are: tune on one set
and check the winner on another (``kb eval --ranking FILE --queries OTHER``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from kb.evaluation import JudgedQuery, Scores, mrr_at, ndcg_at, recall_at
from kb.search.settings import RankingSettings

#: Dense weights tried (the lexical weight is 1 minus it).
DENSE_WEIGHTS = (0.3, 0.4, 0.5, 0.6, 0.7)
#: Second-passage weights tried.
SECOND_PASSAGE_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)


@dataclass(frozen=True)
class Trial:
    """One setting and its figures; ``current`` marks the settings in use."""

    settings: RankingSettings
    scores: Scores
    current: bool = False


def settings_grid(current: RankingSettings) -> list[RankingSettings]:
    """The current settings first, then every grid point that ranks differently from them."""
    grid = [current]
    for dense in DENSE_WEIGHTS:
        for second in SECOND_PASSAGE_WEIGHTS:
            variant = replace(current, fusion="zscore", dense_weight=dense, lexical_weight=round(1 - dense, 6),
                              second_passage_weight=second)
            if not _same_ranking(variant, current):
                grid.append(variant)
    return grid


def tune(knowledge_base, queries: Sequence[JudgedQuery], grid: Sequence[RankingSettings] | None = None,
         include_drafts: bool = False) -> list[Trial]:
    """Measure every setting of the grid on the judged queries; best first.

    Best is the highest nDCG@10, then MRR@10, then Recall@5; on a tie the current settings
    (the grid's first entry) stay ahead, so a change must measure better to win.

    Args:
        knowledge_base: A :class:`kb.service.KnowledgeBase` over an index of the judged cases.
        queries: The judged queries (gaps, with no relevant case, are left out).
        grid: Settings to try, the current ones first (default: :func:`settings_grid` of the
            knowledge base's settings).
        include_drafts: Rank draft cases too.
    """
    grid = list(grid) if grid is not None else settings_grid(knowledge_base.ranking)
    queries = [query for query in queries if not query.is_gap]  # gaps measure weak marks, not rankings
    totals = np.zeros((len(grid), 3))
    for query in queries:
        rankings = knowledge_base.rankings(query.text, grid, k=10, filters=query.filters,
                                           include_drafts=include_drafts)
        for i, ranked in enumerate(rankings):
            totals[i] += (ndcg_at(ranked, query.rel), mrr_at(ranked, query.rel), recall_at(ranked, query.rel))
    n = max(len(queries), 1)
    trials = [Trial(settings, Scores(*(totals[i] / n), len(queries)), current=i == 0)
              for i, settings in enumerate(grid)]
    # Rounded, so that float noise in the sums cannot beat the current settings on a tie.
    return sorted(trials, key=lambda t: tuple(-round(x, 9) for x in (t.scores.ndcg10, t.scores.mrr10,
                                                                        t.scores.recall5)))


def _same_ranking(a: RankingSettings, b: RankingSettings) -> bool:
    """True when both are z-score fusions with the same relative weights and second-passage weight."""
    if a.fusion != "zscore" or b.fusion != "zscore":
        return False
    share_a = a.dense_weight / (a.dense_weight + a.lexical_weight)
    share_b = b.dense_weight / (b.dense_weight + b.lexical_weight)
    return abs(share_a - share_b) < 1e-9 and abs(a.second_passage_weight - b.second_passage_weight) < 1e-9
