"""The web layer without a model: request parsing, errors, headers, rendering and the OpenAPI document."""

from __future__ import annotations

import re

import pytest
from werkzeug.datastructures import MultiDict

from kb.errors import CaseFormatError, InvalidQueryError
from tests.web_fixtures import unindexed_app  # noqa: F401
from webui.facets import facet_groups
from webui.openapi import openapi_spec
from webui.params import SearchArgs, filter_args, parse_k, search_args, sort_arg
from webui.stories import find_match, load_story, section_anchor

STORY = """---
title: <script>alert('title')</script> A bank & its board
customer: Example "Bank"
industry: Banking
source_url: https://example.com/story
reviewed: {by: Ana, on: 2025-01-02}
---

Intro before any heading.

## Background

<script>alert('body')</script><img src=x onerror=alert(1)> We had a **problem**.

## Results: six months later

- Deposits up 4%

## Results: a year later

[bad link](javascript:alert(1))
"""


# -- request arguments -------------------------------------------------------------------


def test_search_args_reads_filters_profile_and_k():
    args = search_args(MultiDict([("q", "  churn  "), ("k", "5"), ("industry", "Banking"), ("industry", " "),
                                  ("industry", "Insurance"), ("tags", "churn"), ("status", "draft"),
                                  ("like_size", "51-200"), ("like_region", ""), ("unknown", "x")]))
    assert args == SearchArgs(text="churn", k=5, filters={"industry": ("Banking", "Insurance"), "tags": ("churn",)},
                              profile={"company_size": "51-200"})
    assert args.kwargs()["include_drafts"] is False


def test_search_args_defaults():
    assert search_args(MultiDict()) == SearchArgs(text="")
    assert filter_args(MultiDict([("region", "Nordics"), ("region", "Nordics")])) == {"region": ("Nordics",)}


@pytest.mark.parametrize("value", ["0", "101", "abc", "1.5", "-3"])
def test_parse_k_rejects_bad_values(value):
    with pytest.raises(InvalidQueryError, match="k must be a whole number from 1 to 100"):
        parse_k(value)


def test_parse_k_accepts_range_and_default():
    assert parse_k(None, 7) == 7 and parse_k(" ", 7) == 7 and parse_k("1") == 1 and parse_k("100") == 100


def test_sort_arg():
    assert sort_arg(MultiDict()) == "date" and sort_arg(MultiDict({"sort": "title"})) == "title"
    with pytest.raises(InvalidQueryError, match="sort must be one of date, title"):
        sort_arg(MultiDict({"sort": "size"}))


# -- facets ------------------------------------------------------------------------------


def test_facet_groups_order_label_and_keep_selected_values():
    facets = {"company_size": {"201-1000": 5, "1-50": 3}, "stage": {"results": 2, "situation": 2},
              "tags": {f"tag{i:02}": 20 - i for i in range(15)}, "industry": {}}
    groups = {g.name: g for g in facet_groups(facets, {"tags": ("tag14", "rare"), "industry": ("Banking",)})}
    assert [o.value for o in groups["company_size"].options] == ["1-50", "201-1000"]
    assert [o.label for o in groups["stage"].options] == ["Situation", "Results"]
    tags = groups["tags"].options
    assert [o.value for o in tags][:12] == [f"tag{i:02}" for i in range(12)]
    assert [(o.value, o.count, o.checked) for o in tags[12:]] == [("tag14", 6, True), ("rare", 0, True)]
    assert [(o.value, o.count, o.checked) for o in groups["industry"].options] == [("Banking", 0, True)]
    assert groups["tags"].active == 2


# -- stories -----------------------------------------------------------------------------


@pytest.fixture
def story(tmp_path):
    path = tmp_path / "example-bank.md"
    path.write_text(STORY, encoding="utf-8")
    meta = {"id": "example-bank", "path": str(path), "title": "t", "summary": "Deposits were leaking.",
            "content_hash": "0" * 64}
    return load_story(meta, tmp_path)


def test_story_sections_are_sanitized_html_with_unique_anchors(story):
    assert [s.anchor for s in story.sections] == [
        "introduction", "section-background", "section-results-six-months-later", "section-results-a-year-later"]
    html = "".join(s.html for s in story.sections)
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html
    assert "<strong>problem</strong>" in html and "<li>Deposits up 4%</li>" in html
    from webui.schemas import CaseStory

    assert "path" not in CaseStory.from_story(story, "http://localhost/cases/example-bank").answer()


def test_story_journey_links_the_first_section_of_each_stage(story):
    steps = {step.stage: step for step in story.journey()}
    assert list(steps) == ["situation", "recognizing", "aligning", "changing", "results", "lessons"]
    assert steps["situation"].anchor == "section-background"
    assert steps["results"].anchor == "section-results-six-months-later"
    assert steps["lessons"].anchor is None and steps["lessons"].label == "Lessons"


def test_find_match(story):
    match = find_match(story, "Background", "problem")
    assert (match.anchor, match.where) == ("section-background", "the section “Background”")
    assert "<mark>problem</mark>" in match.html
    assert find_match(story, "", "intro").anchor == "introduction"
    profile = find_match(story, "At a glance", "deposits")
    assert profile.anchor == "at-a-glance" and "<mark>Deposits</mark>" in profile.html


def test_story_falls_back_to_the_cases_folder(tmp_path):
    (tmp_path / "example-bank.md").write_text(STORY, encoding="utf-8")
    story = load_story({"id": "example-bank", "path": "elsewhere/example-bank.md"}, tmp_path)
    assert len(story.sections) == 4


def test_broken_story_file_raises(tmp_path):
    (tmp_path / "broken.md").write_text("no front matter", encoding="utf-8")
    with pytest.raises(CaseFormatError):
        load_story({"id": "broken", "path": str(tmp_path / "broken.md")}, tmp_path)


def test_section_anchor():
    assert section_anchor("Results: six months later") == "section-results-six-months-later"
    assert section_anchor(None) == "introduction" and section_anchor("!!!") == "introduction"


def test_story_page_escapes_metadata_and_shows_extras(unindexed_app, story):
    meta = {"id": "example-bank", "title": "<script>alert('title')</script> A bank", "customer": 'Example "Bank"',
            "industry": "Banking", "tags": ["<b>churn</b>"], "stages": ["situation"],
            "extra": {"source_url": "https://example.com/story", "reviewed": {"by": "Ana", "on": "2025-01-02"},
                      "evil": "javascript:alert(1)"}}
    with unindexed_app.test_request_context("/cases/example-bank"):
        from flask import render_template

        html = render_template("story.html", story=story, meta=meta, query="", match=None, similar=[],
                               canonical="http://localhost/cases/example-bank")
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "<b>churn</b>" not in html
    assert '<a href="https://example.com/story"' in html
    assert "by: Ana; on: 2025-01-02" in html
    assert 'href="javascript:' not in html


# -- the app without an index ------------------------------------------------------------


def test_missing_index_is_a_503_that_says_what_to_do(unindexed_app):
    client = unindexed_app.test_client()
    page = client.get("/")
    assert page.status_code == 503
    assert "run `kb index` to build it" in page.get_data(as_text=True)
    for url in ("/healthz", "/api/search?q=churn", "/api/facets", "/api/cases/x"):
        response = client.get(url)
        assert response.status_code == 503
        error = response.get_json()["error"]
        assert error["status"] == 503 and error["message"].endswith("run `kb index` to build it")


def test_unknown_routes_are_404_in_the_format_asked_for(unindexed_app):
    client = unindexed_app.test_client()
    page = client.get("/no/such/page")
    assert page.status_code == 404 and "text/html" in page.content_type
    api = client.get("/api/no-such-route")
    assert api.status_code == 404
    message = "no such API route: the routes are described at /api/openapi.json"
    assert api.get_json() == {"error": {"status": 404, "message": message}}
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]


def test_wrong_method_is_a_405_json_error(unindexed_app):
    response = unindexed_app.test_client().post("/api/search")
    assert response.status_code == 405
    assert response.get_json()["error"]["status"] == 405
    assert "GET" in response.headers["Allow"]


def test_unexpected_errors_are_a_generic_500(unindexed_app, caplog):
    def boom():
        raise RuntimeError("secret internals")

    unindexed_app.add_url_rule("/boom", "boom", boom)
    unindexed_app.add_url_rule("/api/boom", "api_boom", boom)
    client = unindexed_app.test_client()
    page = client.get("/boom")
    assert page.status_code == 500
    assert "secret internals" not in page.get_data(as_text=True)
    assert "Traceback" not in page.get_data(as_text=True)
    api = client.get("/api/boom")
    assert api.status_code == 500
    assert api.get_json()["error"]["status"] == 500 and "secret internals" not in api.get_data(as_text=True)
    assert "secret internals" in caplog.text  # logged for the administrator


def test_static_assets_are_local():
    from pathlib import Path

    static = Path(__file__).resolve().parent.parent / "webui" / "static"
    for path in static.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", text), f"{path.name} loads something remote"


# -- OpenAPI -----------------------------------------------------------------------------


def test_openapi_lists_exactly_the_api_routes(unindexed_app):
    spec = unindexed_app.test_client().get("/api/openapi.json").get_json()
    routes = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule) for rule in unindexed_app.url_map.iter_rules()
              if rule.endpoint.startswith("api.")}
    assert set(spec["paths"]) == routes
    assert spec == openapi_spec()
    assert spec["openapi"].startswith("3.1")


def test_openapi_describes_parameters_and_responses():
    spec = openapi_spec()
    for path, item in spec["paths"].items():
        operation = item["get"]
        names = {p["name"] for p in operation.get("parameters", [])}
        assert set(re.findall(r"{(\w+)}", path)) <= names
        assert "200" in operation["responses"]
    search = {p["name"] for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    from kb.fields import FIELDS

    assert search == {"q", "k", "ignore", *(f.name for f in FIELDS if f.filter),
                      *(f.profile_param for f in FIELDS if f.profile)}
    refs = set(re.findall(r'"#/components/(schemas|responses)/(\w+)"', str(spec).replace("'", '"')))
    for kind, name in refs:
        assert name in spec["components"][kind], f"dangling $ref {kind}/{name}"
