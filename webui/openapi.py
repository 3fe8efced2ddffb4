"""The OpenAPI 3.1 description of the JSON API, generated.

Nothing here repeats a shape: the answers' schemas are pydantic's JSON schema of the models
in :mod:`webui.schemas` (the views build their JSON through the same models), the query
parameters are those declared in :mod:`webui.params` (derived from the field registry), and
:data:`ROUTES` says, once per route, which parameters it reads, which model it answers with,
which errors it may give and who may call it. It describes the server as it is: what a
parameter may hold is what the server accepts (a blank value is the same as none), and every
answer a route can give is listed. ``tests/test_security_fuzz.py`` holds the server to it and
``tests/test_api_schema.py`` checks real answers of every route against it.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from webui.insights import DEFAULT_SINCE_DAYS, MAX_SINCE_DAYS, MAX_STALE_MONTHS
from webui.params import SEARCH_PARAMS, SIMILAR_PARAMS, WHITESPACE, QueryParam
from webui.schemas import (
    ApiDescription,
    CaseStory,
    ErrorBody,
    FacetsAnswer,
    Health,
    HealthStatus,
    IndexStatus,
    InsightsAnswer,
    SearchAnswer,
    SimilarAnswer,
)

#: Where a model's schema is found in the document.
REF_TEMPLATE = "#/components/schemas/{model}"
#: A query must hold a character that is neither whitespace nor an ASCII control character
#: (those become spaces): anything else is "the query is empty", 400.
SEARCHABLE = f"[^{WHITESPACE}\\x00-\\x1f\\x7f]"
#: The session cookie the web UI signs in with (Flask's).
SESSION = "session"

#: Who may call a route: ``public`` anyone; ``reader`` anyone, or only signed-in users when the
#: server requires a login (KB_REQUIRE_LOGIN); ``marketer`` signed-in marketers and admins.
Access = Literal["public", "reader", "marketer"]

#: Each error status an answer may have: its response's name and what it means.
ERRORS: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "The request is unusable (blank query, bad k, unknown filter value)."),
    401: ("Unauthorized", "Reading needs a login (KB_REQUIRE_LOGIN) and the request has none."),
    403: ("Forbidden", "The signed-in user's role does not allow this."),
    404: ("NotFound", "No published case has this id."),
    503: ("Unavailable", "No usable index (not built, corrupt, or another format): the message says what to do."),
}
#: The security requirements of each kind of access.
SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "public": [{}],
    "reader": [{SESSION: []}, {}],
    "marketer": [{SESSION: []}],
}


@dataclass(frozen=True)
class PathParam:
    """A parameter in a route's path."""

    name: str
    description: str
    pattern: str


CASE_ID = PathParam("case_id", "The case id (its file name without .md).", "^[a-z0-9-]+$")


@dataclass(frozen=True)
class Route:
    """One route of the API, as its description says it.

    Attributes:
        path: The OpenAPI path (``/api/cases/{case_id}``).
        endpoint: The Flask endpoint that serves it (``api.case``).
        operation_id, summary, description: What the operation is called and does.
        answers: The models of its 200 answer (more than one: one of them).
        answer: What its 200 answer is, in words.
        params: Its query parameters.
        path_params: Its path parameters.
        errors: The error statuses it may answer with.
        access: Who may call it (see :data:`Access`).
    """

    path: str
    endpoint: str
    operation_id: str
    summary: str
    answers: tuple[type[BaseModel], ...]
    answer: str
    description: str = ""
    params: tuple[QueryParam, ...] = ()
    path_params: tuple[PathParam, ...] = ()
    errors: tuple[int, ...] = ()
    access: Access = "reader"


#: Every route of the API.
ROUTES: tuple[Route, ...] = (
    Route("/api/search", "api.search", "search", "Rank published cases for a prospect's situation",
          (SearchAnswer,), "Ranked cases, facets and notices.",
          description=("The same JSON as `kb search --json` (each snippet also as HTML), and the id the search "
                       "was logged under. Filters narrow the cases; the profile raises them."),
          params=SEARCH_PARAMS, errors=(400, 401, 503)),
    Route("/api/cases/{case_id}", "api.case", "getCase", "A published case with its sections as sanitized HTML",
          (CaseStory,), "The case.", path_params=(CASE_ID,), errors=(400, 401, 404, 503)),
    Route("/api/cases/{case_id}/similar", "api.similar", "similarCases", "The published cases most like a case",
          (SimilarAnswer,), "Nearest cases first.", params=SIMILAR_PARAMS, path_params=(CASE_ID,),
          errors=(400, 401, 404, 503)),
    Route("/api/facets", "api.facets", "facets", "Facet counts over every published case",
          (FacetsAnswer,), "Facet counts.", errors=(401, 503)),
    Route("/api/index/status", "api.index_state", "indexStatus",
          "Whether the search index is being updated after an edit (marketers and admins)",
          (IndexStatus,), "The background indexer's last state.", errors=(401, 403), access="marketer"),
    Route("/api/insights", "api.insights", "insights",
          "What sellers search for and don't find, coverage, stale and unused stories (marketers and admins)",
          (InsightsAnswer,), "Every insight.",
          description=("The report of the Insights page: most frequent searches, stories to write next, coverage, "
                       "stale stories, stories never shown, never opened and most opened, and searches over time."),
          params=(
              QueryParam("since", "Count the searches and opens of the last this many days.", kind="whole",
                         minimum=1, maximum=MAX_SINCE_DAYS, default=DEFAULT_SINCE_DAYS, unit="days"),
              QueryParam("stale_months", "A story is stale this many months after it was published "
                                         "(default KB_STALE_MONTHS, 24).", kind="whole", minimum=0,
                         maximum=MAX_STALE_MONTHS, unit="months"),
          ), errors=(400, 401, 403, 503), access="marketer"),
    Route("/healthz", "api.health", "health", "Whether the index is usable, for monitoring (open to everyone)",
          (HealthStatus, Health), "The index is loaded (with the details, for an admin).",
          description=('Anyone gets `{"status": "ok"}`, or a 503 while there is no usable index. A signed-in '
                       "admin also gets the index version, counts, model and ranking settings file, and the "
                       "503's reason."),
          errors=(503,), access="public"),
    Route("/api/openapi.json", "api.openapi", "openapi", "This description", (ApiDescription,),
          "The OpenAPI 3.1 document.", access="public"),
)

INFO = {
    "title": "kb customer stories API",
    "version": "1.0.0",
    "description": ("Find customer stories whose situation matches a prospect's, and read them. The API uses "
                    "the web UI's session: when the server requires a login (KB_REQUIRE_LOGIN), sign in at "
                    "/login first; marketers and admins also see drafts."),
}


class _Schema(GenerateJsonSchema):
    """pydantic's JSON schema of answers, without what describes inputs: no per-property titles
    (the property's name says it) and no defaults (an answer always carries its values)."""

    def field_title_should_be_set(self, schema) -> bool:
        return False

    def default_schema(self, schema):
        return self.generate_inner(schema["schema"])


def openapi_spec() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every API route (a fresh copy)."""
    return copy.deepcopy(_document())


@cache
def _document() -> dict[str, Any]:
    models = list(dict.fromkeys([ErrorBody, *(model for route in ROUTES for model in route.answers)]))
    refs, definitions = models_json_schema([(model, "serialization") for model in models],
                                           ref_template=REF_TEMPLATE, schema_generator=_Schema)
    schemas = definitions.get("$defs", {})
    ref = {model: refs[(model, "serialization")] for model in models}
    return {
        "openapi": "3.1.0",
        "info": INFO,
        "paths": {route.path: {"get": _operation(route, ref)} for route in ROUTES},
        "components": {
            "schemas": schemas,
            "responses": {name: _json(ref[ErrorBody], description) for name, description in ERRORS.values()},
            "securitySchemes": {SESSION: {
                "type": "apiKey", "in": "cookie", "name": SESSION,
                "description": "The web UI's session, set by signing in at /login (a form with a CSRF token)."}},
        },
    }


def _operation(route: Route, ref: dict[type[BaseModel], dict[str, str]]) -> dict[str, Any]:
    answers = [ref[model] for model in route.answers]
    operation: dict[str, Any] = {"operationId": route.operation_id, "summary": route.summary}
    if route.description:
        operation["description"] = route.description
    parameters = [_path_parameter(p) for p in route.path_params] + [parameter(p) for p in route.params]
    if parameters:
        operation["parameters"] = parameters
    operation["responses"] = {
        "200": _json(answers[0] if len(answers) == 1 else {"oneOf": answers}, route.answer),
        **{str(status): {"$ref": f"#/components/responses/{ERRORS[status][0]}"} for status in route.errors},
    }
    operation["security"] = SECURITY[route.access]
    return operation


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _path_parameter(param: PathParam) -> dict[str, Any]:
    return {"name": param.name, "in": "path", "required": True, "description": param.description,
            "schema": {"type": "string", "pattern": param.pattern}}


def parameter(param: QueryParam) -> dict[str, Any]:
    """The OpenAPI parameter of a query parameter."""
    described: dict[str, Any] = {"name": param.name, "in": "query", "required": param.required,
                                 "description": param.description}
    value = value_schema(param)
    if param.repeatable:
        described.update(schema={"type": "array", "items": value}, style="form", explode=True)
    else:
        described["schema"] = value
    return described


def value_schema(param: QueryParam) -> dict[str, Any]:
    """What one value of a query parameter may be: what :mod:`webui.params` and the knowledge base accept."""
    if param.kind == "situation":
        return {"type": "string", "pattern": SEARCHABLE}
    if param.kind == "name":
        return {"type": "string", "enum": list(param.choices)}
    if param.kind == "choice":
        return choice_schema(param.choices)
    if param.kind == "whole":
        return whole_schema(param.minimum, param.maximum, param.default)
    return {"type": "string"}


def choice_schema(values: tuple[str, ...]) -> dict[str, Any]:
    """One of fixed values; the server also takes one with whitespace around it, or a blank (none)."""
    padded = f"^[{WHITESPACE}]*(?:{'|'.join(re.escape(value) for value in values)})?[{WHITESPACE}]*$"
    return {"anyOf": [{"type": "string", "enum": list(values)}, {"type": "string", "pattern": padded}]}


def whole_schema(minimum: int, maximum: int, default: int | None = None) -> dict[str, Any]:
    """A whole number in a range, or blank (the default); read by :func:`webui.params.read_whole`."""
    blank = {"type": "string", "pattern": f"^[{WHITESPACE}]*$"}
    whole: dict[str, Any] = {"anyOf": [{"type": "integer", "minimum": minimum, "maximum": maximum}, blank]}
    if default is not None:
        whole["default"] = default
    return whole


def route_of(endpoint: str) -> Route:
    """The route an endpoint serves (KeyError when it is not described)."""
    for route in ROUTES:
        if route.endpoint == endpoint:
            return route
    raise KeyError(endpoint)


__all__ = ["CASE_ID", "ERRORS", "ROUTES", "SEARCHABLE", "PathParam", "Route", "openapi_spec", "parameter",
           "route_of"]
