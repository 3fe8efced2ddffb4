"""The OpenAPI 3.1 description of the JSON API, as a Python dict.

It describes the server as it is: what a parameter may hold is what the server accepts
(a blank value is the same as none, see :mod:`webui.params`), and every answer a route can
give is listed. ``tests/test_security_fuzz.py`` holds the server to it.
"""

from __future__ import annotations

import re
from typing import Any

from kb.cases import SIZE_BANDS
from kb.search.query import MAX_QUERY_CHARS, MAX_RESULTS
from kb.search.understanding import UNDERSTOOD_FIELDS
from kb.stages import STAGES
from webui.insights import DEFAULT_SINCE_DAYS, MAX_SINCE_DAYS, MAX_STALE_MONTHS
from webui.params import DEFAULT_K, SIMILAR_K, WHITESPACE

_STRING = {"type": "string"}
_NULLABLE_STRING = {"type": ["string", "null"]}
_STRINGS = {"type": "array", "items": _STRING}
_STAGE = {"type": ["string", "null"], "enum": [*STAGES, None]}
_SIZE = {"type": ["string", "null"], "enum": [*SIZE_BANDS, None]}
#: A parameter of only whitespace: the server reads it as not given.
_BLANK = {"type": "string", "pattern": f"^[{WHITESPACE}]*$"}
#: A query must hold a character that is neither whitespace nor an ASCII control character
#: (those become spaces): anything else is "the query is empty", 400.
SEARCHABLE = f"[^{WHITESPACE}\\x00-\\x1f\\x7f]"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _choice(values) -> dict[str, Any]:
    """One of fixed values; the server also takes one with whitespace around it, or a blank (none)."""
    padded = f"^[{WHITESPACE}]*(?:{'|'.join(re.escape(value) for value in values)})?[{WHITESPACE}]*$"
    return {"anyOf": [{"type": "string", "enum": list(values)}, {"type": "string", "pattern": padded}]}


def _whole(minimum: int, maximum: int, default: int | None = None) -> dict[str, Any]:
    """A whole number in a range, or blank (the default); read by :func:`webui.params.whole_number`."""
    whole: dict[str, Any] = {"anyOf": [{"type": "integer", "minimum": minimum, "maximum": maximum}, _BLANK]}
    if default is not None:
        whole["default"] = default
    return whole


def _filter(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False,
            "description": description + " Repeatable: any value matches; blank values are ignored.",
            "schema": {"type": "array", "items": schema or _STRING}, "style": "form", "explode": True}


def _profile(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema or _STRING,
            "description": description + ' Raises matching cases ("customers like you") without excluding '
                                         "others; blank is ignored."}


_ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "503": {"$ref": "#/components/responses/Unavailable"},
}
_CASE_ID = {"name": "case_id", "in": "path", "required": True,
            "description": "The case id (its file name without .md).",
            "schema": {"type": "string", "pattern": "^[a-z0-9-]+$"}}
_SIZE_ENUM = _choice(SIZE_BANDS)
_STAGE_ENUM = _choice(STAGES)


def _k(default: int, description: str) -> dict[str, Any]:
    return {"name": "k", "in": "query", "required": False, "description": description,
            "schema": _whole(1, MAX_RESULTS, default)}


CASE_META_PROPERTIES: dict[str, Any] = {
    "id": _STRING,
    "title": _STRING,
    "customer": _NULLABLE_STRING,
    "industry": _NULLABLE_STRING,
    "company_size": _SIZE,
    "region": _NULLABLE_STRING,
    "products": _STRINGS,
    "roles": _STRINGS,
    "tags": _STRINGS,
    "published": {"type": ["string", "null"], "format": "date"},
    "status": {"type": "string", "enum": ["published", "draft"]},
    "summary": _NULLABLE_STRING,
    "stages": {"type": "array", "items": {"type": "string", "enum": list(STAGES)},
               "description": "Journey stages the story tells, in order."},
    "extra": {"type": "object", "description": "Front-matter keys kb does not know, as written."},
    "content_hash": {"type": "string", "description": "SHA-256 of the case file when it was indexed."},
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {
            "type": "object",
            "required": ["status", "message"],
            "properties": {"status": {"type": "integer"},
                           "message": {"type": "string", "description": "What is wrong and what to do."}},
        }},
    },
    "Facets": {
        "type": "object",
        "description": "Facet name (industry, company_size, region, stage, tags) -> value -> number of cases.",
        "additionalProperties": {"type": "object", "additionalProperties": {"type": "integer"}},
    },
    "Why": {
        "type": "object",
        "required": ["similarity", "coverage", "terms", "attributes", "reasons"],
        "properties": {
            "similarity": {"type": "number", "description": "Cosine similarity of the best passage."},
            "coverage": {"type": "number", "minimum": 0, "maximum": 1,
                         "description": "IDF-weighted share of the situation's terms the story's text holds."},
            "terms": _STRINGS,
            "attributes": {**_STRINGS, "description": '"Like you" attributes the case shares.'},
            "reasons": {**_STRINGS, "description": "Why it matched, in words."},
        },
    },
    "Result": {
        "type": "object",
        "required": ["id", "title", "score", "snippet", "snippet_html", "why", "weak"],
        "properties": {
            **{key: CASE_META_PROPERTIES[key] for key in (
                "id", "title", "customer", "industry", "company_size", "region", "tags", "products",
                "published", "status", "summary")},
            "score": {"type": "number"},
            "snippet": {"type": "string", "description": "The matched passage window, plain text."},
            "snippet_html": {"type": "string", "description": "The same, HTML-escaped, terms in <mark>."},
            "section": _NULLABLE_STRING,
            "stage": _STAGE,
            "stage_label": _STRING,
            "why": _ref("Why"),
            "weak": {"type": "boolean", "description": ("A weak match: its best passage's similarity plus a "
                                                        "share of its term coverage is below the threshold.")},
        },
    },
    "SearchResponse": {
        "type": "object",
        "required": ["query", "total", "results", "facets", "notices", "all_weak", "understood"],
        "properties": {
            "query": {"type": "string", "description": "The situation as searched (normalized, maybe cut)."},
            "total": {"type": "integer", "description": "Cases that matched before the cut to k."},
            "results": {"type": "array", "items": _ref("Result")},
            "facets": _ref("Facets"),
            "notices": {**_STRINGS, "description": "Things the person should know (a cut query, weak matches)."},
            "all_weak": {"type": "boolean"},
            "understood": {"type": "object",
                           "description": ("What the situation says about the prospect, as values the stories "
                                           "carry: industry, company_size, region, roles -> values. They raise "
                                           "matching stories (never filter); `ignore` removes one, and a profile "
                                           "attribute replaces it."),
                           "properties": {name: _STRINGS for name in UNDERSTOOD_FIELDS},
                           "additionalProperties": False},
            "search_id": {"type": ["integer", "null"],
                          "description": "The id this search was logged under (null when it could not be logged)."},
        },
    },
    "CaseMeta": {"type": "object", "required": ["id", "title"], "properties": CASE_META_PROPERTIES},
    "Section": {
        "type": "object",
        "required": ["title", "stage", "stage_label", "html"],
        "properties": {
            "title": {**_NULLABLE_STRING, "description": "The ## heading; null for text before the first one."},
            "stage": _STAGE,
            "stage_label": _STRING,
            "html": {"type": "string", "description": "The section's Markdown as sanitized HTML."},
        },
    },
    "Case": {
        "allOf": [_ref("CaseMeta"), {
            "type": "object",
            "required": ["sections", "url"],
            "properties": {"sections": {"type": "array", "items": _ref("Section")},
                           "url": {"type": "string", "format": "uri", "description": "The story page."}},
        }],
    },
    "SimilarCase": {
        "allOf": [_ref("CaseMeta"), {
            "type": "object",
            "required": ["similarity"],
            "properties": {"similarity": {"type": "number"}},
        }],
    },
    "SimilarResponse": {
        "type": "object",
        "required": ["id", "results"],
        "properties": {"id": _STRING, "results": {"type": "array", "items": _ref("SimilarCase")}},
    },
    "FacetsResponse": {"type": "object", "required": ["facets"], "properties": {"facets": _ref("Facets")}},
    "HealthStatus": {
        "type": "object",
        "required": ["status"],
        "additionalProperties": False,
        "properties": {"status": {"type": "string", "enum": ["ok"]}},
    },
    "Health": {
        "type": "object",
        "description": "The details of /healthz, for admins only.",
        "required": ["status", "index_version", "cases", "passages", "model", "dimension"],
        "properties": {
            "status": {"type": "string", "enum": ["ok"]},
            "index_version": _STRING,
            "built_at": {"type": ["string", "null"], "format": "date-time"},
            "cases": {"type": "integer", "description": "Cases indexed, drafts included."},
            "passages": {"type": "integer"},
            "model": _STRING,
            "dimension": {"type": "integer"},
            "ranking": {"type": "string",
                        "description": 'The ranking settings file in use (KB_RANKING), or "built-in".'},
        },
    },
}

SCHEMAS["IndexStatus"] = {
    "type": "object",
    "required": ["state", "message", "busy"],
    "properties": {
        "state": {"type": "string", "enum": ["idle", "queued", "running", "failed"]},
        "message": {"type": "string", "description": "The state in words, as the editor page shows it."},
        "busy": {"type": "boolean", "description": "A build is queued or running: poll again."},
        "reason": _STRING,
        "summary": {**_STRING, "description": "What the last build indexed."},
        "error": {**_STRING, "description": "Why the last build failed (the previous index stays live)."},
        "started_at": {"type": "string", "format": "date-time"},
        "finished_at": {"type": "string", "format": "date-time"},
    },
}

_TIME = {"type": "string", "format": "date-time"}
_INSIGHT_CASE = {"type": "object", "required": ["id", "title"],
                 "properties": {"id": _STRING, "title": _STRING}}

SCHEMAS["Insights"] = {
    "type": "object",
    "description": "Every section of the Insights page (docs/insights.md says what each means).",
    "required": ["generated_at", "since", "totals", "top_searches", "weak_groups", "coverage", "stale_months",
                 "stale", "undated", "never_shown", "never_opened", "most_opened", "bucket", "timeline"],
    "properties": {
        "generated_at": _TIME,
        "since": {"type": ["string", "null"], "format": "date-time",
                  "description": "Searches and opens from this time on are counted."},
        "totals": {"type": "object", "additionalProperties": {"type": "integer"},
                   "description": "searches, weak, strong, opens, users (signed in), cases (published)."},
        "top_searches": {"type": "array", "description": "The most frequent searches, most frequent first.",
                         "items": {"type": "object", "required": ["text", "count", "weak", "users", "last_seen"],
                                   "properties": {"text": _STRING, "count": {"type": "integer"},
                                                  "weak": {"type": "integer"}, "users": {"type": "integer"},
                                                  "last_seen": _TIME}}},
        "weak_groups": {"type": "array", "description": "Stories to write next: searches with no strong match "
                                                         "grouped by meaning, largest group first.",
                        "items": {"type": "object",
                                  "required": ["size", "queries", "example", "examples", "users", "last_seen",
                                               "nearest_case"],
                                  "properties": {
                                      "size": {"type": "integer"}, "queries": {"type": "integer"},
                                      "example": _STRING, "examples": _STRINGS, "users": {"type": "integer"},
                                      "last_seen": _TIME,
                                      "nearest_case": {"oneOf": [{"type": "null"}, {
                                          "type": "object", "required": ["id", "title", "similarity"],
                                          "properties": {"id": _STRING, "title": _STRING,
                                                         "similarity": {"type": "number"}}}]}}}},
        "coverage": {"type": "array", "description": "Published stories per industry × journey stage and per "
                                                     "company size × region; every combination is listed.",
                     "items": {"type": "object",
                               "required": ["title", "rows", "columns", "column_labels", "counts", "cases", "empty"],
                               "properties": {
                                   "title": _STRING, "row_field": _STRING, "column_field": _STRING,
                                   "rows": _STRINGS, "columns": _STRINGS, "column_labels": _STRINGS,
                                   "counts": {"type": "array", "items": {"type": "array",
                                                                         "items": {"type": "integer"}}},
                                   "cases": {"type": "array", "items": {"type": "array", "items": _STRINGS}},
                                   "empty": {"type": "integer", "description": "Combinations with no story."}}}},
        "stale_months": {"type": "integer"},
        "stale": {"type": "array", "description": "Published stale_months or more ago, oldest first.",
                  "items": {**_INSIGHT_CASE, "properties": {
                      **_INSIGHT_CASE["properties"], "published": {"type": "string", "format": "date"},
                      "months": {"type": "integer"}}}},
        "undated": {"type": "array", "items": _INSIGHT_CASE, "description": "Published stories without a date."},
        **{name: {"type": "array", "description": description, "items": {**_INSIGHT_CASE, "properties": {
            **_INSIGHT_CASE["properties"], "shown": {"type": "integer"}, "opened": {"type": "integer"},
            "opened_from_search": {"type": "integer"}}}}
           for name, description in (("never_shown", "In no logged search's top 10."),
                                     ("never_opened", "Never opened, most often shown first."),
                                     ("most_opened", "Most opened first."))},
        "bucket": {"type": "string", "enum": ["day", "week"]},
        "timeline": {"type": "array", "description": "Searches per day or week (from Monday), empty ones included.",
                     "items": {"type": "object", "required": ["start", "searches", "weak", "strong"],
                               "properties": {"start": {"type": "string", "format": "date"},
                                              "searches": {"type": "integer"}, "weak": {"type": "integer"},
                                              "strong": {"type": "integer"}}}},
        "demo_rows": {"type": "integer", "description": "Searches logged by `kb insights seed-demo`."},
        "notes": _STRINGS,
    },
}

RESPONSES: dict[str, Any] = {
    "Unauthorized": _json(_ref("Error"), "Reading needs a login (KB_REQUIRE_LOGIN) and the request has none."),
    "Forbidden": _json(_ref("Error"), "The signed-in user's role does not allow this."),
    "BadRequest": _json(_ref("Error"), "The request is unusable (blank query, bad k, unknown filter value)."),
    "NotFound": _json(_ref("Error"), "No published case has this id."),
    "Unavailable": _json(_ref("Error"),
                         "No usable index (not built, corrupt, or another format): the message says what to do."),
}


def openapi_spec() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every API route."""
    case_errors = {**_ERRORS, "404": {"$ref": "#/components/responses/NotFound"}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "kb customer stories API",
            "version": "1.0.0",
            "description": ("Find customer stories whose situation matches a prospect's, and read them. "
                            "The API uses the web UI's session: when the server requires a login "
                            "(KB_REQUIRE_LOGIN), sign in at /login first; marketers and admins also see drafts."),
        },
        "paths": {
            "/api/search": {"get": {
                "operationId": "search",
                "summary": "Rank published cases for a prospect's situation",
                "description": ("The same JSON as `kb search --json`, and the id the search was logged under. "
                                "Filters narrow the cases; the profile raises them."),
                "parameters": [
                    {"name": "q", "in": "query", "required": True,
                     "description": (f"The prospect's situation in plain words (cut at {MAX_QUERY_CHARS} "
                                     "characters). It needs a character other than whitespace and ASCII "
                                     "control characters (those are read as spaces)."),
                     "schema": {"type": "string", "pattern": SEARCHABLE}},
                    _k(DEFAULT_K, f"How many cases to return (default {DEFAULT_K})."),
                    _filter("industry", "Only cases of this industry."),
                    _filter("company_size", "Only cases of this employee band.", _SIZE_ENUM),
                    _filter("region", "Only cases of this region."),
                    _filter("stage", "Match only passages of this journey stage.", _STAGE_ENUM),
                    _filter("tags", "Only cases with this tag."),
                    _filter("products", "Only cases with this product."),
                    _profile("like_industry", "The prospect's industry."),
                    _profile("like_size", "The prospect's employee band.", _SIZE_ENUM),
                    _profile("like_region", "The prospect's region."),
                    {"name": "ignore", "in": "query", "required": False, "style": "form", "explode": True,
                     "description": ("An attribute understood from the situation to rank without (repeatable)."),
                     "schema": {"type": "array", "items": {"type": "string", "enum": list(UNDERSTOOD_FIELDS)}}},
                ],
                "responses": {"200": _json(_ref("SearchResponse"), "Ranked cases, facets and notices."), **_ERRORS},
            }},
            "/api/cases/{case_id}": {"get": {
                "operationId": "getCase",
                "summary": "A published case with its sections as sanitized HTML",
                "parameters": [_CASE_ID],
                "responses": {"200": _json(_ref("Case"), "The case."), **case_errors},
            }},
            "/api/cases/{case_id}/similar": {"get": {
                "operationId": "similarCases",
                "summary": "The published cases most like a case",
                "parameters": [_CASE_ID, _k(SIMILAR_K, f"How many cases (default {SIMILAR_K}).")],
                "responses": {"200": _json(_ref("SimilarResponse"), "Nearest cases first."), **case_errors},
            }},
            "/api/facets": {"get": {
                "operationId": "facets",
                "summary": "Facet counts over every published case",
                "responses": {"200": _json(_ref("FacetsResponse"), "Facet counts."),
                              "401": _ERRORS["401"], "503": _ERRORS["503"]},
            }},
            "/api/index/status": {"get": {
                "operationId": "indexStatus",
                "summary": "Whether the search index is being updated after an edit (marketers and admins)",
                "responses": {"200": _json(_ref("IndexStatus"), "The background indexer's last state."),
                              "401": _ERRORS["401"], "403": {"$ref": "#/components/responses/Forbidden"}},
            }},
            "/api/insights": {"get": {
                "operationId": "insights",
                "summary": "What sellers search for and don't find, coverage, stale and unused stories "
                           "(marketers and admins)",
                "description": ("The report of the Insights page: most frequent searches, stories to write next, "
                                "coverage, stale stories, stories never shown, never opened and most opened, "
                                "and searches over time."),
                "parameters": [
                    {"name": "since", "in": "query", "required": False,
                     "description": "Count the searches and opens of the last this many days.",
                     "schema": _whole(1, MAX_SINCE_DAYS, DEFAULT_SINCE_DAYS)},
                    {"name": "stale_months", "in": "query", "required": False,
                     "description": "A story is stale this many months after it was published "
                                    "(default KB_STALE_MONTHS, 24).",
                     "schema": _whole(0, MAX_STALE_MONTHS)},
                ],
                "responses": {"200": _json(_ref("Insights"), "Every insight."),
                              "400": _ERRORS["400"], "401": _ERRORS["401"],
                              "403": {"$ref": "#/components/responses/Forbidden"}, "503": _ERRORS["503"]},
            }},
            "/healthz": {"get": {
                "operationId": "health",
                "summary": "Whether the index is usable, for monitoring (open to everyone)",
                "description": ('Anyone gets `{"status": "ok"}`, or a 503 while there is no usable index. '
                                "A signed-in admin also gets the index version, counts, model and ranking "
                                "settings file, and the 503's reason."),
                "responses": {"200": _json({"oneOf": [_ref("HealthStatus"), _ref("Health")]},
                                           "The index is loaded (with the details, for an admin)."),
                              "503": _ERRORS["503"]},
            }},
            "/api/openapi.json": {"get": {
                "operationId": "openapi",
                "summary": "This description",
                "responses": {"200": _json({"type": "object"}, "The OpenAPI 3.1 document.")},
            }},
        },
        "components": {"schemas": SCHEMAS, "responses": RESPONSES},
    }
