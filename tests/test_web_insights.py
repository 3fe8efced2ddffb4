"""The Insights page and /api/insights on a seeded search log, and logging searches and opens
from the web: who may see insights, what is logged, and that a failing log never breaks a search."""

from __future__ import annotations

import re
import sqlite3
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from kb.searchlog import SearchLog
from tests.web_fixtures import (  # noqa: F401
    FOUND_SEARCHES,
    GAP_SEARCHES,
    MOST_OPENED,
    OLD_SEARCH,
    SECRET_KEY,
    insights_app,
    kb_app,
    kb_users,
    sign_in,
    web_kb,
    web_settings,
)

pytestmark = pytest.mark.slow

BORDER = FOUND_SEARCHES[1][0]


class _Html(HTMLParser):
    """Elements with their attributes and text, to find sections, tables and links."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[dict] = []
        self._open: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": "", "cells": [], "inside": list(self._open)}
        self.elements.append(element)
        if tag in ("td", "th"):
            row = next((e for e in reversed(self._open) if e["tag"] == "tr"), None)
            if row is not None:
                row["cells"].append(element)
        if tag not in {"br", "img", "input", "link", "meta", "rect", "line", "path"}:
            self._open.append(element)

    def handle_endtag(self, tag):
        for n in range(len(self._open) - 1, -1, -1):
            if self._open[n]["tag"] == tag:
                del self._open[n:]
                break

    def handle_data(self, data):
        for element in self._open:
            element["text"] += data

    def find(self, tag: str, **attrs: str) -> list[dict]:
        return [e for e in self.elements if e["tag"] == tag and all(e["attrs"].get(k) == v for k, v in attrs.items())]

    def rows(self, container: dict | None = None) -> list[list[str]]:
        """The cells' texts of every table row (inside ``container`` when given)."""
        return [[" ".join(cell["text"].split()) for cell in e["cells"]] for e in self.elements
                if e["tag"] == "tr" and (container is None or any(c is container for c in e["inside"]))]

    def section(self, section_id: str) -> str:
        """The text of a section, spaces collapsed."""
        (section,) = self.find("section", id=section_id)
        return " ".join(section["text"].split())


def _insights(client, **params) -> tuple[str, _Html]:
    response = client.get("/insights", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    html = response.get_data(as_text=True)
    return html, _Html(html)


@pytest.fixture
def marketer(insights_app, sign_in):
    return sign_in("mia", app=insights_app)


def _log(app) -> SearchLog:
    return SearchLog(app.config["KB_DATABASE"], retention=0)


def _last_search(app):
    log = _log(app)
    try:
        return list(log.searches())[-1]
    finally:
        log.close()


def _opens(app):
    log = _log(app)
    try:
        return list(log.opens())
    finally:
        log.close()


# -- who may see insights ----------------------------------------------------------------


def test_marketers_and_admins_see_insights(insights_app, sign_in):
    for name in ("mia", "ada"):
        client = sign_in(name, app=insights_app)
        assert client.get("/insights").status_code == 200, name
        assert client.get("/api/insights").status_code == 200, name
        nav = _Html(client.get("/browse").get_data(as_text=True)).find("a", href="/insights")
        assert [a["text"] for a in nav] == ["Insights"], name


def test_sellers_get_403_and_no_nav_link(insights_app, sign_in):
    seller = sign_in("sam", app=insights_app)
    response = seller.get("/insights")
    assert response.status_code == 403
    assert "your role (seller) cannot do this" in response.get_data(as_text=True)
    api = seller.get("/api/insights")
    assert api.status_code == 403 and api.get_json()["error"]["status"] == 403
    assert not _Html(seller.get("/browse").get_data(as_text=True)).find("a", href="/insights")


def test_anonymous_readers_are_sent_to_sign_in(insights_app):
    client = insights_app.test_client()
    response = client.get("/insights?since=30")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login" and parse_qs(location.query)["next"] == ["/insights?since=30"]
    api = client.get("/api/insights")
    assert api.status_code == 401
    assert api.get_json()["error"]["message"].startswith("sign in first")
    assert not _Html(client.get("/browse").get_data(as_text=True)).find("a", href="/insights")


@pytest.mark.parametrize("params, message", [
    ({"since": "0"}, "since must be a whole number of days from 1 to 3650"),
    ({"since": "soon"}, "since must be a whole number of days from 1 to 3650"),
    ({"stale_months": "-1"}, "stale_months must be a whole number of months from 0 to 600"),
    ({"stale_months": "601"}, "stale_months must be a whole number of months from 0 to 600"),
])
def test_bad_parameters_are_a_400_that_says_why(marketer, params, message):
    page = marketer.get("/insights", query_string=params)
    assert page.status_code == 400 and message in page.get_data(as_text=True)
    api = marketer.get("/api/insights", query_string=params)
    assert api.status_code == 400 and api.get_json()["error"]["message"] == message


# -- the page on a seeded log ------------------------------------------------------------


def test_totals_and_most_frequent_searches(marketer):
    html, page = _insights(marketer)
    stats = {" ".join(dt["text"].split()): " ".join(dd["text"].split())
             for dt, dd in zip(page.find("dt"), page.find("dd"))}
    weak = sum(len(w) for w in GAP_SEARCHES.values())
    found = sum(len(users) for _, users in FOUND_SEARCHES)
    assert stats["Searches"] == str(weak + found)  # the 200-day-old search is outside 90 days
    assert stats["No strong match"] == f"{weak} {round(100 * weak / (weak + found))}%"
    assert stats["Stories opened"] == "5"
    assert stats["Signed-in searchers"] == "3"
    assert stats["Published stories"] == "11"  # twelve files, one a draft

    frequent = page.section("frequent")
    assert frequent.index(FOUND_SEARCHES[0][0]) < frequent.index(BORDER)
    rows = {row[0]: row[1:] for row in page.rows() if row}
    assert rows[FOUND_SEARCHES[0][0]][:3] == ["4", "0", "2"]  # 4 times, none weak, 2 signed-in people
    assert rows[GAP_SEARCHES["crew"][0]][:3] == ["1", "1", "1"]
    assert OLD_SEARCH not in html


def test_a_longer_period_includes_older_searches(marketer):
    html, page = _insights(marketer, since=365)
    assert OLD_SEARCH in page.section("frequent")
    assert "selected" in page.find("option", value="365")[0]["attrs"]
    json = marketer.get("/api/insights", query_string={"since": 365}).get_json()
    weak = sum(len(w) for w in GAP_SEARCHES.values())
    assert json["totals"]["searches"] == weak + sum(len(users) for _, users in FOUND_SEARCHES) + 1


def test_stories_to_write_next_group_weak_searches_by_meaning(marketer):
    _, page = _insights(marketer)
    cards = page.find("li", **{"class": "gap-card"})
    assert len(cards) == 2
    for card in cards:
        text = " ".join(card["text"].split())
        (wordings,) = [w for w in GAP_SEARCHES.values() if f"“{w[0]}”" in text]
        assert all(f"“{wording}”" in text for wording in wordings), text
        assert "4 searches" in text and "4 wordings" in text and "1 person" in text and "Also searched as" in text
        assert re.search(r"Closest story we have: .+ similarity 0\.\d\d", text)
    nearest = page.find("p", **{"class": "gap-nearest"})
    assert len(nearest) == 2
    json = marketer.get("/api/insights").get_json()
    for group in json["weak_groups"]:
        assert page.find("a", href=f"/cases/{group['nearest_case']['id']}")


def test_coverage_heat_maps_and_tables_mark_the_empty_cells(marketer):
    html, page = _insights(marketer)
    coverage = marketer.get("/api/insights").get_json()["coverage"]
    assert len(coverage) == 2 and coverage[1]["empty"] > 0
    heatmaps = re.findall(r'<svg [^>]*class="kb-chart kb-heatmap"', html)
    assert len(heatmaps) == 2
    assert html.count('class="kb-cell kb-empty"') == sum(table["empty"] for table in coverage)
    tables = page.find("table", **{"class": "data-table coverage-table"})
    assert len(tables) == 2
    assert html.count('<td class="num cell-empty">0<span class="visually-hidden"> (no story yet)</span></td>') == \
        sum(table["empty"] for table in coverage)
    details = page.find("details", **{"class": "numbers"})
    assert len(details) == 3  # the two coverage tables and the timeline's numbers
    assert "Industry × journey stage" in page.section("coverage")
    assert "Company size × region" in page.section("coverage")
    size_region = coverage[1]
    cells = len(size_region["rows"]) * len(size_region["columns"])
    assert f"{size_region['empty']} of {cells} combinations have no story yet" in page.section("coverage")


def test_searches_over_time_chart(marketer):
    html, page = _insights(marketer)
    assert len(re.findall(r'<svg [^>]*class="kb-chart kb-timeline"', html)) == 1
    assert "Searches per week" in page.section("over-time")
    _, daily = _insights(marketer, since=30)
    assert "Searches per day" in daily.section("over-time")


def test_stale_stories_link_to_story_and_editor(marketer):
    _, page = _insights(marketer)
    stale = page.section("stale")
    assert "Published 24 months ago or more" in stale
    assert page.find("a", href="/cases/alder-community-credit-union")
    assert page.find("a", href="/cases/alder-community-credit-union/edit", **{"class": "button small"})
    assert "2021-06-17" in stale
    _, none = _insights(marketer, stale_months=600)
    assert "None: every published story is younger than 600 months." in none.section("stale")


def test_never_shown_never_opened_and_most_opened(marketer):
    json = marketer.get("/api/insights").get_json()
    _, page = _insights(marketer)
    use = page.section("use")
    (most,) = page.find("div", id="most-opened")
    top = json["most_opened"][0]
    assert top["id"] == MOST_OPENED and (top["opened"], top["opened_from_search"]) == (3, 3)
    assert page.rows(most)[1] == [top["title"], "3", "3", str(top["shown"])]
    (never_opened,) = page.find("div", id="never-opened")
    assert all(case["title"] in never_opened["text"] for case in json["never_opened"])
    (never_shown,) = page.find("div", id="never-shown")
    assert json["never_shown"], "the seeded searches leave some stories unshown"
    assert all(case["title"] in never_shown["text"] for case in json["never_shown"])
    assert "How stories are used" in use


def test_api_insights_is_the_report(marketer):
    data = marketer.get("/api/insights", query_string={"since": 90, "stale_months": 12}).get_json()
    assert {"generated_at", "since", "totals", "top_searches", "weak_groups", "coverage", "stale_months", "stale",
            "undated", "never_shown", "never_opened", "most_opened", "bucket", "timeline"} <= set(data)
    assert data["stale_months"] == 12 and data["bucket"] == "week"
    assert [g["size"] for g in data["weak_groups"]] == [4, 4]


def test_the_page_has_no_inline_script_or_style_and_escapes_searches(insights_app, marketer):
    payload = '<script>alert("insights")</script><img src=x onerror=alert(1)>'
    log = _log(insights_app)
    search_id = log.record_search(payload, {}, {}, [], weak=True, user="sam")
    try:
        html, page = _insights(marketer)
    finally:
        log.db.execute("DELETE FROM searches WHERE id = ?", (search_id,))  # the other tests' log stays as seeded
        log.close()
    assert payload not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;insights&#34;)&lt;/script&gt;" in html  # in the table and in a group
    assert not [e for e in page.elements if e["tag"] == "script" and not e["attrs"].get("src")]
    assert not [e for e in page.elements if "style" in e["attrs"] or any(a.startswith("on") for a in e["attrs"])]
    assert "Content-Security-Policy" in marketer.get("/insights").headers


# -- logging searches and opens from the web --------------------------------------------


def test_a_search_on_the_page_is_logged_with_its_user(insights_app, sign_in):
    anonymous = insights_app.test_client()
    html = anonymous.get("/", query_string={"q": BORDER, "region": "Latin America"}).get_data(as_text=True)
    search = _last_search(insights_app)
    assert search.query == BORDER and search.user is None
    assert search.filters == {"region": ["Latin America"]}
    assert search.results and search.results[0][0] == "andes-cargo" and not search.weak
    links = [e["attrs"]["href"] for e in _Html(html).find("a") if e["attrs"].get("href", "").startswith("/cases/")]
    assert links and all(parse_qs(urlsplit(link).query)["sid"] == [str(search.id)] for link in links)

    seller = sign_in("sam", app=insights_app)
    seller.get("/", query_string={"q": "zxqv blorf quux", "like_industry": "Banking"})
    search = _last_search(insights_app)
    assert search.user == "sam" and search.profile == {"industry": "Banking"} and search.weak


def test_filter_changes_are_logged_but_an_empty_query_is_not(insights_app):
    client = insights_app.test_client()
    before = _last_search(insights_app).id
    client.get("/")
    client.get("/", query_string={"q": "   "})
    client.get("/", query_string={"industry": "Banking", "partial": "1"})
    assert _last_search(insights_app).id == before
    fragment = client.get("/", query_string={"q": BORDER, "industry": "Logistics", "partial": "1"})
    search = _last_search(insights_app)
    assert search.id > before and search.filters == {"industry": ["Logistics"]}
    assert f"sid={search.id}" in fragment.get_data(as_text=True)


def test_an_api_search_is_logged_and_returns_its_id(insights_app, sign_in):
    data = insights_app.test_client().get("/api/search", query_string={"q": BORDER, "k": 3}).get_json()
    search = _last_search(insights_app)
    assert data["search_id"] == search.id and search.user is None
    assert [case_id for case_id, _ in search.results] == [r["id"] for r in data["results"]]
    signed_in = sign_in("ada", app=insights_app).get("/api/search", query_string={"q": BORDER}).get_json()
    search = _last_search(insights_app)
    assert signed_in["search_id"] == search.id and search.user == "ada"


def test_opening_a_result_is_logged_with_its_search(insights_app, sign_in):
    seller = sign_in("sam", app=insights_app)
    html = seller.get("/", query_string={"q": BORDER}).get_data(as_text=True)
    search = _last_search(insights_app)
    link = next(e["attrs"]["href"] for e in _Html(html).find("a")
                if e["attrs"].get("href", "").startswith("/cases/andes-cargo?"))
    assert seller.get(link).status_code == 200
    opened = _opens(insights_app)[-1]
    assert (opened.search_id, opened.case_id, opened.user) == (search.id, "andes-cargo", "sam")
    seller.get(link)  # a reload is not a second read
    assert _opens(insights_app)[-1].id == opened.id

    seller.get("/cases/bluegum-couriers")
    direct = _opens(insights_app)[-1]
    assert (direct.search_id, direct.case_id, direct.user) == (None, "bluegum-couriers", "sam")


@pytest.mark.parametrize("sid", ["{other}", "abc", "-1", "99999999999999999999999", "1e3"])
def test_a_forged_or_foreign_sid_is_not_linked(insights_app, sign_in, sid):
    seller = sign_in("sam", app=insights_app)
    seller.get("/", query_string={"q": "credit union members leaving"})
    sams = _last_search(insights_app)
    marketer = sign_in("mia", app=insights_app)
    response = marketer.get("/cases/ashford-legal-partners", query_string={"sid": sid.format(other=sams.id)})
    assert response.status_code == 200
    opened = _opens(insights_app)[-1]
    assert (opened.search_id, opened.case_id, opened.user) == (None, "ashford-legal-partners", "mia")


def test_an_unknown_story_is_not_logged_as_opened(insights_app):
    before = len(_opens(insights_app))
    assert insights_app.test_client().get("/cases/no-such-case").status_code == 404
    assert len(_opens(insights_app)) == before


def test_a_failing_log_never_breaks_a_search(insights_app, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(SearchLog, "record_response", broken)
    monkeypatch.setattr(SearchLog, "record_open", broken)
    client = insights_app.test_client()
    page = client.get("/", query_string={"q": BORDER})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/cases/andes-cargo?" in html and "sid=" not in html
    api = client.get("/api/search", query_string={"q": BORDER})
    assert api.status_code == 200 and api.get_json()["search_id"] is None and api.get_json()["results"]
    assert client.get("/cases/andes-cargo").status_code == 200
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert "search not logged (OperationalError: database is locked)" in warnings
    assert "story open not logged (OperationalError: database is locked)" in warnings


def test_an_unusable_database_never_breaks_a_search(web_settings, web_kb, tmp_path, caplog):
    from webui import create_app

    app = create_app({"KB_SETTINGS": web_settings, "SECRET_KEY": SECRET_KEY, "TESTING": True,
                      "KB_KNOWLEDGE_BASE": web_kb, "KB_DATABASE": tmp_path})  # a directory, not a file
    client = app.test_client()
    assert client.get("/", query_string={"q": BORDER}).status_code == 200
    assert client.get("/api/search", query_string={"q": BORDER}).get_json()["search_id"] is None
    assert client.get("/cases/andes-cargo", query_string={"sid": "1"}).status_code == 200
    assert any(r.getMessage().startswith("search not logged (OperationalError") for r in caplog.records)
