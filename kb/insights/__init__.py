"""Insights for marketers: what sellers search for, what they don't find, which stories are
missing or stale.

Pure functions over the search log (:mod:`kb.searchlog`), the index's case metadata
(``version.doc_meta``) and, for grouping searches by meaning, the embedding model. Each
returns plain dataclasses (with ``to_dict()``) that a CLI table, a template and JSON can all
use; :func:`build_report` runs them all. Settings (stale months) are arguments: nothing here
reads the environment. See docs/insights.md for what each section means.

The work of a report is bounded whatever the size of the log: the log is counted in SQL
(per query text and user, per day, per case), at most :data:`MAX_GROUPED_QUERIES` distinct
weak wordings are grouped, each wording is embedded once per model (:class:`CachedEmbedder`,
vectors kept in the database), and :class:`ReportCache` reuses a finished report until the
log or the index changes.

One concept per module:

- :mod:`~kb.insights.published`: the stories counted (published ones, :mod:`kb.visibility`);
- :mod:`~kb.insights.counting`: how searches are counted (normalized wording, tallies);
- :mod:`~kb.insights.frequent`: the most frequent searches;
- :mod:`~kb.insights.clustering`: grouping vectors (scipy's hierarchical clustering);
- :mod:`~kb.insights.gaps`: weak searches grouped, with the nearest story
  (:func:`kb.search.nearest.nearest_stories`);
- :mod:`~kb.insights.vector_cache`: wordings embedded once per model;
- :mod:`~kb.insights.corpus_coverage`: stories per combination of two attributes;
- :mod:`~kb.insights.staleness`: stale and undated stories;
- :mod:`~kb.insights.usage`: stories never shown, never opened, most opened;
- :mod:`~kb.insights.over_time`: searches per day or week;
- :mod:`~kb.insights.report`: the whole report; :mod:`~kb.insights.cache`: reports reused.

Demo data for the log is the CLI's (:mod:`kb.cli.demo_log`); charts are the web layer's
(:mod:`webui.charts`).
"""

from kb.insights.cache import REPORT_CACHE_SIZE, REPORT_MAX_AGE, ReportCache
from kb.insights.clustering import GROUP_SIMILARITY, cluster_vectors
from kb.insights.corpus_coverage import NOT_SET, CoverageTable, coverage, coverage_tables
from kb.insights.counting import normalize_query, tally
from kb.insights.frequent import TopSearch, top_searches
from kb.insights.gaps import MAX_GROUPED_QUERIES, WeakGroup, weak_groups
from kb.insights.over_time import TimeBucket, timeline, timeline_of_days
from kb.insights.published import published_cases
from kb.insights.report import InsightsReport, build_report
from kb.insights.staleness import DEFAULT_STALE_MONTHS, StaleCase, months_between, stale_cases
from kb.insights.usage import Activity, CaseActivity, activity, case_activity
from kb.insights.vector_cache import CachedEmbedder

__all__ = [
    "DEFAULT_STALE_MONTHS",
    "GROUP_SIMILARITY",
    "MAX_GROUPED_QUERIES",
    "NOT_SET",
    "REPORT_CACHE_SIZE",
    "REPORT_MAX_AGE",
    "Activity",
    "CachedEmbedder",
    "CaseActivity",
    "CoverageTable",
    "InsightsReport",
    "ReportCache",
    "StaleCase",
    "TimeBucket",
    "TopSearch",
    "WeakGroup",
    "activity",
    "build_report",
    "case_activity",
    "cluster_vectors",
    "coverage",
    "coverage_tables",
    "months_between",
    "normalize_query",
    "published_cases",
    "stale_cases",
    "tally",
    "timeline",
    "timeline_of_days",
    "top_searches",
    "weak_groups",
]
