"""Writing stories in a real browser (Debian's Chromium through Playwright), and hostile
stories that must stay inert there.

Marketers sign in, write a story with a live preview, fix a validation error, save, watch the
index catch up and find the story; sellers get 403 on the editor and never see drafts.
Screenshots land in tests/artifacts/.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from contextlib import contextmanager

import pytest

from tests.conftest import SECURITY
from tests.test_browser import ARTIFACTS, CHROMIUM, LAUNCH_ARGS, Session  # skips without Chromium
from tests.web_fixtures import (
    CASES_DIR,
    PASSWORD,
    SECRET_KEY,
    HashingEmbedder,
    add_users,
    hostile_case,
    read_payloads,
    shared_chromium,
)

from playwright.sync_api import expect  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TITLE = "A cider orchard stops losing apples to scab"
BODY = ("## Situation\n\nA family orchard lost a third of its apples to scab every wet summer.\n\n"
        "## Results\n\n- Losses fell from 30% to 4% in one season\n")
#: Distinct payloads the hostile pages must hold, at least.
MIN_PAYLOADS = 500
HOSTILE_CASES = 12
BODY_PAYLOADS = 55
#: Payloads that would set the canary if anything ran.
CANARIES = [
    "<script>window.__pwned = 'script'</script>",
    "<img src=x onerror=\"window.__pwned='img'\">",
    "<svg onload=\"window.__pwned='svg'\"></svg>",
    "<iframe srcdoc=\"<script>parent.__pwned='iframe'</script>\"></iframe>",
    "<details open ontoggle=\"window.__pwned='details'\">",
    "<a href=\"javascript:window.__pwned='link'\" id=pwn>x</a>",
    "<body onpageshow=\"window.__pwned='body'\">",
    "<style>@import 'javascript:window.__pwned=1'</style>",
]


@contextmanager
def serving(app):
    """The app served by werkzeug on a free port, in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def _app(root, settings_embedder, search_embedder):
    from kb.indexing import index_cases
    from kb.service import KnowledgeBase
    from kb.settings import Settings
    from webui import create_app

    settings = Settings(cases_dir=root / "cases", data_dir=root / "data")
    index_cases(settings, embedder=settings_embedder)
    app = create_app({"KB_SETTINGS": settings, "SECRET_KEY": SECRET_KEY,
                      "KB_KNOWLEDGE_BASE": KnowledgeBase(settings, embedder=search_embedder)})
    add_users(app)
    return app


@pytest.fixture(scope="module")
def writable_server(tmp_path_factory, embedder):
    """A live server over a small writable corpus with the real model, one user of each role."""
    root = tmp_path_factory.mktemp("browser-editor")
    (root / "cases").mkdir()
    for name in ("andes-cargo", "bluegum-couriers", "atlas-reinsurance-partners"):
        shutil.copy(CASES_DIR / f"{name}.md", root / "cases" / f"{name}.md")
    app = _app(root, embedder, embedder)
    with serving(app) as url:
        yield url, app
    app.extensions["live"].wait(120)


@pytest.fixture(scope="module")
def browser():
    """The Chromium the other browser tests use too."""
    with shared_chromium(CHROMIUM, LAUNCH_ARGS) as browser:
        yield browser


@pytest.fixture
def session(browser):
    session = Session(browser, viewport={"width": 1280, "height": 900})
    yield session
    session.close()


def _sign_in(page, base: str, name: str) -> None:
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _search_ids(page, base: str, query: str) -> list[str]:
    page.goto(f"{base}/?q={query.replace(' ', '+')}")
    return [re.match(r"/cases/([a-z0-9-]+)", href).group(1)
            for href in page.locator(".card .card-title a").evaluate_all("els => els.map(e => e.getAttribute('href'))")]


def test_marketer_writes_a_story_and_a_seller_cannot(session, writable_server):
    base, app = writable_server
    page = session.page
    ARTIFACTS.mkdir(exist_ok=True)

    # Anonymous: the editor sends to the login page, which comes back afterwards.
    page.goto(base + "/cases/new")
    expect(page).to_have_url(re.compile(r"/login\?next=/cases/new$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "login.png"), full_page=True)
    _sign_in(page, base, "mia")
    expect(page).to_have_url(base + "/cases/new")
    expect(page.locator(".account-name")).to_contain_text("mia")

    # The form: selects for the fixed values, the journey template, a live preview.
    expect(page.get_by_label("Story (Markdown)")).to_have_value(re.compile(r"^## Situation"))
    page.get_by_label("Story id").fill("orchard-cider")
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Customer").fill("Hillside Cider")
    page.get_by_label("Industry").fill("Agriculture and food")
    page.get_by_label("Company size (employees)").select_option("1-50")
    page.get_by_label("Status").select_option("published")
    page.get_by_label("Published on").fill("2025-13-45")
    page.get_by_label("Story (Markdown)").fill(BODY)
    preview = page.locator("#preview")
    expect(preview.locator(".preview-title")).to_have_text(TITLE)
    expect(preview).to_contain_text("Losses fell from 30% to 4% in one season")
    expect(preview.locator(".problem-list")).to_contain_text("is not a date")
    page.screenshot(path=str(ARTIFACTS / "editor.png"), full_page=True)

    # Saving with a bad date: the error beside its field, the text kept.
    page.get_by_role("button", name="Create story").click()
    error = page.locator(".field-published .field-error")
    expect(error).to_have_text("⚠ '2025-13-45' is not a date; use YYYY-MM-DD".removeprefix("⚠ "))
    expect(page.get_by_label("Title")).to_have_value(TITLE)
    page.screenshot(path=str(ARTIFACTS / "editor-error.png"), full_page=True)
    page.get_by_label("Published on").fill("2025-03-04")
    page.get_by_role("button", name="Create story").click()

    # Saved: the status follows the background index until the story is searchable.
    expect(page).to_have_url(base + "/cases/orchard-cider/edit")
    expect(page.locator(".flash")).to_contain_text("Saved")
    expect(page.locator("#index-status")).to_have_text(re.compile(r"^Search index up to date"), timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "editor-saved.png"), full_page=True)
    deadline = time.monotonic() + 30
    while "orchard-cider" not in _search_ids(page, base, "apple orchard scab"):
        assert time.monotonic() < deadline, "the new story is not searchable within 30 s"
        time.sleep(0.5)
    page.locator(".card .card-title a", has_text=TITLE).click()
    expect(page.locator("h1")).to_have_text(TITLE)

    # Unpublish from the story page, then publish again from the editor.
    page.get_by_role("button", name="Unpublish").click()
    expect(page.locator(".flash")).to_contain_text("a draft again")
    expect(page.locator("#index-status")).to_have_text(re.compile(r"^Search index up to date"), timeout=60_000)
    assert "status: draft" in (app.config["KB_SETTINGS"].cases_dir / "orchard-cider.md").read_text()
    page.goto(base + "/browse?status=draft")
    expect(page.locator(".compact-card .card-title a", has_text=TITLE)).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(base + "/login")

    # A seller: no editor, no drafts anywhere.
    _sign_in(page, base, "sam")
    response = page.goto(base + "/cases/new")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_role("link", name="New story")).to_have_count(0)
    assert "orchard-cider" not in _search_ids(page, base, "apple orchard scab")
    page.goto(base + "/browse")
    expect(page.locator(".compact-card .card-title a", has_text=TITLE)).to_have_count(0)
    assert page.goto(base + "/cases/orchard-cider").status == 404
    page.get_by_role("button", name="Sign out").click()

    # The marketer publishes it again: the seller finds it.
    _sign_in(page, base, "mia")
    page.goto(base + "/cases/orchard-cider/edit")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".flash")).to_contain_text("is published")
    expect(page.locator("#index-status")).to_have_text(re.compile(r"^Search index up to date"), timeout=60_000)
    assert _unexpected(session.errors, 403, 404, 422) == []


def _unexpected(errors: list[str], *statuses: int) -> list[str]:
    """Console errors other than the browser's note on the error pages the test asked for."""
    expected = re.compile(rf"Failed to load resource: the server responded with a status of ({'|'.join(map(str, statuses))})")
    return [error for error in errors if not expected.match(error)]


def test_concurrent_edit_shows_both_versions(session, writable_server):
    base, app = writable_server
    page = session.page
    page.goto(base + "/login?next=/cases/bluegum-couriers/edit")
    _sign_in(page, base, "mia")
    expect(page).to_have_url(base + "/cases/bluegum-couriers/edit")
    path = app.config["KB_SETTINGS"].cases_dir / "bluegum-couriers.md"
    path.write_text(path.read_text(encoding="utf-8").replace("## Situation", "## Situation\n\nTheir paragraph.", 1),
                    encoding="utf-8")
    page.get_by_label("Title").fill("My title")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#form-problems")).to_contain_text("someone else changed this story")
    expect(page.get_by_label("Title")).to_have_value("My title")
    expect(page.locator(".other-version pre")).to_contain_text("Their paragraph.")
    page.screenshot(path=str(ARTIFACTS / "editor-conflict.png"), full_page=True)
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".flash")).to_contain_text("Saved")
    assert "title: My title" in path.read_text(encoding="utf-8")
    app.extensions["live"].wait(120)
    assert _unexpected(session.errors, 409) == []


# -- hostile stories in the browser ----------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory, embedder):
    """Twelve stories with 55 payloads each in the body and ten in their metadata."""
    payloads_file = SECURITY / "xss-payloads.txt"
    if not payloads_file.exists():
        pytest.skip("../shared/security is absent")
    payloads = read_payloads(payloads_file)
    per_case = BODY_PAYLOADS + 10
    stride = len(payloads) // (HOSTILE_CASES * per_case)
    sample = payloads[::stride][:HOSTILE_CASES * per_case]
    root = tmp_path_factory.mktemp("browser-xss")
    (root / "cases").mkdir()
    markers = []
    for n in range(HOSTILE_CASES):
        chunk = sample[n * per_case:(n + 1) * per_case]
        lines = []
        for i, payload in enumerate(chunk[10:]):
            marker = f"XSSMARK{n:02}{i:02}"
            markers.append(marker)
            lines.append(f"{marker} {payload}")
        canary = CANARIES[n % len(CANARIES)]
        body = "## Situation\n\n" + "\n\n".join(lines) + f"\n\n## Results\n\n{canary}\n"
        (root / "cases" / f"hostile-{n:02}.md").write_text(hostile_case(f"hostile-{n:02}", chunk[:10], body),
                                                          encoding="utf-8")
    fast = HashingEmbedder(embedder)
    app = _app(root, fast, fast)
    with serving(app) as url:
        yield url, markers, sample


def test_hostile_stories_run_no_script_in_the_browser(browser, hostile_server):
    base, markers, sample = hostile_server
    session = Session(browser, viewport={"width": 1280, "height": 900})
    dialogs: list[str] = []
    page = session.page
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    seen: set[str] = set()
    try:
        pages = [f"/cases/hostile-{n:02}" for n in range(HOSTILE_CASES)]
        pages += ["/browse", "/?q=alert+script+xss&k=20", "/?q=" + sample[0].replace("&", "%26").replace("#", "%23")]
        for path in pages:
            response = page.goto(base + path)
            assert response.status == 200, path
            page.wait_for_timeout(150)  # give timers and late events a chance
            text = page.evaluate("document.body.innerText")
            seen.update(re.findall(r"XSSMARK\d{4}", text))
            assert page.evaluate("document.querySelectorAll('script:not([src^=\"/static/\"])').length") == 0, path
            assert page.evaluate("typeof window.__pwned") == "undefined", path

        # The live preview renders the payloads too.
        page.goto(base + "/login?next=/cases/new")
        page.get_by_label("Name").fill("mia")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(base + "/cases/new")
        for start in range(0, 60, 20):
            batch = sample[start:start + 20] + CANARIES
            page.get_by_label("Title").fill(" ".join(batch[:5]))
            page.get_by_label("Summary").fill(" ".join(batch[5:10]))
            page.get_by_label("Story (Markdown)").fill("\n\n".join(f"PREVIEWMARK{start + i:03} {p}"
                                                                  for i, p in enumerate(batch)))
            expect(page.locator("#preview")).to_contain_text(f"PREVIEWMARK{start:03}")
            page.wait_for_timeout(150)
            assert page.evaluate("typeof window.__pwned") == "undefined"
        assert page.evaluate("document.querySelectorAll('script:not([src^=\"/static/\"])').length") == 0
    finally:
        session.close()
    assert dialogs == [], f"a payload opened a dialog: {dialogs[:3]}"
    assert session.errors == [], session.errors[:5]
    assert len(seen) >= MIN_PAYLOADS, f"only {len(seen)} payloads were rendered"
