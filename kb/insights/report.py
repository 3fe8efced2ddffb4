"""The whole insights report: every section, computed over the log, the index and the model."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from kb.insights.corpus_coverage import CoverageTable, coverage_tables
from kb.insights.counting import normalize_query
from kb.insights.frequent import TopSearch, top_searches
from kb.insights.gaps import MAX_GROUPED_QUERIES, WeakGroup, weak_groups
from kb.insights.over_time import TimeBucket, timeline_of_days
from kb.insights.published import published_cases
from kb.insights.staleness import DEFAULT_STALE_MONTHS, StaleCase, stale_cases
from kb.insights.usage import Activity, activity
from kb.insights.vector_cache import CachedEmbedder
from kb.searchlog import DEMO_USER, SearchLog, iso_time

_DAY = 86400.0


@dataclass
class InsightsReport:
    """Every section of the insights page and of ``kb insights report``."""

    generated_at: str
    since: str | None
    totals: dict[str, int]
    top_searches: list[TopSearch]
    weak_groups: list[WeakGroup]
    coverage: list[CoverageTable]
    stale_months: int
    stale: list[StaleCase]
    undated: list[StaleCase]
    activity: Activity
    bucket: str
    timeline: list[TimeBucket]
    demo_rows: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at, "since": self.since, "totals": self.totals,
            "top_searches": [t.to_dict() for t in self.top_searches],
            "weak_groups": [g.to_dict() for g in self.weak_groups],
            "coverage": [c.to_dict() for c in self.coverage],
            "stale_months": self.stale_months,
            "stale": [c.to_dict() for c in self.stale], "undated": [c.to_dict() for c in self.undated],
            **self.activity.to_dict(),
            "bucket": self.bucket, "timeline": [b.to_dict() for b in self.timeline],
            "demo_rows": self.demo_rows, "notes": self.notes,
        }


def build_report(log: SearchLog, version, embedder, now: float | None = None, since_days: int | None = None,
                 months: int = DEFAULT_STALE_MONTHS, top: int = 20,
                 max_queries: int = MAX_GROUPED_QUERIES) -> InsightsReport:
    """Compute every insight over the log (optionally the last ``since_days`` days only).

    The log is counted in SQL (per query text and user, per day, per case); the wordings
    grouped are embedded through a :class:`CachedEmbedder`, so a report embeds only the
    wordings no report has embedded before, at most ``max_queries``.

    Args:
        log: The search log.
        version: The live index version (``KnowledgeBase.version``): case metadata and vectors.
        embedder: The model, to group weak searches by meaning (only used for wordings not
            cached yet); its ``name`` keys the cache.
        now: The current time in seconds (default: now).
        since_days: Only searches and opens of the last this many days.
        months: Stale after this many months (the caller's setting; default 24).
        top: Rows in the top-searches, weak-groups and most-opened lists.
        max_queries: Most distinct weak wordings grouped (the most frequent).
    """
    now = time.time() if now is None else now
    today = dt.datetime.fromtimestamp(now, dt.timezone.utc).date()
    since = None if since_days is None else now - since_days * _DAY
    tallies = log.tallies(since)
    opened = log.open_counts(since)
    stale, undated = stale_cases(version.doc_meta, months, today)
    bucket, buckets = timeline_of_days(
        log.daily_counts(since), today,
        start=None if since is None else dt.datetime.fromtimestamp(since, dt.timezone.utc).date())
    searches = sum(t.count for t in tallies)
    weak = sum(t.weak for t in tallies)
    totals = {"searches": searches, "weak": weak, "strong": searches - weak,
              "opens": sum(count for count, _ in opened.values()),
              "users": len({t.user for t in tallies if t.user}),
              "cases": len(published_cases(version.doc_meta))}
    notes = []
    if not searches:
        notes.append("no searches logged yet: they are logged as sellers search "
                     "(`kb insights seed-demo` fills the log with demo searches)")
    wordings = len({normalize_query(t.query) for t in tallies if t.weak})
    if wordings > max_queries:
        notes.append(f"stories to write next: the {max_queries} most frequent of the {wordings} different "
                     "wordings with no strong match are grouped")
    groups = weak_groups(tallies, CachedEmbedder(log, embedder), version, max_queries=max_queries, limit=top)
    return InsightsReport(
        generated_at=iso_time(now), since=None if since is None else iso_time(since), totals=totals,
        top_searches=top_searches(tallies, top), weak_groups=groups,
        coverage=coverage_tables(version.doc_meta), stale_months=months, stale=stale, undated=undated,
        activity=activity(version.doc_meta, log.shown_counts(since), opened, top), bucket=bucket,
        timeline=buckets, demo_rows=sum(t.count for t in tallies if t.user == DEMO_USER), notes=notes)
