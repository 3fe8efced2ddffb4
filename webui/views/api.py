"""The JSON API: search, cases, similar cases, facets, insights, health and its OpenAPI description."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request, url_for

from webui.auth import can, include_drafts, requires
from webui.errors import STATUS_OF
from webui.index_status import index_status
from webui.insights import insights_args, insights_report
from webui.openapi import openapi_spec
from webui.params import SIMILAR_K, parse_k, search_args
from webui.searchlog import log_search
from webui.stories import load_story, public_meta
from webui.views import knowledge_base

bp = Blueprint("api", __name__)

#: The errors of an unusable index (each a 503).
UNAVAILABLE: tuple[type[Exception], ...] = tuple(kind for kind, status in STATUS_OF if status == 503)
#: All /healthz tells a caller who may not see why the index is unusable (no path, no count).
NOT_READY = "not ok: there is no usable index; an administrator signed in sees why, or can run `kb index` to build it"


@bp.get("/api/search")
def search():
    """Rank cases for a situation: the JSON of ``kb search --json``, and the ``search_id`` it
    was logged under (None when it could not be logged)."""
    args = search_args(request.args, include_drafts=include_drafts())
    response = knowledge_base().search(**args.kwargs())
    return jsonify({**response.to_dict(), "search_id": log_search(response, args)})


@bp.get("/api/cases/<case_id>")
def case(case_id: str):
    """A published case (or a draft, for marketers): its metadata and its sections as sanitized HTML."""
    base = knowledge_base()
    story = load_story(base.case_meta(case_id, include_drafts=include_drafts()), base.settings.cases_dir)
    return jsonify({**story.to_dict(), "url": url_for("pages.story", case_id=case_id, _external=True)})


@bp.get("/api/cases/<case_id>/similar")
def similar(case_id: str):
    """The published cases nearest to a case."""
    k = parse_k(request.args.get("k"), SIMILAR_K)
    results = knowledge_base().similar(case_id, k=k, include_drafts=include_drafts())
    return jsonify({"id": case_id, "results": [public_meta(meta) for meta in results]})


@bp.get("/api/facets")
def facets():
    """Facet counts over every published case (and drafts, for marketers)."""
    return jsonify({"facets": knowledge_base().facets(include_drafts=include_drafts())})


@bp.get("/api/index/status")
@requires("edit")
def index_state():
    """The background indexer's state, polled by the editor after a save."""
    return jsonify(index_status())


@bp.get("/api/insights")
@requires("insights")
def insights():
    """The insights report of the Insights page, as JSON (marketers and admins)."""
    return jsonify(insights_report(insights_args(request.args)).to_dict())


@bp.get("/healthz")
def health():
    """Whether the index is usable, for monitoring: ``{"status": "ok"}``, or a 503.

    Only an admin (who may rebuild the index) sees the details and the reason for a 503: the
    counts include drafts, and the ranking file and a missing index's location are server paths.
    """
    if can("reindex"):
        return jsonify(knowledge_base().health())
    try:
        knowledge_base().health()
    except UNAVAILABLE:
        abort(503, description=NOT_READY)
    return jsonify({"status": "ok"})


@bp.get("/api/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API."""
    return jsonify(openapi_spec())
