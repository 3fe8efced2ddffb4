"""The web UI in a real browser: Debian's Chromium driven by Playwright, against a live server.

Skipped when /usr/bin/chromium is missing, unless KB_REQUIRE_BROWSER=1 (CI), which fails instead.
Screenshots land in tests/artifacts/.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest

from tests.web_fixtures import kb_app, shared_chromium, web_kb, web_settings  # noqa: F401

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    if os.environ.get("KB_REQUIRE_BROWSER") == "1":
        pytest.fail(f"KB_REQUIRE_BROWSER=1 but {CHROMIUM} is missing: apt-get install chromium", pytrace=False)
    pytest.skip(f"{CHROMIUM} is missing (install Debian's chromium to run the browser tests)",
                allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SITUATION = "Our trucks wait days at the border because the customs paperwork arrives wrong or unsigned"
#: Reports every Content-Security-Policy violation as a console error.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline code"}`);
});
"""


@pytest.fixture(scope="session")
def live_server(kb_app):
    """The app served by werkzeug on a free port, in a thread."""
    server = make_server("127.0.0.1", 0, kb_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless (never `playwright install`: the machine is offline)."""
    with shared_chromium(CHROMIUM, LAUNCH_ARGS) as browser:
        yield browser


class Session:
    """A page and the console errors (CSP violations included) it reported."""

    def __init__(self, browser, **context_options):
        self.context = browser.new_context(**context_options)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.add_init_script(CSP_LISTENER)
        self.page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def session(browser):
    """A desktop-sized browser tab that may copy to the clipboard."""
    session = Session(browser, viewport={"width": 1280, "height": 900},
                      permissions=["clipboard-read", "clipboard-write"])
    yield session
    session.close()


def _card_titles(page) -> list[str]:
    return page.locator(".card .card-title a").all_inner_texts()


def test_search_filter_story_and_back(session, live_server):
    page = session.page
    page.goto(live_server + "/")
    expect(page.get_by_role("heading", name="Find the story your prospect will recognize")).to_be_visible()

    # Describe the situation and search: relevant cards appear.
    page.get_by_label("Describe your prospect's situation").fill(SITUATION)
    page.get_by_role("button", name="Find stories").click()
    page.wait_for_url(re.compile(r"\?q=Our\+trucks[^&]*$"))  # app.js leaves out empty fields
    expect(page.locator(".card").first).to_be_visible()
    titles = _card_titles(page)
    assert "cross-border trucking" in titles[0]
    assert page.locator(".card mark").count() > 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "search.png"), full_page=True)

    # Apply a facet: the results and the URL change without a page load.
    page.evaluate("window.kbSamePage = true")
    page.locator('input[name="region"][value="Latin America"]').check()
    expect(page).to_have_url(re.compile(r"region=Latin\+America"))
    expect(page.locator(".card")).to_have_count(1)
    assert page.evaluate("window.kbSamePage") is True
    expect(page.locator('input[name="region"][value="Latin America"]')).to_be_checked()
    filtered_url = page.url

    # Back restores the unfiltered results; forward the filtered ones.
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"region="))
    expect(page.locator(".card")).to_have_count(len(titles))
    expect(page.locator('input[name="region"][value="Latin America"]')).not_to_be_checked()
    page.go_forward()
    expect(page).to_have_url(filtered_url)
    expect(page.locator(".card")).to_have_count(1)

    # A journey-stage facet: the passage shown comes from that stage.
    page.locator('input[name="stage"][value="results"]').check()
    expect(page).to_have_url(re.compile(r"region=Latin\+America&stage=results"))
    expect(page.locator(".card .snippet-where")).to_have_text(["Results"])

    # Open the story: the matched section is highlighted.
    page.locator(".card .card-title a").first.click()
    page.wait_for_url(re.compile(r"/cases/andes-cargo\?q=.*&section=Results"))
    story_url = page.url
    expect(page.locator("h1")).to_contain_text("cross-border trucking")
    matched = page.locator("section.story-section.is-matched")
    expect(matched).to_have_count(1)
    expect(matched).to_have_attribute("id", "section-results-after-twelve-months")
    expect(matched.locator(".matched-label")).to_have_text("Matched your search")
    expect(page.locator(".match-callout")).to_contain_text("Matched passage")
    expect(page.locator(".journey-step.is-matched")).to_have_text("Results")
    page.screenshot(path=str(ARTIFACTS / "story.png"), full_page=True)

    # Copy link and Print are wired by app.js.
    page.get_by_role("button", name="Copy link").click()
    expect(page.locator(".copy-status")).to_have_text("Link copied.")
    assert page.evaluate("navigator.clipboard.readText()") == live_server + "/cases/andes-cargo"
    expect(page.get_by_role("button", name="Print")).to_be_visible()

    # More like this, then back to the story we came from.
    similar = page.locator(".more-like-this a").first
    similar_title = similar.inner_text()
    similar.click()
    page.wait_for_url(re.compile(r"/cases/(?!andes-cargo)[a-z0-9-]+$"))
    expect(page.locator("h1")).to_have_text(similar_title)
    page.go_back()
    page.wait_for_url(story_url)
    expect(page.locator("section.story-section.is-matched")).to_have_count(1)

    assert session.errors == []


def test_understood_chips_are_removed_with_a_click(session, live_server):
    page = session.page
    page.goto(live_server + "/")
    page.get_by_label("Describe your prospect's situation").fill(
        "a freight company in Brazil with ~2,000 staff; trucks wait days at borders over paperwork")
    page.get_by_role("button", name="Find stories").click()
    chips = page.locator(".understood .chip-understood")
    expect(chips).to_have_count(3)
    expect(chips.first).to_contain_text("Logistics")
    page.get_by_role("link", name="Remove industry Logistics").click()
    expect(page).to_have_url(re.compile(r"ignore=industry"))
    expect(chips).to_have_count(2)
    expect(page.locator(".understood")).not_to_contain_text("Logistics")
    expect(page.locator(".card").first).to_be_visible()


def test_browse_sorts_and_filters(session, live_server):
    page = session.page
    page.goto(live_server + "/browse")
    count = page.locator(".compact-card").count()
    assert count == 11
    page.get_by_label("Sort by").select_option("title")
    expect(page).to_have_url(re.compile(r"sort=title"))
    expect(page.locator(".results-count")).to_have_text("By title")
    titles = page.locator(".compact-card .card-title a").all_inner_texts()
    assert titles == sorted(titles, key=str.casefold)
    page.locator('input[name="industry"][value="Logistics"]').check()
    expect(page).to_have_url(re.compile(r"industry=Logistics"))
    expect(page.locator(".compact-card")).to_have_count(2)
    page.go_back()
    expect(page.locator(".compact-card")).to_have_count(count)
    expect(page.get_by_label("Sort by")).to_have_value("title")
    assert session.errors == []


def test_works_without_javascript(browser, live_server):
    session = Session(browser, java_script_enabled=False)
    try:
        page = session.page
        page.goto(live_server + "/?q=" + SITUATION.replace(" ", "+"))
        page.locator('input[name="industry"][value="Logistics"]').check()
        page.get_by_role("button", name="Apply filters").click()
        page.wait_for_url(re.compile(r"industry=Logistics"))
        industries = page.locator(".card .facts").all_inner_texts()
        assert industries and all("Logistics" in facts for facts in industries)
        expect(page.get_by_role("button", name="Copy link")).to_have_count(0)
    finally:
        session.close()


def test_phone_layout_and_keyboard(browser, live_server):
    session = Session(browser, viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    try:
        page = session.page
        page.goto(live_server + "/?q=" + SITUATION.replace(" ", "+"))
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        expect(page.locator(".card").first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "search-phone.png"), full_page=False)
        page.goto(live_server + "/cases/andes-cargo")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Skip to content")
        expect(skip).to_be_focused()
        expect(skip).to_be_in_viewport()
        assert session.errors == []
    finally:
        session.close()
