"""The web UI and JSON API over a real index of a small corpus (built once per session)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from kb.fields import FACET_FIELDS
from kb.stages import STAGES
from tests.web_fixtures import DRAFT_ID, client, kb_app, kb_users, sign_in, web_kb, web_settings  # noqa: F401

pytestmark = pytest.mark.slow

BORDER = "trucks waiting days at border crossings because customs paperwork is wrong"
CREDIT_UNION = "credit union losing young members after their car loan is paid off"
NONSENSE = "zxqv blorf quux"
DRAFT_TEXT = "merged insurer duplicate claims platforms cost synergies promised to investors"
PAGES = ["/", f"/?q={BORDER}", "/browse", "/cases/andes-cargo", f"/cases/andes-cargo?q={BORDER}&section=Lessons",
         "/cases/no-such-case", "/no-such-page"]


class _Page(HTMLParser):
    """Collects what the tests look for in a page: tags with attributes, and inline code."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "script" and not attributes.get("src"):
            self.inline.append("inline <script>")
        if tag == "style":
            self.inline.append("<style> element")
        if "style" in attributes:
            self.inline.append(f"style attribute on <{tag}>")
        self.inline.extend(f"{name} handler on <{tag}>" for name in attributes if name.startswith("on"))

    def find(self, tag: str, **wanted: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in wanted.items())]

    def checkboxes(self, name: str) -> list[dict[str, str | None]]:
        return self.find("input", type="checkbox", name=name)


def _page(response) -> _Page:
    return _Page(response.get_data(as_text=True))


def _story_links(response) -> list[str]:
    return [a["href"] for a in _page(response).find("a") if a.get("href", "").startswith("/cases/")]


# -- search page -------------------------------------------------------------------------


def test_search_page_without_query_explains_how_to_search(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Describe your prospect" in html
    assert "Find the story your prospect will recognize" in html
    assert 'class="cards"' not in html
    assert _page(response).find("textarea", name="q")


def test_blank_query_is_the_empty_page_not_an_error(client):
    response = client.get("/?q=%20%20&industry=")
    assert response.status_code == 200
    assert "Find the story your prospect will recognize" in response.get_data(as_text=True)


def test_search_page_shows_result_cards(client):
    response = client.get("/", query_string={"q": BORDER})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    links = _story_links(response)
    assert links[0].startswith("/cases/andes-cargo?")
    query = parse_qs(urlsplit(links[0]).query)
    assert query["q"] == [BORDER]
    assert "section" in query
    assert "<mark>" in html
    assert "Why it matched" in html and 'class="chip"' in html
    assert "Logistics" in html and "201-1000 employees" in html


def test_search_page_escapes_the_query(client):
    response = client.get("/", query_string={"q": '<script>alert("x")</script> customs'})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<script>alert("x")' not in html
    assert "&lt;script&gt;" in html


def test_every_control_has_a_label(client):
    page = _page(client.get("/", query_string={"q": BORDER}))
    ids = {attrs.get("for") for tag, attrs in page.tags if tag == "label"}
    for tag, attrs in page.tags:
        if tag in ("textarea", "select") or (tag == "input" and attrs.get("type") not in ("checkbox", "hidden")):
            assert attrs.get("id") in ids, f"<{tag} name={attrs.get('name')}> has no label"
    # checkboxes are wrapped in their <label>
    html = client.get("/", query_string={"q": BORDER}).get_data(as_text=True)
    assert re.search(r'<label class="check[^"]*">\s*<input type="checkbox"', html)


def test_weak_matches_are_marked_with_a_notice(client):
    html = client.get("/", query_string={"q": NONSENSE}).get_data(as_text=True)
    assert "No strong match" in html
    assert "Weak match" in html


def test_filters_narrow_the_results_and_stay_checked(client):
    everything = _story_links(client.get("/", query_string={"q": "bank"}))
    response = client.get("/", query_string={"q": "bank", "industry": "Banking"})
    narrowed = _story_links(response)
    assert 0 < len(narrowed) < len(everything)
    banks = {"/cases/baltic-merchant-bank", "/cases/alder-community-credit-union"}
    assert {link.split("?")[0] for link in narrowed} == banks
    checked = [box for box in _page(response).checkboxes("industry") if "checked" in box]
    assert [box["value"] for box in checked] == ["Banking"]


def test_facets_are_checkboxes_with_counts(client):
    page = _page(client.get("/", query_string={"q": BORDER}))
    for name in FACET_FIELDS:
        assert page.checkboxes(name), f"no {name} facet"
    assert len(page.checkboxes("tags")) <= 12
    assert {box["value"] for box in page.checkboxes("stage")} <= {
        "situation", "recognizing", "aligning", "changing", "results", "lessons"}


def test_partial_returns_only_the_results_fragment(client):
    response = client.get("/", query_string={"q": BORDER, "partial": "1", "region": "Latin America"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and "<textarea" not in html
    assert html.lstrip().startswith('<div class="results-layout"')
    assert 'name="industry"' in html
    assert _story_links(response) and all(link.startswith("/cases/andes-cargo") for link in _story_links(response))


LOGISTICS_PROSPECT = "a freight company in Brazil with ~2,000 staff; trucks wait days at borders over paperwork"


def test_what_the_situation_says_is_shown_as_removable_chips(client):
    html = client.get("/", query_string={"q": LOGISTICS_PROSPECT}).get_data(as_text=True)
    page = _Page(html)
    chips = [attrs for tag, attrs in page.tags if tag == "li" and "chip-understood" in (attrs.get("class") or "")]
    assert [chip["data-attribute"] for chip in chips] == ["industry", "company_size", "region"]
    assert "Understood:" in html and "1001-5000 employees" in html and "never hides any" in html
    removes = [attrs["href"] for tag, attrs in page.tags if tag == "a" and attrs.get("class") == "chip-remove"]
    assert len(removes) == 3
    without_industry = parse_qs(urlsplit(removes[0].replace("&amp;", "&")).query)
    assert without_industry == {"q": [LOGISTICS_PROSPECT], "ignore": ["industry"]}
    after = client.get("/", query_string={"q": LOGISTICS_PROSPECT, "ignore": "industry"}).get_data(as_text=True)
    after_page = _Page(after)
    assert [attrs["data-attribute"] for tag, attrs in after_page.tags
            if tag == "li" and "chip-understood" in (attrs.get("class") or "")] == ["company_size", "region"]
    assert ("input", {"type": "hidden", "name": "ignore", "value": "industry"}) in after_page.tags, \
        "a new search from the form keeps the removal"
    partial = client.get("/", query_string={"q": LOGISTICS_PROSPECT, "partial": "1"}).get_data(as_text=True)
    assert "partial" not in "".join(attrs["href"] for tag, attrs in _Page(partial).tags
                                    if tag == "a" and attrs.get("class") == "chip-remove")


def test_the_api_reports_what_it_understood_and_refuses_an_unknown_ignore(client):
    data = client.get("/api/search", query_string={"q": LOGISTICS_PROSPECT, "like_region": "Latin America"}).get_json()
    assert data["understood"] == {"industry": ["Logistics"], "company_size": ["1001-5000"]}
    assert "coverage" in data["results"][0]["why"]
    refused = client.get("/api/search", query_string={"q": LOGISTICS_PROSPECT, "ignore": "deal_size"})
    assert refused.status_code == 400 and "cannot ignore 'deal_size'" in refused.get_json()["error"]["message"]


def test_profile_raises_cases_like_the_prospect(client):
    html = client.get("/", query_string={"q": BORDER, "like_industry": "Logistics"}).get_data(as_text=True)
    assert "like you: industry Logistics" in html
    assert '<option value="Logistics" selected>' in html


def test_invalid_filter_value_is_a_400_page(client):
    response = client.get("/", query_string={"q": BORDER, "company_size": "huge"})
    assert response.status_code == 400
    assert "text/html" in response.content_type
    assert "company_size" in response.get_data(as_text=True)


def test_drafts_are_never_shown(client):
    for url in ("/", "/browse"):
        response = client.get(url, query_string={"q": DRAFT_TEXT})
        assert DRAFT_ID not in response.get_data(as_text=True)
    assert client.get(f"/cases/{DRAFT_ID}").status_code == 404
    assert client.get(f"/api/cases/{DRAFT_ID}").status_code == 404
    data = client.get("/api/search", query_string={"q": DRAFT_TEXT, "k": 100}).get_json()
    assert DRAFT_ID not in {r["id"] for r in data["results"]}
    similar = client.get("/api/cases/clearview-dental-partners/similar", query_string={"k": 100}).get_json()
    assert DRAFT_ID not in {r["id"] for r in similar["results"]}


# -- story page --------------------------------------------------------------------------


def test_story_page_renders_the_case(client):
    response = client.get("/cases/andes-cargo")
    html = response.get_data(as_text=True)
    page = _page(response)
    assert response.status_code == 200
    assert "A cross-border trucking firm cuts border waiting time" in html
    for label in ("Situation", "Recognizing", "Aligning", "Changing", "Results", "Lessons"):
        assert f'<span class="step-label">{label}</span>' in html
    journey = [a["href"] for a in page.find("a") if a.get("href", "").startswith("#section-")]
    assert len(journey) >= 6
    for anchor in journey:
        assert page.find("section", id=anchor[1:]), f"journey link {anchor} leads nowhere"
    assert "Kestrel Flow" in html and "Latin America" in html and "2024-02-12" in html
    assert page.find("input", id="share-url", value="http://localhost/cases/andes-cargo")
    assert page.find("button", **{"data-action": "copy"}) and page.find("button", **{"data-action": "print"})
    assert 'class="story-section is-matched"' not in html


def test_story_page_shows_more_like_this(client):
    page = _page(client.get("/cases/andes-cargo"))
    html_links = [a["href"] for a in page.find("a") if a.get("href", "").startswith("/cases/")]
    assert len(html_links) == 5
    assert "/cases/andes-cargo" not in html_links


def test_story_page_highlights_the_matched_section(client):
    response = client.get("/cases/andes-cargo", query_string={"q": BORDER, "section": "Lessons"})
    html = response.get_data(as_text=True)
    matched = re.findall(r'<section id="([^"]+)" class="story-section is-matched"', html)
    assert matched == ["section-lessons"]
    assert "Matched passage" in html and 'href="#section-lessons"' in html
    assert "<mark>" in html


def test_story_page_points_a_profile_match_at_a_glance(client):
    response = client.get("/cases/alder-community-credit-union",
                          query_string={"q": CREDIT_UNION, "section": "At a glance"})
    html = response.get_data(as_text=True)
    assert 'class="panel glance is-matched"' in html
    assert 'href="#at-a-glance"' in html


def test_result_links_lead_to_a_highlighted_section(client):
    links = _story_links(client.get("/", query_string={"q": BORDER, "k": 5}))
    assert len(links) == 5
    for link in links:
        assert "is-matched" in client.get(link).get_data(as_text=True), link


def test_unknown_story_is_a_404_page(client):
    response = client.get("/cases/no-such-case")
    assert response.status_code == 404
    assert "text/html" in response.content_type
    assert "Not found" in response.get_data(as_text=True)


# -- browse ------------------------------------------------------------------------------


def test_browse_lists_every_published_case(client, web_kb):
    links = _story_links(client.get("/browse"))
    published = [i for i, m in web_kb.version.doc_meta.items() if m.get("status") != "draft"]
    assert sorted(link.removeprefix("/cases/") for link in links) == sorted(published)


def test_browse_sorts_by_date_and_title(client, web_kb):
    meta = web_kb.version.doc_meta
    by_date = [link.removeprefix("/cases/") for link in _story_links(client.get("/browse?sort=date"))]
    assert [meta[i]["published"] for i in by_date] == sorted((meta[i]["published"] for i in by_date), reverse=True)
    by_title = [link.removeprefix("/cases/") for link in _story_links(client.get("/browse?sort=title"))]
    assert [meta[i]["title"].casefold() for i in by_title] == sorted(meta[i]["title"].casefold() for i in by_title)
    assert client.get("/browse?sort=size").status_code == 400


def test_browse_filters_by_facets(client):
    response = client.get("/browse", query_string=[("industry", "Logistics"), ("industry", "Banking")])
    links = {link.removeprefix("/cases/") for link in _story_links(response)}
    assert links == {"andes-cargo", "bluegum-couriers", "baltic-merchant-bank", "alder-community-credit-union"}
    one = _story_links(client.get("/browse", query_string={"industry": "Logistics", "company_size": "1-50"}))
    assert one == ["/cases/bluegum-couriers"]
    partial = client.get("/browse", query_string={"industry": "Logistics", "partial": "1"}).get_data(as_text=True)
    assert "<html" not in partial and "bluegum-couriers" in partial


# -- JSON API ----------------------------------------------------------------------------


def test_api_search_is_the_response_of_the_knowledge_base(client, web_kb):
    data = client.get("/api/search", query_string={"q": BORDER, "k": 3, "like_region": "Latin America"}).get_json()
    expected = web_kb.search(BORDER, k=3, profile={"region": "Latin America"}).to_dict()
    search_id = data.pop("search_id")
    highlighted = [result.pop("snippet_html") for result in data["results"]]
    assert all("<mark>" in html for html in highlighted[:1]), "the web layer adds the snippet as HTML"
    assert data == expected
    assert set(data) == {"query", "total", "results", "facets", "notices", "all_weak", "understood"}
    assert isinstance(search_id, int)  # the search was logged under this id
    assert len(data["results"]) == 3 and data["results"][0]["id"] == "andes-cargo"


def test_api_search_filters_are_repeatable(client):
    data = client.get("/api/search", query_string=[("q", "bank"), ("k", "100"), ("industry", "Banking"),
                                                   ("industry", "Logistics")]).get_json()
    assert {r["industry"] for r in data["results"]} == {"Banking", "Logistics"}
    stage = client.get("/api/search", query_string={"q": BORDER, "stage": "results"}).get_json()
    assert {r["stage"] for r in stage["results"]} == {"results"}


@pytest.mark.parametrize("query, message", [
    ({}, "the query is empty"),
    ({"q": "   "}, "the query is empty"),
    ({"q": BORDER, "k": "0"}, "k must be a whole number from 1 to 100"),
    ({"q": BORDER, "k": "abc"}, "k must be a whole number from 1 to 100"),
    ({"q": BORDER, "k": "101"}, "k must be a whole number from 1 to 100"),
    ({"q": BORDER, "company_size": "huge"}, "company_size 'huge' is not one of"),
    ({"q": BORDER, "like_size": "huge"}, "company_size 'huge' is not one of"),
])
def test_api_search_rejects_bad_requests(client, query, message):
    response = client.get("/api/search", query_string=query)
    assert response.status_code == 400
    assert response.content_type == "application/json"
    error = response.get_json()["error"]
    assert error["status"] == 400
    assert error["message"].startswith(message)


def test_api_case(client):
    data = client.get("/api/cases/andes-cargo").get_json()
    assert data["id"] == "andes-cargo" and data["industry"] == "Logistics"
    assert data["url"] == "http://localhost/cases/andes-cargo"
    assert "path" not in data
    assert [s["stage"] for s in data["sections"]] == list(STAGES)
    assert all(set(s) == {"title", "stage", "stage_label", "html"} for s in data["sections"])
    assert data["sections"][0]["html"].startswith("<p>")


def test_api_unknown_case_is_a_json_404(client):
    for url in ("/api/cases/no-such-case", "/api/cases/no-such-case/similar"):
        response = client.get(url)
        assert response.status_code == 404
        assert response.get_json() == {"error": {"status": 404, "message": "no case with id 'no-such-case'"}}


def test_api_similar(client):
    data = client.get("/api/cases/andes-cargo/similar", query_string={"k": 3}).get_json()
    assert data["id"] == "andes-cargo"
    assert len(data["results"]) == 3
    assert "andes-cargo" not in {r["id"] for r in data["results"]}
    assert all("similarity" in r and "path" not in r for r in data["results"])
    assert len(client.get("/api/cases/andes-cargo/similar").get_json()["results"]) == 5
    for k in ("0", "abc", "101"):
        response = client.get("/api/cases/andes-cargo/similar", query_string={"k": k})
        assert response.status_code == 400
        assert response.get_json()["error"]["status"] == 400


def test_api_facets(client):
    facets = client.get("/api/facets").get_json()["facets"]
    assert tuple(facets) == FACET_FIELDS
    assert facets["industry"]["Banking"] == 2
    assert facets["industry"]["Insurance"] == 1  # the published underwriter, not the draft


def test_healthz(client, sign_in):
    assert client.get("/healthz").get_json() == {"status": "ok"}  # details are for admins
    response = sign_in("ada").get("/healthz")
    data = response.get_json()
    assert response.status_code == 200
    assert set(data) == {"status", "index_version", "built_at", "cases", "passages", "model", "dimension", "ranking"}
    assert data["status"] == "ok" and data["cases"] == 12 and data["dimension"] == 384
    assert data["ranking"] == "built-in"


# -- security ----------------------------------------------------------------------------


@pytest.mark.parametrize("url", PAGES + ["/api/search?q=customs", "/api/facets", "/healthz", "/static/app.css"])
def test_security_headers(client, url):
    with client.get(url) as response:  # closes the static file
        headers = response.headers
    policy = headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("url", PAGES + ["/?q=bank&partial=1", "/browse?partial=1"])
def test_pages_have_no_inline_script_or_style(client, url):
    page = _page(client.get(url))
    assert page.inline == []
    if "partial" not in url:
        assert page.find("script", src="/static/app.js")
        assert page.find("link", rel="stylesheet", href="/static/app.css")
        assert page.find("main", id="main") and page.find("a", href="#main")
