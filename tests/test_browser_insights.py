"""The Insights page in a real browser (Debian's Chromium through Playwright) on a seeded log.

A marketer signs in and reads the page: the coverage heat maps, the stories to write next,
the numbers behind a chart; on a phone nothing but the tables and charts scrolls sideways.
No console or CSP error anywhere. Screenshots land in tests/artifacts/.
"""

from __future__ import annotations

import re

import pytest

from tests.test_browser import ARTIFACTS, CHROMIUM, LAUNCH_ARGS, Session  # skips without Chromium
from tests.test_browser_editor import serving
from tests.web_fixtures import (  # noqa: F401
    GAP_SEARCHES,
    PASSWORD,
    insights_app,
    shared_chromium,
    web_kb,
    web_settings,
)

from playwright.sync_api import expect  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def insights_server(insights_app):
    """The app with a seeded search log, served on a free port."""
    with serving(insights_app) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """The Chromium the other browser tests use too."""
    with shared_chromium(CHROMIUM, LAUNCH_ARGS) as browser:
        yield browser


def _sign_in(page, base: str, name: str, then: str) -> None:
    page.goto(f"{base}/login?next={then}")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + then)


def test_a_marketer_reads_the_insights_page(browser, insights_server):
    session = Session(browser, viewport={"width": 1280, "height": 900})
    try:
        page = session.page
        _sign_in(page, insights_server, "mia", "/")
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Insights").click()
        page.wait_for_url(insights_server + "/insights")
        expect(page.get_by_role("heading", name="Insights", level=1)).to_be_visible()
        expect(page.get_by_role("link", name="Insights", exact=True)).to_have_attribute("aria-current", "page")

        # Coverage heat maps, drawn on the server: empty cells hatched.
        heatmaps = page.locator("svg.kb-heatmap")
        expect(heatmaps).to_have_count(2)
        expect(heatmaps.nth(1)).to_be_visible()
        assert heatmaps.nth(1).locator("g.kb-empty").count() > 0
        assert heatmaps.nth(1).bounding_box()["width"] > 300
        expect(page.locator("svg.kb-timeline")).to_be_visible()

        # Stories to write next: the two gaps, each with its other wordings and closest story.
        cards = page.locator("#write-next .gap-card")
        expect(cards).to_have_count(2)
        text = " ".join(cards.all_inner_texts())
        for wordings in GAP_SEARCHES.values():
            assert all(wording in text for wording in wordings), text
        expect(cards.first.locator(".gap-nearest a")).to_have_attribute("href", re.compile(r"^/cases/[a-z0-9-]+$"))

        # The numbers behind a heat map: empty cells stand out.
        numbers = page.locator("#coverage details.numbers").nth(1)
        numbers.locator("summary").click()
        empty = numbers.locator("td.cell-empty").first
        expect(empty).to_be_visible()
        assert empty.evaluate("el => getComputedStyle(el).backgroundImage").startswith("repeating-linear-gradient")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "insights.png"), full_page=True)

        # Another period, through the form.
        page.get_by_label("Searches of the last").select_option("30")
        page.get_by_role("button", name="Update").click()
        page.wait_for_url(re.compile(r"/insights\?since=30&stale_months=24$"))
        expect(page.locator("#over-time")).to_contain_text("Searches per day")
        assert session.errors == []
    finally:
        session.close()


def test_the_insights_page_fits_a_phone(browser, insights_server):
    session = Session(browser, viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    try:
        page = session.page
        _sign_in(page, insights_server, "mia", "/insights")
        expect(page.locator("svg.kb-heatmap")).to_have_count(2)
        page.locator("#coverage details.numbers").nth(1).locator("summary").click()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        # Wide tables and charts scroll inside their own frame instead of the page.
        frames = page.locator(".table-scroll, .chart-scroll")
        for n in range(frames.count()):
            frame = frames.nth(n)
            if frame.is_visible():
                assert frame.bounding_box()["width"] <= 375
        page.screenshot(path=str(ARTIFACTS / "insights-phone.png"), full_page=True)
        assert session.errors == []
    finally:
        session.close()
