"""The JSON API: search, cases, similar cases, facets, insights, health and its OpenAPI description.

Each answer is built through its model in :mod:`webui.schemas`, the models
``/api/openapi.json`` is generated from (:mod:`webui.openapi`).
"""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request, url_for

from webui.auth import can, include_drafts, requires
from webui.errors import STATUS_OF
from webui.index_status import index_status
from webui.insights import insights_args, insights_report
from webui.openapi import openapi_spec
from webui.params import SIMILAR_PARAMS, search_args
from webui.schemas import (
    CaseStory,
    FacetsAnswer,
    Health,
    HealthStatus,
    IndexStatus,
    InsightsAnswer,
    SearchAnswer,
    SimilarAnswer,
)
from webui.searchlog import log_search
from webui.stories import load_story
from webui.views import knowledge_base

bp = Blueprint("api", __name__)

#: The errors of an unusable index (each a 503).
UNAVAILABLE: tuple[type[Exception], ...] = tuple(kind for kind, status in STATUS_OF if status == 503)
#: All /healthz tells a caller who may not see why the index is unusable (no path, no count).
NOT_READY = "not ok: there is no usable index; an administrator signed in sees why, or can run `kb index` to build it"
#: ``k`` of the similar cases.
_SIMILAR_K = SIMILAR_PARAMS[0]


@bp.get("/api/search")
def search():
    """Rank cases for a situation: the JSON of ``kb search --json`` with each snippet also as
    HTML, and the ``search_id`` it was logged under (None when it could not be logged)."""
    args = search_args(request.args, include_drafts=include_drafts())
    response = knowledge_base().search(**args.kwargs())
    return jsonify(SearchAnswer.from_response(response, log_search(response, args)).answer())


@bp.get("/api/cases/<case_id>")
def case(case_id: str):
    """A published case (or a draft, for marketers): its metadata and its sections as sanitized HTML."""
    base = knowledge_base()
    story = load_story(base.case_meta(case_id, include_drafts=include_drafts()), base.settings.cases_dir)
    url = url_for("pages.story", case_id=case_id, _external=True)
    return jsonify(CaseStory.from_story(story, url).answer())


@bp.get("/api/cases/<case_id>/similar")
def similar(case_id: str):
    """The published cases nearest to a case."""
    k = _SIMILAR_K.whole(request.args)
    results = knowledge_base().similar(case_id, k=k, include_drafts=include_drafts())
    return jsonify(SimilarAnswer.from_cases(case_id, results).answer())


@bp.get("/api/facets")
def facets():
    """Facet counts over every published case (and drafts, for marketers)."""
    return jsonify(FacetsAnswer(facets=knowledge_base().facets(include_drafts=include_drafts())).answer())


@bp.get("/api/index/status")
@requires("edit")
def index_state():
    """The background indexer's state, polled by the editor after a save."""
    return jsonify(IndexStatus.model_validate(index_status()).answer())


@bp.get("/api/insights")
@requires("insights")
def insights():
    """The insights report of the Insights page, as JSON (marketers and admins)."""
    return jsonify(InsightsAnswer.from_report(insights_report(insights_args(request.args))).answer())


@bp.get("/healthz")
def health():
    """Whether the index is usable, for monitoring: ``{"status": "ok"}``, or a 503.

    Only an admin (who may rebuild the index) sees the details and the reason for a 503: the
    counts include drafts, and the ranking file and a missing index's location are server paths.
    """
    if can("reindex"):
        return jsonify(Health.model_validate(knowledge_base().health()).answer())
    try:
        knowledge_base().health()
    except UNAVAILABLE:
        abort(503, description=NOT_READY)
    return jsonify(HealthStatus(status="ok").answer())


@bp.get("/api/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API."""
    return jsonify(openapi_spec())
