"""Real answers of every API route, checked against the description the app serves.

The app requires a login and runs over the session's real index and a seeded search log;
each request of :data:`REQUESTS` is made by an anonymous caller, a seller, a marketer or an
admin, and its JSON answer (success or error) must match the schema /api/openapi.json gives
for that route and status (``$ref``s resolved, formats checked, by jsonschema_rs). Every
route Flask serves under /api and /healthz must be described and requested here, and the
description must carry every field of the registry (:mod:`kb.fields`). The validator is
shown to refuse wrong answers, so a passing run means something.
"""

from __future__ import annotations

import copy
import json
import re
import time
from typing import Any

import jsonschema_rs
import pytest

from kb.fields import FACET_FIELDS, FIELDS, FRONT_MATTER, UNDERSTOOD_FIELDS
from tests.web_fixtures import (  # noqa: F401
    DRAFT_ID,
    add_users,
    login,
    seed_search_log,
    web_app,
    web_kb,
    web_settings,
)

pytestmark = pytest.mark.slow

PUBLISHED_ID = "andes-cargo"
BORDER = "trucks waiting days at border crossings because customs paperwork is wrong"
#: Who makes a request: nobody signed in, or a user of each role (tests/web_fixtures.py USERS).
WHO = {"anonymous": None, "seller": "sam", "marketer": "mia", "admin": "ada"}

#: (who, url, query, expected status) of every request; "unindexed" runs on an app without index.
REQUESTS: list[tuple[str, str, Any, int]] = [
    # /api/search
    ("seller", "/api/search", {"q": BORDER}, 200),
    ("seller", "/api/search", [("q", "a bank losing deposits"), ("k", "3"), ("industry", "Banking"),
                               ("industry", " "), ("company_size", " 1001-5000 "), ("stage", "results"),
                               ("like_region", "Nordics"), ("like_size", "201-1000"), ("ignore", "roles")], 200),
    ("seller", "/api/search", {"q": "quantum knitting for penguins", "k": "100"}, 200),  # weak matches
    ("seller", "/api/search", {"q": "a bank", "status": "draft"}, 200),  # ignored for a seller
    ("marketer", "/api/search", {"q": "reinsurance", "status": "draft"}, 200),
    ("seller", "/api/search", {"q": "  "}, 400),
    ("seller", "/api/search", {"q": BORDER, "k": "101"}, 400),
    ("seller", "/api/search", {"q": BORDER, "company_size": "huge"}, 400),
    ("seller", "/api/search", {"q": BORDER, "status": "secret"}, 400),
    ("seller", "/api/search", {"q": BORDER, "ignore": "deal_size"}, 400),
    ("anonymous", "/api/search", {"q": BORDER}, 401),
    ("unindexed", "/api/search", {"q": BORDER}, 503),
    # /api/cases/<id>
    ("seller", f"/api/cases/{PUBLISHED_ID}", None, 200),
    ("marketer", f"/api/cases/{DRAFT_ID}", None, 200),
    ("seller", f"/api/cases/{DRAFT_ID}", None, 404),
    ("seller", "/api/cases/no-such-case", None, 404),
    ("anonymous", f"/api/cases/{PUBLISHED_ID}", None, 401),
    ("unindexed", f"/api/cases/{PUBLISHED_ID}", None, 503),
    # /api/cases/<id>/similar
    ("seller", f"/api/cases/{PUBLISHED_ID}/similar", None, 200),
    ("marketer", f"/api/cases/{PUBLISHED_ID}/similar", {"k": "100"}, 200),
    ("seller", f"/api/cases/{PUBLISHED_ID}/similar", {"k": "0"}, 400),
    ("seller", "/api/cases/no-such-case/similar", None, 404),
    ("anonymous", f"/api/cases/{PUBLISHED_ID}/similar", None, 401),
    ("unindexed", f"/api/cases/{PUBLISHED_ID}/similar", None, 503),
    # /api/facets
    ("seller", "/api/facets", None, 200),
    ("marketer", "/api/facets", None, 200),
    ("anonymous", "/api/facets", None, 401),
    ("unindexed", "/api/facets", None, 503),
    # /api/index/status
    ("marketer", "/api/index/status", None, 200),
    ("seller", "/api/index/status", None, 403),
    ("anonymous", "/api/index/status", None, 401),
    # /api/insights
    ("marketer", "/api/insights", None, 200),
    ("admin", "/api/insights", {"since": "3650", "stale_months": "0"}, 200),
    ("marketer", "/api/insights", {"since": "0"}, 400),
    ("seller", "/api/insights", None, 403),
    ("anonymous", "/api/insights", None, 401),
    ("unindexed", "/api/insights", None, 503),
    # /healthz
    ("anonymous", "/healthz", None, 200),
    ("admin", "/healthz", None, 200),
    ("unindexed", "/healthz", None, 503),
    # /api/openapi.json
    ("anonymous", "/api/openapi.json", None, 200),
]


@pytest.fixture(scope="module")
def api_app(web_settings, web_kb, tmp_path_factory):  # noqa: F811
    """The session's knowledge base behind a login, with its own users and a seeded search log."""
    database = tmp_path_factory.mktemp("api-schema") / "kb.sqlite3"
    app = web_app(web_settings, web_kb, database_file=database, require_login=True, stale_months=24,
                  log_retention_days=0)
    add_users(app)
    with app.extensions["kb_assembly"].search_log() as log:
        seed_search_log(log, web_kb, time.time())
    return app


@pytest.fixture(scope="module")
def unindexed(tmp_path_factory):
    """An app whose index has never been built, signed in as a marketer (who may read insights)."""
    from kb.settings import Settings

    root = tmp_path_factory.mktemp("api-schema-unindexed")
    app = web_app(Settings(cases_dir=root / "cases", data_dir=root / "data"))
    add_users(app)
    client = app.test_client()
    assert login(client, "mia").status_code == 302
    return client


@pytest.fixture(scope="module")
def clients(api_app, unindexed) -> dict[str, Any]:
    """A test client per caller of :data:`WHO`, and ``unindexed``."""
    out: dict[str, Any] = {"unindexed": unindexed}
    for who, name in WHO.items():
        client = api_app.test_client()
        if name:
            assert login(client, name).status_code == 302
        out[who] = client
    return out


@pytest.fixture(scope="module")
def spec(api_app) -> dict[str, Any]:
    """The description the app serves."""
    response = api_app.test_client().get("/api/openapi.json")
    assert response.status_code == 200
    return response.get_json()


# -- validating answers ------------------------------------------------------------------------


def path_of(spec: dict[str, Any], url: str) -> str:
    """The described path a URL is an instance of."""
    for path in spec["paths"]:
        if re.fullmatch(re.sub(r"\\{\w+\\}", "[^/]+", re.escape(path)), url):
            return path
    raise AssertionError(f"{url} is not described")


def answer_schema(spec: dict[str, Any], path: str, status: int) -> dict[str, Any]:
    """The JSON schema of a route's answer with a status, with the document's components, so its
    ``#/components/...`` references resolve."""
    responses = spec["paths"][path]["get"]["responses"]
    assert str(status) in responses, f"{path} does not describe a {status}"
    response = responses[str(status)]
    if "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    schema = response["content"]["application/json"]["schema"]
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "components": spec["components"], **schema}


def validator(spec: dict[str, Any], path: str, status: int):
    return jsonschema_rs.Draft202012Validator(answer_schema(spec, path, status), validate_formats=True)


def problems(spec: dict[str, Any], path: str, status: int, answer: Any) -> list[str]:
    """What is wrong with an answer, by the description (none: it matches)."""
    return [f"{error.instance_path}: {error.message}" for error in validator(spec, path, status).iter_errors(answer)]


@pytest.fixture(scope="module")
def answers(spec, clients) -> dict[int, Any]:
    """The JSON answer of each request of REQUESTS, by its index (checked for status and content type)."""
    out: dict[int, Any] = {}
    for n, (who, url, query, status) in enumerate(REQUESTS):
        response = clients[who].get(url, query_string=query)
        assert response.status_code == status, (who, url, query, response.get_data(as_text=True)[:500])
        assert response.content_type == "application/json", (who, url, response.content_type)
        out[n] = response.get_json()
    return out


@pytest.mark.parametrize("n", range(len(REQUESTS)),
                         ids=[f"{who}-{url}-{status}" for who, url, _, status in REQUESTS])
def test_every_answer_matches_the_description(spec, answers, n):
    _, url, _, status = REQUESTS[n]
    assert problems(spec, path_of(spec, url), status, answers[n]) == []


def test_every_route_is_described_and_requested(api_app, spec):
    from webui.openapi import route_of

    served = {rule.endpoint: re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
              for rule in api_app.url_map.iter_rules()
              if rule.rule.startswith("/api/") or rule.rule == "/healthz"}
    assert served, "no API route found in the url map"
    for endpoint, path in served.items():
        assert path in spec["paths"], f"{path} ({endpoint}) is not in /api/openapi.json"
        assert route_of(endpoint).path == path
    assert set(spec["paths"]) == set(served.values()), "the description lists a route the app does not serve"
    requested = {path_of(spec, url) for _, url, _, _ in REQUESTS}
    assert requested == set(spec["paths"]), "a route has no real request in REQUESTS"
    for path in spec["paths"]:
        statuses = {status for _, url, _, status in REQUESTS if path_of(spec, url) == path}
        assert 200 in statuses, f"no successful request of {path}"


def test_every_state_of_the_index_status_matches_the_description(spec, web_kb, tmp_path):  # noqa: F811
    """/api/index/status while a real background build runs, after it, and after one that failed."""
    import threading

    from kb.live import LiveIndexer
    from kb.settings import Settings
    from tests.conftest import copy_cases

    settings = Settings(cases_dir=copy_cases(tmp_path / "cases", [PUBLISHED_ID]), data_dir=tmp_path / "data")
    app = web_app(settings)
    add_users(app)
    client = app.test_client()
    assert login(client, "mia").status_code == 302
    go = threading.Event()

    def model():
        go.wait(60)
        return web_kb.embedder

    def broken():
        raise RuntimeError("the model cannot be loaded")

    def answer() -> dict[str, Any]:
        response = client.get("/api/index/status")
        assert response.status_code == 200
        data = response.get_json()
        assert problems(spec, "/api/index/status", 200, data) == [], data
        return data

    assert answer()["state"] == "idle"  # nothing built yet
    live = LiveIndexer(settings, model)
    live.request("a test")
    deadline = time.time() + 30
    while answer()["state"] != "running":
        assert time.time() < deadline, "the build never started"
        time.sleep(0.05)
    assert answer()["busy"] is True and "started_at" in answer()
    go.set()
    assert live.wait(120)
    done = answer()
    assert done["state"] == "idle" and {"version", "summary", "skipped", "finished_at", "seconds"} <= set(done)
    failing = LiveIndexer(settings, broken)
    failing.request("another test")
    assert failing.wait(60)
    failed = answer()
    assert failed["state"] == "failed" and "cannot be loaded" in failed["error"]


def test_the_answers_cover_what_the_shapes_allow(answers):
    """The requests reach the interesting shapes: weak and strong results, an understood prospect,
    a draft, both /healthz answers, an insights report with groups of weak searches."""
    by_url: dict[tuple[str, str, int], list[Any]] = {}
    for n, (who, url, _, status) in enumerate(REQUESTS):
        by_url.setdefault((who, url, status), []).append(answers[n])
    searches = by_url[("seller", "/api/search", 200)]
    results = [r for answer in searches for r in answer["results"]]
    assert {r["weak"] for r in results} == {True, False}
    assert any(answer["understood"] for answer in searches)
    assert any(answer["all_weak"] for answer in searches)
    assert by_url[("marketer", f"/api/cases/{DRAFT_ID}", 200)][0]["status"] == "draft"
    assert by_url[("anonymous", "/healthz", 200)] == [{"status": "ok"}]
    assert "index_version" in by_url[("admin", "/healthz", 200)][0]
    insights = by_url[("marketer", "/api/insights", 200)][0]
    assert insights["weak_groups"] and insights["top_searches"] and insights["coverage"]


# -- the validator refuses what does not match -----------------------------------------------


def test_a_wrong_answer_is_refused(spec, answers):
    search = answers[0]
    assert search["results"], "the first search found nothing"
    wrong: list[dict[str, Any]] = []
    for change in (
        lambda a: a["results"][0].update(score="high"),
        lambda a: a["results"][0].pop("weak"),
        lambda a: a["results"][0].update(company_size="huge"),
        lambda a: a["results"][0]["why"].update(coverage=1.5),
        lambda a: a["facets"].update(shoe_size={"42": 1}),
        lambda a: a["understood"].update(industry="Banking"),
        lambda a: a.update(search_id="one"),
    ):
        answer = copy.deepcopy(search)
        change(answer)
        wrong.append(answer)
    for answer in wrong:
        assert problems(spec, "/api/search", 200, answer), json.dumps(answer)[:300]
    assert problems(spec, "/healthz", 200, {"status": "ok", "cases": 3})  # neither of its two shapes
    assert problems(spec, "/api/search", 400, {"error": {"status": "400"}})
    case = next(answers[n] for n, r in enumerate(REQUESTS) if r[1] == f"/api/cases/{PUBLISHED_ID}" and r[3] == 200)
    assert problems(spec, "/api/cases/{case_id}", 200, {**case, "published": "14 March 2025"})  # not a date
    assert problems(spec, "/api/cases/{case_id}", 200, {**case, "stages": ["epilogue"]})


# -- the description comes from the registry -------------------------------------------------


def _parameters(spec: dict[str, Any], path: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in spec["paths"][path]["get"].get("parameters", [])}


def test_every_registry_filter_and_profile_field_is_a_search_parameter(spec):
    parameters = _parameters(spec, "/api/search")
    for known in FIELDS:
        if known.filter:
            parameter = parameters[known.name]
            assert parameter["schema"]["type"] == "array" and parameter["explode"] is True, known.name
            if known.choices:
                assert parameter["schema"]["items"]["anyOf"][0]["enum"] == list(known.choices)
        else:
            assert known.name not in parameters
        if known.profile:
            parameter = parameters[known.profile_param]
            if known.choices:
                assert parameter["schema"]["anyOf"][0]["enum"] == list(known.choices)
    assert parameters["ignore"]["schema"]["items"]["enum"] == list(UNDERSTOOD_FIELDS)


def test_every_registry_field_is_a_result_and_case_property(spec):
    schemas = spec["components"]["schemas"]
    result, case, similar = (schemas[name]["properties"] for name in ("SearchResult", "CaseStory", "SimilarCase"))
    for known in FRONT_MATTER:
        assert known.name in result and known.name in case and known.name in similar, known.name
        assert known.help in result[known.name]["description"]
    for known in FIELDS:
        assert known.meta_key in case and known.meta_key in similar, known.meta_key
    assert "path" not in case and "path" not in similar  # the server's, never the reader's
    assert schemas["Facets"]["propertyNames"]["enum"] == list(FACET_FIELDS)
    assert schemas["Understood"]["propertyNames"]["enum"] == list(UNDERSTOOD_FIELDS)


def test_weak_is_described_once(spec):
    from kb.search import RankingSettings
    from webui.schemas import WEAK

    text = json.dumps(spec)
    assert text.count(json.dumps(WEAK)[1:-1]) == 1
    settings = RankingSettings()
    assert f"{settings.weak_coverage_weight} × its coverage is below {settings.weak_threshold}" in WEAK


def test_the_served_description_is_the_generated_one(spec):
    from webui.openapi import openapi_spec

    assert spec == json.loads(json.dumps(openapi_spec()))
    assert spec["openapi"] == "3.1.0"
    refs = set(re.findall(r'"#/components/(\w+)/(\w+)"', json.dumps(spec)))
    assert refs and all(name in spec["components"][kind] for kind, name in refs), "a dangling $ref"
