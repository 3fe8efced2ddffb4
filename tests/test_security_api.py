"""What the JSON API tells whom, and that its description and the server agree on edge cases.

/healthz is open to everyone (monitoring needs it even when reading needs a login), so it
says only ok or not ok; the counts (drafts included), the ranking file and the index's
location are for signed-in admins. A query of only whitespace and control characters is
refused by the server and, so, by the description too.
"""

from __future__ import annotations

import re
import sys

import pytest

from tests.web_fixtures import (  # noqa: F401
    DRAFT_ID,
    SECRET_KEY,
    add_users,
    client,
    kb_app,
    kb_users,
    sign_in,
    web_kb,
    web_settings,
)

pytestmark = pytest.mark.slow

DETAILS = {"index_version", "built_at", "cases", "passages", "model", "dimension", "ranking"}
#: Queries with nothing to search: whitespace, and ASCII control characters (read as spaces).
EMPTY_QUERIES = ["\x01", "\x00\x02\x1b", "\x7f", "\t\n\r", " \x1f\x0b ", "\u3000\u2028", "\x85\xa0"]
#: Queries with something left to search once control characters are spaces.
SEARCHABLE_QUERIES = ["\x01customs\x02", "\x80", "\ufeff", "border\x00crossings"]


@pytest.fixture(scope="module")
def locked_app(web_settings, web_kb, tmp_path_factory):  # noqa: F811
    """The session's knowledge base behind a login, with its own users."""
    from webui import create_app

    app = create_app({"KB_SETTINGS": web_settings, "SECRET_KEY": SECRET_KEY, "TESTING": True,
                      "KB_KNOWLEDGE_BASE": web_kb, "KB_REQUIRE_LOGIN": True,
                      "KB_DATABASE": tmp_path_factory.mktemp("locked") / "kb.sqlite3"})
    add_users(app)
    return app


@pytest.fixture
def unindexed_locked_app(tmp_path):
    """A login-required app whose index has never been built, with one user of each role."""
    from kb.settings import Settings
    from webui import create_app

    settings = Settings(cases_dir=tmp_path / "cases", data_dir=tmp_path / "data")
    app = create_app({"KB_SETTINGS": settings, "SECRET_KEY": SECRET_KEY, "TESTING": True,
                      "KB_REQUIRE_LOGIN": True})
    add_users(app)
    return app


def _spec_query_schema() -> dict:
    from webui.openapi import openapi_spec

    parameters = openapi_spec()["paths"]["/api/search"]["get"]["parameters"]
    return next(p["schema"] for p in parameters if p["name"] == "q")


# -- /healthz ----------------------------------------------------------------------------


@pytest.mark.parametrize("app_name", ["kb_app", "locked_app"])
def test_healthz_tells_an_anonymous_caller_only_ok(request, app_name):
    app = request.getfixturevalue(app_name)
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert str(app.config["KB_SETTINGS"].data_dir) not in response.get_data(as_text=True)


@pytest.mark.parametrize("name", ["sam", "mia"])
def test_healthz_tells_sellers_and_marketers_only_ok(locked_app, sign_in, name):
    assert sign_in(name, app=locked_app).get("/healthz").get_json() == {"status": "ok"}


def test_healthz_gives_a_signed_in_admin_the_details(locked_app, sign_in, web_kb):
    response = sign_in("ada", app=locked_app).get("/healthz")
    data = response.get_json()
    assert response.status_code == 200
    assert set(data) == {"status", *DETAILS}
    assert data == web_kb.health()


def test_healthz_without_an_index_says_not_ok_and_no_path(unindexed_locked_app, sign_in):
    from webui.views.api import NOT_READY

    data_dir = str(unindexed_locked_app.config["KB_SETTINGS"].data_dir)
    anonymous = unindexed_locked_app.test_client().get("/healthz")
    assert anonymous.status_code == 503
    assert anonymous.get_json() == {"error": {"status": 503, "message": NOT_READY}}
    assert data_dir not in anonymous.get_data(as_text=True)
    seller = sign_in("sam", app=unindexed_locked_app).get("/healthz")
    assert seller.status_code == 503 and seller.get_json()["error"]["message"] == NOT_READY
    admin = sign_in("ada", app=unindexed_locked_app).get("/healthz")
    assert admin.status_code == 503
    assert data_dir in admin.get_json()["error"]["message"]  # where the index is missing: for admins


def test_the_description_of_healthz_matches_both_answers():
    from webui.openapi import openapi_spec

    spec = openapi_spec()
    schemas = spec["components"]["schemas"]
    answer = spec["paths"]["/healthz"]["get"]["responses"]["200"]["content"]["application/json"]
    assert answer["schema"] == {"oneOf": [{"$ref": "#/components/schemas/HealthStatus"},
                                          {"$ref": "#/components/schemas/Health"}]}
    assert schemas["HealthStatus"]["additionalProperties"] is False
    assert set(schemas["Health"]["properties"]) == {"status", *DETAILS}


# -- the status filter --------------------------------------------------------------------------


def test_a_seller_s_status_filter_shows_no_draft_and_is_checked_as_a_marketer_s(locked_app, sign_in):
    """Only readers of drafts filter on status; anyone else's is ignored once it is checked, so
    the description (one enum for every reader) is true for both."""
    seller, marketer = sign_in("sam", app=locked_app), sign_in("mia", app=locked_app)
    query = {"q": "reinsurance treaty renewals", "status": "draft", "k": 100}
    assert DRAFT_ID not in {r["id"] for r in seller.get("/api/search", query_string=query).get_json()["results"]}
    drafts = marketer.get("/api/search", query_string=query).get_json()["results"]
    assert DRAFT_ID in {r["id"] for r in drafts} and {r["status"] for r in drafts} == {"draft"}
    for client in (seller, marketer):
        refused = client.get("/api/search", query_string={"q": "reinsurance", "status": "secret"})
        assert refused.status_code == 400
        assert refused.get_json()["error"]["message"].startswith("status 'secret' is not one of")


# -- a query with nothing to search ---------------------------------------------------------


@pytest.mark.parametrize("text", EMPTY_QUERIES)
def test_a_query_with_nothing_to_search_is_refused_by_the_server_and_the_description(client, text):
    response = client.get("/api/search", query_string={"q": text})
    assert response.status_code == 400
    assert response.get_json()["error"]["message"].startswith("the query is empty")
    assert not re.search(_spec_query_schema()["pattern"], text), "the description allows what the server refuses"


@pytest.mark.parametrize("text", SEARCHABLE_QUERIES)
def test_a_query_with_something_to_search_is_accepted_by_both(client, text):
    assert client.get("/api/search", query_string={"q": text, "k": 1}).status_code == 200
    assert re.search(_spec_query_schema()["pattern"], text)


def test_the_query_pattern_is_the_knowledge_base_rule_for_every_character():
    """The description's pattern and kb.search.make_request agree on every character below
    U+3100 (every whitespace character is there) and on a sample above it."""
    from kb.errors import InvalidQueryError
    from kb.search.query import make_request

    pattern = re.compile(_spec_query_schema()["pattern"])
    disagree = []
    for point in [*range(0x3100), 0xFEFF, 0xFFFD, 0x1F600, sys.maxunicode]:
        char = chr(point)
        try:
            make_request(char)
            searchable = True
        except InvalidQueryError:
            searchable = False
        if searchable != bool(pattern.search(char)):
            disagree.append(f"U+{point:04X}")
    assert not disagree, f"the q pattern and the server disagree on {', '.join(disagree[:20])}"


def test_blank_is_what_python_strips():
    from webui.params import WHITESPACE

    blank = re.compile(f"[{WHITESPACE}]")
    assert [c for c in map(chr, range(sys.maxunicode + 1)) if bool(blank.fullmatch(c)) != c.isspace()] == []


# -- whole numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [("3", 3), ("003", 3), ("3.0", 3), ("", "default"), (" ", "default")])
def test_k_is_read_as_json_schema_reads_an_integer(client, value, expected):
    results = client.get("/api/search", query_string={"q": "bank", "k": value}).get_json()["results"]
    assert len(results) == (10 if expected == "default" else expected)


@pytest.mark.parametrize("value", ["+3", " 3", "3.5", "\u0663", "1_0", "0" * 5000 + "101", "9" * 5000])
def test_k_that_is_no_whole_number_in_range_is_refused(client, value):
    response = client.get("/api/search", query_string={"q": "bank", "k": value})
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == "k must be a whole number from 1 to 100"


@pytest.mark.parametrize("name, value", [("since", "60.0"), ("stale_months", "12.0")])
def test_insights_reads_whole_numbers_as_k_does(locked_app, sign_in, name, value):
    response = sign_in("mia", app=locked_app).get("/api/insights", query_string={name: value})
    assert response.status_code == 200, response.get_json()
