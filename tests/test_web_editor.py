"""The story editor: the form, validation beside fields, safe atomic saves, concurrent edits,
publishing, the live preview and the background re-index."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser

import pytest

from kb.cases import SIZE_BANDS
from kb.scaffold import JOURNEY_TEMPLATE
from tests.conftest import SECURITY
from tests.inert import assert_inert
from tests.web_fixtures import (  # noqa: F401
    CASES_DIR,
    SECRET_KEY,
    add_users,
    editor_cases_dir,
    editor_marketer,
    login,
    post,
)

pytestmark = pytest.mark.slow

STORY = {
    "slug": "orchard-cider",
    "title": "A cider orchard stops losing apples to scab",
    "customer": "Hillside Cider",
    "industry": "Agriculture and food",
    "company_size": "1-50",
    "region": "Nordics",
    "tags": "orchards, drones",
    "published": "2025-03-04",
    "status": "published",
    "summary": "Drones spot scab early.",
    "body": "## Situation\n\nA family orchard lost a third of its apples to scab every wet summer.\n\n"
            "## Results\n\n- Losses fell from 30% to 4% in one season\n",
}


class _Fields(HTMLParser):
    """The editor form's controls: name -> value (inputs, selected options, textareas)."""

    def __init__(self, html: str):
        super().__init__()
        self.values: dict[str, str] = {}
        self.options: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name"):
            self.values[a["name"]] = a.get("value") or ""
        elif tag == "select":
            self._select = a.get("name")
            self.options[self._select] = []
        elif tag == "option" and self._select:
            self.options[self._select].append(a.get("value") or "")
            if "selected" in a:
                self.values[self._select] = a.get("value") or ""
        elif tag == "textarea":
            self._textarea = a.get("name")
            self.values[self._textarea] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data


@pytest.fixture(scope="module")
def editor_app(tmp_path_factory, embedder):
    """An app over its own small, writable corpus (real model), with one user of each role."""
    import kb.service
    from kb.indexing import index_cases
    from kb.service import KnowledgeBase
    from kb.settings import Settings
    from webui import create_app

    root = tmp_path_factory.mktemp("editor")
    cases = root / "cases"
    cases.mkdir()
    for name in ("andes-cargo", "bluegum-couriers", "atlas-reinsurance-partners"):
        shutil.copy(CASES_DIR / f"{name}.md", cases / f"{name}.md")
    settings = Settings(cases_dir=cases, data_dir=root / "data")
    index_cases(settings, embedder=embedder)
    app = create_app({"KB_SETTINGS": settings, "SECRET_KEY": SECRET_KEY, "TESTING": True,
                      "KB_KNOWLEDGE_BASE": KnowledgeBase(settings, embedder=embedder)})
    add_users(app)
    old, kb.service.RELOAD_CHECK_SECONDS = kb.service.RELOAD_CHECK_SECONDS, 0.0
    yield app
    kb.service.RELOAD_CHECK_SECONDS = old
    app.extensions["live"].wait(120)



def _save_new(client, **changes):
    return post(client, "/cases/new", {**STORY, **changes}, token_from="/cases/new")


def _field_errors(html: str, name: str) -> list[str]:
    """The error messages shown inside a field's box."""
    match = re.search(rf'<div class="field field-{name}[^"]*">(.*?)</div>', html, re.S)
    block = match.group(1) if match else ""
    return re.findall(r'<p class="field-error" id="[\w-]+-error">(.*?)</p>', block)


# -- the form ----------------------------------------------------------------------------


def test_new_story_form(marketer):
    response = marketer.get("/cases/new")
    html = response.get_data(as_text=True)
    fields = _Fields(html)
    assert response.status_code == 200
    assert fields.options["company_size"] == ["", *SIZE_BANDS]
    assert fields.options["status"] == ["published", "draft"] and fields.values["status"] == "draft"
    assert fields.values["body"].strip() == JOURNEY_TEMPLATE.strip()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", fields.values["published"])
    assert fields.values["csrf_token"]
    for name in ("slug", "title", "customer", "industry", "region", "products", "roles", "tags", "published",
                 "summary", "extra"):
        assert name in fields.values, name
    assert 'data-preview-url="/preview"' in html and 'src="/static/editor.js"' in html
    assert 'id="index-status"' in html
    assert_inert(html, "editor")


def test_every_control_of_the_editor_has_a_label(marketer):
    html = marketer.get("/cases/andes-cargo/edit").get_data(as_text=True)
    ids = set(re.findall(r'<label for="([\w-]+)"', html))
    controls = re.findall(r'<(?:input|select|textarea) id="([\w-]+)"', html)
    assert controls and set(controls) <= ids


# -- saving ------------------------------------------------------------------------------


def test_saving_a_new_story_writes_it_and_makes_it_searchable(editor_app, marketer, cases_dir):
    response = _save_new(marketer)
    assert response.status_code == 302 and response.headers["Location"] == "/cases/orchard-cider/edit"
    path = cases_dir / "orchard-cider.md"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\ntitle: A cider orchard stops losing apples to scab\n")
    assert "tags:\n- orchards\n- drones\n" in text and "company_size: 1-50" in text
    assert [p.name for p in cases_dir.iterdir() if p.name.startswith(".")] == [], "no temporary file left"

    page = marketer.get("/cases/orchard-cider/edit").get_data(as_text=True)
    assert "Saved “A cider orchard stops losing apples to scab” as published" in page
    assert 'id="index-status"' in page
    assert editor_app.extensions["live"].wait(120)
    status = marketer.get("/api/index/status").get_json()
    assert status["state"] == "idle" and status["busy"] is False
    assert status["message"].startswith("Search index up to date")
    results = marketer.get("/api/search", query_string={"q": "apple orchard scab disease", "k": 1}).get_json()
    assert results["results"][0]["id"] == "orchard-cider"
    story = marketer.get("/cases/orchard-cider").get_data(as_text=True)
    assert "Losses fell from 30% to 4%" in story and "Edit story" in story


def test_a_bad_date_is_shown_beside_its_field_and_nothing_is_written(marketer, cases_dir):
    response = _save_new(marketer, slug="bad-date", published="someday", title="Kept as typed")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _field_errors(html, "published") == ["&#39;someday&#39; is not a date; use YYYY-MM-DD"]
    assert 'aria-invalid="true"' in html
    fields = _Fields(html)
    assert fields.values["title"] == "Kept as typed" and fields.values["published"] == "someday"
    assert fields.values["body"].startswith("## Situation\n\nA family orchard")
    assert not (cases_dir / "bad-date.md").exists()


def test_several_errors_each_beside_their_field(marketer):
    html = _save_new(marketer, slug="Bad Slug", title="", company_size="huge", status="secret",
                     extra="title: twice").get_data(as_text=True)
    assert _field_errors(html, "title") == ["must not be empty"]
    assert _field_errors(html, "company_size")[0].startswith("&#39;huge&#39; is not a size band")
    assert _field_errors(html, "status")[0].startswith("&#39;secret&#39; is not a status")
    assert "not a valid id" in html and 'id="slug-error"' in html
    assert 'id="extra-error">title has its own field above</p>' in html


def test_a_story_without_journey_sections_may_still_be_saved(marketer, cases_dir):
    response = _save_new(marketer, slug="no-journey", body="Just one paragraph.")
    assert response.status_code == 302
    assert (cases_dir / "no-journey.md").exists()


def test_refuses_to_overwrite_another_case(marketer, cases_dir):
    before = (cases_dir / "andes-cargo.md").read_bytes()
    response = _save_new(marketer, slug="andes-cargo")
    assert response.status_code == 409
    assert "a story with this id already exists" in response.get_data(as_text=True)
    assert (cases_dir / "andes-cargo.md").read_bytes() == before


def _traversal_payloads() -> list[str]:
    payloads_file = SECURITY / "path-traversal.txt"
    if not payloads_file.exists():
        pytest.skip("../shared/security is absent")
    text = payloads_file.read_text(encoding="utf-8", errors="surrogateescape")
    # Form values arrive as text: bytes that are not UTF-8 arrive as Latin-1 characters.
    return [line.encode("utf-8", "surrogateescape").decode("utf-8", "replace") for line in text.split("\n") if line]


def test_every_traversal_slug_read_from_the_form_stays_inside_the_cases_folder(tmp_path):
    """Every line of path-traversal.txt through what the save route does: read the form, then save."""
    from werkzeug.datastructures import MultiDict

    from kb.editing import save_case
    from kb.errors import CaseExistsError, InvalidSlugError
    from webui.editor import read_form

    cases = tmp_path / "a" / "cases"
    cases.mkdir(parents=True)
    for payload in _traversal_payloads():
        state = read_form(MultiDict({"slug": payload, "title": "T", "body": "## Situation\n\nx"}))
        if state.problems:
            assert "slug" in state.problems, payload
            continue
        try:
            save_case(cases, state.form, expected_hash=None, create=True)
        except (InvalidSlugError, CaseExistsError):
            continue
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == ["a", "a/cases", "a/cases/passwd.md"]


def test_traversal_slugs_posted_to_the_editor_stay_inside_the_cases_folder(editor_app, marketer, cases_dir):
    """A sample of path-traversal.txt (every 6th line, and every line a slug could match) over HTTP."""
    root = cases_dir.parent
    before = {p for p in root.rglob("*") if "index" not in p.parts}
    token = re.search(r'name="csrf_token" value="([^"]+)"', marketer.get("/cases/new").get_data(as_text=True))[1]
    payloads = _traversal_payloads()
    sample = [p for i, p in enumerate(payloads) if i % 6 == 0 or re.fullmatch(r"[a-z0-9-]+", p)]
    assert len(sample) > 1000
    statuses = set()
    for payload in sample:
        response = marketer.post("/cases/new", data={"csrf_token": token, "slug": payload, "title": "T",
                                                     "body": "## Situation\n\nx"})
        statuses.add(response.status_code)
        if response.status_code == 302:
            assert response.headers["Location"] == f"/cases/{payload}/edit"
    created = {p for p in root.rglob("*") if "index" not in p.parts} - before
    assert all(p.parent == cases_dir for p in created), created
    assert {p.name for p in created} <= {"passwd.md"}
    assert statuses <= {302, 409, 422}
    editor_app.extensions["live"].wait(120)


@pytest.mark.parametrize("case_id", ["..%2f..%2fetc%2fpasswd", "%2e%2e", "ANDES-CARGO", "andes_cargo", "a" * 101])
def test_edit_routes_refuse_ids_that_are_not_slugs(marketer, case_id):
    assert marketer.get(f"/cases/{case_id}/edit").status_code == 404
    token = re.search(r'name="csrf_token" value="([^"]+)"', marketer.get("/cases/new").get_data(as_text=True))[1]
    for action in ("edit", "publish", "unpublish"):
        assert marketer.post(f"/cases/{case_id}/{action}", data={"csrf_token": token}).status_code == 404


# -- editing -----------------------------------------------------------------------------


def test_a_broken_file_is_reported_not_opened(marketer, cases_dir):
    (cases_dir / "broken.md").write_text("no front matter here", encoding="utf-8")
    response = marketer.get("/cases/broken/edit")
    assert response.status_code == 422
    assert "broken.md cannot be opened in the editor" in response.get_data(as_text=True)
    (cases_dir / "broken.md").unlink()


def test_edit_form_is_filled_from_the_file_and_keeps_unknown_metadata(marketer, cases_dir):
    path = cases_dir / "imported.md"
    path.write_text("---\ntitle: Imported\nsource_url: https://example.org/x\nweight: 3\n---\n\n## Situation\n\nText.\n",
                    encoding="utf-8")
    fields = _Fields(marketer.get("/cases/imported/edit").get_data(as_text=True))
    assert fields.values["title"] == "Imported"
    assert fields.values["extra"] == "source_url: https://example.org/x\nweight: 3\n"
    assert len(fields.values["file_hash"]) == 64
    fields.values["industry"] = "Software"
    response = post(marketer, "/cases/imported/edit", fields.values, token_from="/cases/new")
    assert response.status_code == 302
    text = path.read_text(encoding="utf-8")
    assert "industry: Software" in text and "source_url: https://example.org/x" in text and "weight: 3" in text


def test_a_concurrent_edit_keeps_both_versions(marketer, cases_dir):
    path = cases_dir / "bluegum-couriers.md"
    fields = _Fields(marketer.get("/cases/bluegum-couriers/edit").get_data(as_text=True)).values
    theirs = path.read_text(encoding="utf-8").replace("\n## Situation", "\n## Situation\n\nTheir new paragraph.\n", 1)
    path.write_text(theirs, encoding="utf-8")

    response = post(marketer, "/cases/bluegum-couriers/edit", {**fields, "title": "My edited title"},
                    token_from="/cases/new")
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "someone else changed this story since you opened it" in html
    assert path.read_text(encoding="utf-8") == theirs, "their version is kept"
    again = _Fields(html).values
    assert again["title"] == "My edited title", "my version stays in the form"
    assert "Their new paragraph." in html.split('class="panel other-version"')[1], "their version is shown beside"
    assert again["file_hash"] != fields["file_hash"]

    response = post(marketer, "/cases/bluegum-couriers/edit", again, token_from="/cases/new")
    assert response.status_code == 302
    assert "title: My edited title" in path.read_text(encoding="utf-8")


def test_publish_and_unpublish(editor_app, marketer, cases_dir):
    path = cases_dir / "atlas-reinsurance-partners.md"
    assert "status: draft" in path.read_text(encoding="utf-8")
    response = post(marketer, "/cases/atlas-reinsurance-partners/publish", token_from="/cases/new")
    assert response.status_code == 302
    assert "status: published" in path.read_text(encoding="utf-8")
    assert "is published" in marketer.get(response.headers["Location"]).get_data(as_text=True)
    response = post(marketer, "/cases/atlas-reinsurance-partners/unpublish", token_from="/cases/new")
    assert "status: draft" in path.read_text(encoding="utf-8")
    stale = post(marketer, "/cases/atlas-reinsurance-partners/publish", {"file_hash": "0" * 64},
                 token_from="/cases/new")
    assert stale.status_code == 409
    assert "status: draft" in path.read_text(encoding="utf-8")
    editor_app.extensions["live"].wait(120)


# -- preview -----------------------------------------------------------------------------


def test_preview_renders_the_form_as_safe_html(marketer):
    response = post(marketer, "/preview", {
        **STORY, "title": "<script>alert(1)</script>Title", "tags": "<b>x</b>, ok",
        "extra": "source_url: https://example.org/s\nevil: javascript:alert(1)",
        "body": "## Situation\n\n<img src=x onerror=alert(1)> **bold** [link](javascript:alert(1))",
    }, token_from="/cases/new")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and html.lstrip().startswith("{#") is False
    assert "&lt;script&gt;alert(1)&lt;/script&gt;Title" in html
    assert "<strong>bold</strong>" in html and "onerror" not in html and 'href="javascript' not in html
    assert '<a href="https://example.org/s"' in html
    assert_inert(html, "preview")


def test_preview_lists_the_problems(marketer):
    html = post(marketer, "/preview", {**STORY, "published": "soon"}, token_from="/cases/new").get_data(as_text=True)
    assert "To fix before saving" in html and "Published on" in html and "is not a date" in html


def test_preview_without_javascript_renders_the_whole_editor(marketer, cases_dir):
    response = _save_new(marketer, slug="preview-only", action="preview")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    assert "A family orchard lost a third" in html.split('id="preview"')[1]
    assert not (cases_dir / "preview-only.md").exists()


# -- administration ----------------------------------------------------------------------


def test_admin_adds_and_removes_users_and_reindexes(editor_app):
    admin = editor_app.test_client()
    login(admin, "ada")
    page = admin.get("/admin/users").get_data(as_text=True)
    assert all(name in page for name in ("ada", "mia", "sam"))
    assert_inert(page, "users page")
    response = post(admin, "/admin/users", {"name": "new.seller", "role": "seller", "password": "short"},
                    token_from="/admin/users")
    assert response.status_code == 400 and "at least 10 characters" in response.get_data(as_text=True)
    response = post(admin, "/admin/users", {"name": "new.seller", "role": "seller", "password": "long enough pw"},
                    token_from="/admin/users")
    assert response.status_code == 302
    assert login(editor_app.test_client(), "new.seller", "long enough pw").status_code == 302
    assert post(admin, "/admin/users/ada/remove", token_from="/admin/users").status_code == 400
    assert post(admin, "/admin/users/new.seller/remove", token_from="/admin/users").status_code == 302
    assert "<td>new.seller</td>" not in admin.get("/admin/users").get_data(as_text=True)

    assert post(admin, "/admin/reindex", token_from="/admin/users").status_code == 302
    assert editor_app.extensions["live"].wait(120)
    assert admin.get("/api/index/status").get_json()["state"] == "idle"
