"""The Insights page and ``GET /api/insights``: their parameters, the report and its charts.

The report itself is :func:`kb.insights.build_report` over the search log, the live index
version and the knowledge base's already loaded model (to group weak searches by meaning),
kept in the app's :class:`kb.insights.ReportCache`: loading the page again costs nothing
until a search is logged or the index changes, and two loads at once build it once. The
domain returns the report as data; the charts are drawn here, as :mod:`webui.charts` SVG
(escaped there). The stale months default to the settings' (``KB_STALE_MONTHS``, 24).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from kb.insights import InsightsReport, ReportCache
from webui.charts import heatmap_svg, timeline_svg
from webui.params import read_whole
from webui.searchlog import search_log
from webui.views import assembly, knowledge_base

#: Days of searches shown when ``since`` is not given.
DEFAULT_SINCE_DAYS = 90
MAX_SINCE_DAYS = 3650
MAX_STALE_MONTHS = 600
#: Periods offered on the page, in days.
SINCE_CHOICES = (7, 30, 90, 180, 365)
#: Rows of the frequent-searches, stories-to-write and most-opened lists.
TOP = 20


@dataclass(frozen=True)
class InsightsArgs:
    """The report asked for: searches of the last ``since_days`` days, stale after ``stale_months``."""

    since_days: int
    stale_months: int

    def since_choices(self) -> list[int]:
        """The periods to offer, the one asked for included."""
        return sorted({*SINCE_CHOICES, self.since_days})


def insights_args(args: MultiDict) -> InsightsArgs:
    """Read ``since`` (days, default 90) and ``stale_months`` (default the settings'
    ``KB_STALE_MONTHS``, 24).

    Raises:
        kb.errors.InvalidQueryError: A value is not a whole number in range.
    """
    default_months = assembly().settings.stale_months
    return InsightsArgs(
        since_days=read_whole(args.get("since"), "since", DEFAULT_SINCE_DAYS, 1, MAX_SINCE_DAYS, "days"),
        stale_months=read_whole(args.get("stale_months"), "stale_months", default_months, 0, MAX_STALE_MONTHS, "months"))



def insights_report(args: InsightsArgs) -> InsightsReport:
    """Every insight over the log of the last ``args.since_days`` days.

    Raises:
        kb.errors.IndexNotFoundError, IndexFormatError, IndexCorruptError: No usable index
            (:mod:`webui.errors` answers them).
    """
    base = knowledge_base()
    version = base.version
    return _report_cache().report(search_log(), version, base.embedder, since_days=args.since_days,
                                  months=args.stale_months, top=TOP)


def _report_cache() -> ReportCache:
    """The app's finished reports (one cache per app and process)."""
    cache = current_app.extensions.get("kb_insights")
    if cache is None:
        cache = current_app.extensions.setdefault("kb_insights", ReportCache())
    return cache


def report_charts(report: InsightsReport) -> dict[str, Any]:
    """The report's charts as markup for the template (:mod:`webui.charts` escapes every label)."""
    return {"timeline": Markup(timeline_svg(report.timeline, report.bucket)),
            "coverage": [Markup(heatmap_svg(table)) for table in report.coverage]}
