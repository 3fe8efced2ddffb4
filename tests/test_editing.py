"""Saving cases from the editor: validation by field, atomic writes, concurrency, live index."""

from __future__ import annotations

import pytest

from kb.editing import CaseForm, check_form, file_hash, save_case, set_status
from kb.errors import CaseExistsError, CaseFormatError, ConcurrentEditError, InvalidSlugError
from kb.parser import parse_case
from tests.conftest import SECURITY, copy_cases


def form(slug="new-story", **fields):
    base = {"title": "A new story", "industry": "Retail", "company_size": "51-200", "tags": "churn, pricing",
            "published": "2025-01-02", "status": "draft"}
    return CaseForm(slug=slug, fields={**base, **fields})


def test_new_case_is_written_and_parses(tmp_path):
    case = save_case(tmp_path, form(), expected_hash=None, create=True)
    assert case.tags == ("churn", "pricing") and case.status == "draft"
    assert parse_case(tmp_path / "new-story.md").stages[0] == "situation"
    assert [p.name for p in tmp_path.iterdir()] == ["new-story.md"], "no temporary file left behind"


def test_errors_are_reported_by_field(tmp_path):
    checked = check_form(tmp_path, form(company_size="huge", published="someday", title=""))
    assert not checked.ok
    problems = checked.by_field()
    assert problems["company_size"] == ["'huge' is not a size band; use one of 1-50, 51-200, 201-1000, 1001-5000, 5001+"]
    assert problems["published"] == ["'someday' is not a date; use YYYY-MM-DD"]
    assert problems["title"] == ["must not be empty"]
    with pytest.raises(CaseFormatError):
        save_case(tmp_path, form(title=""), expected_hash=None, create=True)
    assert list(tmp_path.iterdir()) == []


def test_refuses_to_overwrite_another_case(tmp_path):
    save_case(tmp_path, form(), expected_hash=None, create=True)
    before = (tmp_path / "new-story.md").read_bytes()
    with pytest.raises(CaseExistsError):
        save_case(tmp_path, form(title="Other"), expected_hash=None, create=True)
    assert (tmp_path / "new-story.md").read_bytes() == before


def test_concurrent_edit_is_noticed_and_nothing_is_lost(tmp_path):
    save_case(tmp_path, form(), expected_hash=None, create=True)
    path = tmp_path / "new-story.md"
    opened = file_hash(path)
    theirs = path.read_text(encoding="utf-8").replace("A new story", "Their edit")
    path.write_text(theirs, encoding="utf-8")
    with pytest.raises(ConcurrentEditError) as info:
        save_case(tmp_path, form(title="My edit"), expected_hash=opened, create=False)
    assert info.value.current_text == theirs
    assert path.read_text(encoding="utf-8") == theirs
    saved = save_case(tmp_path, form(title="Merged"), expected_hash=file_hash(path), create=False)
    assert saved.title == "Merged"


def test_publish_and_unpublish(tmp_path):
    save_case(tmp_path, form(), expected_hash=None, create=True)
    path = tmp_path / "new-story.md"
    assert set_status(tmp_path, "new-story", "published", file_hash(path)).status == "published"
    assert set_status(tmp_path, "new-story", "draft", file_hash(path)).status == "draft"


def test_unknown_front_matter_survives_an_edit(tmp_path):
    path = tmp_path / "imported.md"
    path.write_text("---\ntitle: Imported\nsource_url: https://example.org/x\nweight: 3\n---\n\n## Situation\n\nText.\n",
                    encoding="utf-8")
    edit = CaseForm.from_case(parse_case(path))
    edit.fields["industry"] = "Software"
    case = save_case(tmp_path, edit, expected_hash=file_hash(path), create=False)
    assert case.extra == {"source_url": "https://example.org/x", "weight": 3}
    assert case.industry == "Software"


def test_every_traversal_slug_stays_inside_the_cases_folder(tmp_path):
    payloads_file = SECURITY / "path-traversal.txt"
    if not payloads_file.exists():
        pytest.skip("../shared/security is absent")
    cases = tmp_path / "a" / "cases"
    cases.mkdir(parents=True)
    written = []
    for payload in payloads_file.read_text(encoding="utf-8", errors="surrogateescape").splitlines():
        try:
            written.append(save_case(cases, form(slug=payload), expected_hash=None, create=True).path)
        except (InvalidSlugError, CaseExistsError):
            continue
    assert all(path.parent == cases.resolve() for path in written)
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == ["a", "a/cases", "a/cases/passwd.md"]


def test_live_indexer_makes_a_saved_story_searchable(tmp_path, embedder):
    from kb.live import LiveIndexer
    from kb.service import KnowledgeBase
    from kb.settings import load_settings

    settings = load_settings(environ={}, cases_dir=copy_cases(tmp_path / "cases", ["tallgrass-tools"]),
                             data_dir=tmp_path / "data")
    live = LiveIndexer(settings, lambda: embedder)
    live.request("first build")
    assert live.wait(120)
    assert live.status()["state"] == "idle"
    base = KnowledgeBase(settings, embedder=embedder)
    story = form(slug="orchard-cider", title="A cider orchard fights apple scab with drones", status="published",
                 industry="Agriculture and food")
    story.body = "## Situation\n\nAn orchard lost a third of its apples to scab.\n\n## Results\n\nDrones cut losses.\n"
    save_case(settings.cases_dir, story, expected_hash=None, create=True)
    live.request("saved orchard-cider")
    live.request("saved again")  # merged into the running or next build
    assert live.wait(120)
    status = live.status()
    assert status["state"] == "idle" and status["summary"].startswith("2 cases")
    import kb.service

    kb.service.RELOAD_CHECK_SECONDS, old = 0.0, kb.service.RELOAD_CHECK_SECONDS
    try:
        assert base.search("apple orchard disease", k=1).results[0].id == "orchard-cider"
    finally:
        kb.service.RELOAD_CHECK_SECONDS = old
