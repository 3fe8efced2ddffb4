"""The Insights page (marketers and admins): what sellers search for and don't find, coverage,
stale and unused stories. ``GET /api/insights`` (in :mod:`webui.views.api`) is its JSON twin."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from webui.auth import requires
from webui.insights import insights_args, insights_report, report_charts

bp = Blueprint("insights", __name__)


@bp.get("/insights")
@requires("insights")
def page():
    """Every insight over the searches of the last ``since`` days (default 90)."""
    args = insights_args(request.args)
    report = insights_report(args)
    return render_template("insights.html", report=report, args=args, charts=report_charts(report))
