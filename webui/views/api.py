"""The JSON API: search, cases, similar cases, facets, insights, health and its OpenAPI description."""

from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for

from webui.auth import include_drafts, requires
from webui.index_status import index_status
from webui.insights import insights_args, insights_report
from webui.openapi import openapi_spec
from webui.params import parse_k, search_args
from webui.searchlog import log_search
from webui.stories import load_story, public_meta
from webui.views import knowledge_base

bp = Blueprint("api", __name__)

#: Similar cases returned when ``k`` is not given.
SIMILAR_K = 5


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
    """Index version, counts and model, for monitoring (503 while there is no usable index)."""
    return jsonify(knowledge_base().health())


@bp.get("/api/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API."""
    return jsonify(openapi_spec())
