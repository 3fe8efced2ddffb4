"""Case files are regular files of the cases folder, named by a valid id (issue #15, findings 8 and 9).

Links (to a file or a folder, out of the cases folder or inside it) are never followed: `kb index`
and `kb validate` skip them with an error naming the file, story pages do not read through one
even when an older index names it, and the editor neither opens nor writes through one. A file
whose name is no case id (``Café.md``, in NFC or NFD) is refused with a name to rename it to;
a name whose only fault is ASCII capitals (``openAI.md``, in the Kubernetes corpus) is read as
its lowercase id everywhere: the index, the editor, ``kb new`` and the judged queries.
"""

from __future__ import annotations

import os
import shutil
import unicodedata

import pytest

from indexer import IndexStore
from kb.cli import cli
from kb.errors import CaseExistsError, CaseNotFoundError, InvalidSlugError
from kb.settings import load_settings
from kb.slugs import case_path, is_valid_slug
from tests.conftest import K8S_CASES, REPO, STARTER_CASES, copy_cases
from tests.web_fixtures import SECRET_KEY, add_users, login, post

TINY = ["pampas-mobile", "saltmarsh-inns", "tallgrass-tools"]
#: Words only the files outside the cases folder hold.
SECRET = "quokka ledger of Zanzibar"
LINK_OUTSIDE = "skipped: a link to a file outside the cases folder"
FOLDER_OUTSIDE = ("skipped: a link to a folder outside the cases folder; kb does not follow it "
                  "(copy the stories in, or rename the link with a leading '_')")
LINK_INSIDE = ("skipped: a link to the file tallgrass-tools.md in the cases folder, which is read under its own "
               "name; kb does not follow links")
NFC_CAFE = unicodedata.normalize("NFC", "Café")
NFD_CAFE = unicodedata.normalize("NFD", "Café")
CAPITALS_WARNING = "warning: id 'openAI' is read as 'openai' (capital letters lowercased); rename the file to openai.md"
EDIT_FORM = {
    "title": "Rewritten through a link", "industry": "Hospitality", "company_size": "1-50", "region": "Nordics",
    "published": "2025-03-04", "status": "published", "summary": "Written where it should not be.",
    "body": "## Situation\n\nA story saved through a link.\n\n## Results\n\n- Nothing, one hopes\n",
}


def shown(path) -> str:
    """A path as kb names it in problems (relative to the working directory)."""
    return os.path.relpath(path)


def secret_case(title: str) -> str:
    from kb.scaffold import render_case

    return render_case(title, f"## Situation\n\nThe {SECRET} keeps its accounts here.\n\n## Results\n\n- Private\n",
                       industry="Banking", status="published", published="2024-01-01", summary=f"The {SECRET}.")


def add_links(cases, outside):
    """Links out of the cases folder (a file, a folder, a dangling one) and one inside it."""
    outside.mkdir(exist_ok=True)
    (outside / "secret.md").write_text(secret_case("The secret outside story"), encoding="utf-8")
    (outside / "folder").mkdir(exist_ok=True)
    (outside / "folder" / "hidden-story.md").write_text(secret_case("The hidden folder story"), encoding="utf-8")
    (cases / "link.md").symlink_to(outside / "secret.md")
    (cases / "more").symlink_to(outside / "folder", target_is_directory=True)
    (cases / "alias.md").symlink_to("tallgrass-tools.md")
    (cases / "ghost.md").symlink_to(outside / "ghost-target.md")


def add_bad_names(cases):
    """Files whose names are no case id, and one whose only fault is capitals."""
    for name in (NFC_CAFE, NFD_CAFE, "Q3_report"):
        shutil.copy(STARTER_CASES / "saltmarsh-inns.md", cases / f"{name}.md")
    shutil.copy(STARTER_CASES / "lumen-media-group.md", cases / "openAI.md")


@pytest.fixture
def linked(tmp_path):
    cases = copy_cases(tmp_path / "cases", TINY)
    add_links(cases, tmp_path / "outside")
    return load_settings(environ={}, cases_dir=cases, data_dir=tmp_path / "data")


@pytest.fixture
def badly_named(tmp_path):
    cases = copy_cases(tmp_path / "cases", TINY)
    add_bad_names(cases)
    return load_settings(environ={}, cases_dir=cases, data_dir=tmp_path / "data")


def _env(settings) -> dict[str, str]:
    return {"KB_CASES": str(settings.cases_dir), "KB_DATA": str(settings.data_dir)}


# -- links: the command line ---------------------------------------------------------------


def link_problems(cases) -> list[str]:
    return [f"{shown(cases / 'alias.md')}:1: {LINK_INSIDE}",
            f"{shown(cases / 'ghost.md')}:1: skipped: a link to nothing (its target does not exist)",
            f"{shown(cases / 'link.md')}:1: {LINK_OUTSIDE}",
            f"{shown(cases / 'more')}:1: {FOLDER_OUTSIDE}"]


def test_kb_index_skips_every_link_and_names_it(linked, runner):
    result = runner.invoke(cli, ["index", "-q"], env=_env(linked))
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == link_problems(linked.cases_dir)
    assert result.stdout.strip().endswith("; 4 files skipped")
    assert IndexStore(linked.index_path).open().doc_ids == TINY

    strict = runner.invoke(cli, ["index", "-q", "--strict"], env=_env(linked))
    assert strict.exit_code == 1 and "nothing was indexed (--strict)" in strict.stderr


def test_kb_validate_reports_every_link_as_an_error(linked, runner):
    result = runner.invoke(cli, ["validate", str(linked.cases_dir)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == link_problems(linked.cases_dir)
    assert result.stderr.strip() == "6 files checked: 4 errors, 0 warnings"


def test_the_cases_folder_itself_may_be_a_link(linked, tmp_path):
    from kb.corpus import load_corpus

    (tmp_path / "via").symlink_to(linked.cases_dir, target_is_directory=True)
    corpus = load_corpus(tmp_path / "via")
    assert sorted(corpus.cases) == TINY
    assert [p.message for p in corpus.problems] == [
        LINK_INSIDE, "skipped: a link to nothing (its target does not exist)", LINK_OUTSIDE, FOLDER_OUTSIDE]


def test_case_path_refuses_a_link_inside_or_out(linked):
    cases = linked.cases_dir
    for slug in ("alias", "link", "ghost"):
        with pytest.raises(InvalidSlugError, match=f"case '{slug}' cannot be opened here: {slug}.md is a link"):
            case_path(cases, slug)
    assert case_path(cases, "tallgrass-tools") == (cases / "tallgrass-tools.md").resolve()
    assert case_path(cases, "brand-new") == (cases / "brand-new.md").resolve()


# -- links: the web ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def linked_app(tmp_path_factory, embedder):
    """An app (real model) over a corpus with links out and in, and a file named openAI.md."""
    import kb.service
    from kb.indexing import index_cases
    from kb.service import KnowledgeBase
    from kb.settings import Settings
    from webui import create_app

    root = tmp_path_factory.mktemp("linked")
    cases = copy_cases(root / "cases", TINY)
    add_links(cases, root / "outside")
    shutil.copy(STARTER_CASES / "lumen-media-group.md", cases / "openAI.md")
    settings = Settings(cases_dir=cases, data_dir=root / "data")
    index_cases(settings, embedder=embedder)
    app = create_app({"KB_SETTINGS": settings, "SECRET_KEY": SECRET_KEY, "TESTING": True,
                      "KB_KNOWLEDGE_BASE": KnowledgeBase(settings, embedder=embedder)})
    app.config["OUTSIDE"] = root / "outside"
    add_users(app)
    old, kb.service.RELOAD_CHECK_SECONDS = kb.service.RELOAD_CHECK_SECONDS, 0.0
    yield app
    kb.service.RELOAD_CHECK_SECONDS = old
    app.extensions["live"].wait(120)


@pytest.fixture
def marketer(linked_app):
    client = linked_app.test_client()
    assert login(client, "mia").status_code == 302
    return client


def test_linked_files_are_never_shown_to_readers(linked_app):
    client = linked_app.test_client()
    for case_id in ("link", "alias", "hidden-story", "ghost"):
        response = client.get(f"/cases/{case_id}")
        assert response.status_code == 404, case_id
        assert SECRET not in response.get_data(as_text=True)
    for url in (f"/?q={SECRET}", "/browse", f"/api/search?q={SECRET}"):
        page = client.get(url).get_data(as_text=True)
        assert "secret outside story" not in page and "hidden folder story" not in page, url
        assert "/cases/link" not in page and "/cases/alias" not in page, url
    assert client.get("/cases/tallgrass-tools").status_code == 200


def test_a_story_page_never_reads_through_a_link_named_by_an_older_index(linked_app):
    """An index built before links were refused names them; the page must still not read them."""
    from webui.stories import load_story

    cases = linked_app.config["KB_SETTINGS"].cases_dir
    outside = linked_app.config["OUTSIDE"]
    for meta in ({"id": "link", "path": str((outside / "secret.md").resolve())},
                 {"id": "link", "path": str(cases / "link.md")},
                 {"id": "hidden-story", "path": str(cases / "more" / "hidden-story.md")},
                 {"id": "alias", "path": str(cases / "alias.md")},
                 {"id": "secret", "path": str((outside / "secret.md").resolve())}):
        with pytest.raises(CaseNotFoundError, match="is not a regular file in the cases folder"):
            load_story(meta, cases)
    story = load_story({"id": "tallgrass-tools", "path": "/elsewhere/tallgrass-tools.md"}, cases)
    assert story.sections


def test_the_editor_neither_opens_nor_writes_through_a_link(linked_app, marketer):
    cases = linked_app.config["KB_SETTINGS"].cases_dir
    outside = linked_app.config["OUTSIDE"]
    target = cases / "tallgrass-tools.md"
    before = target.read_bytes()
    for case_id in ("alias", "link", "ghost"):
        assert marketer.get(f"/cases/{case_id}/edit").status_code == 404, case_id
        for action in ("publish", "unpublish"):
            assert post(marketer, f"/cases/{case_id}/{action}", token_from="/cases/new").status_code == 404
    from kb.editing import file_hash

    saved = post(marketer, "/cases/alias/edit", {**EDIT_FORM, "file_hash": file_hash(target)}, token_from="/cases/new")
    assert saved.status_code == 404
    assert target.read_bytes() == before and (cases / "alias.md").is_symlink()

    created = post(marketer, "/cases/new", {**EDIT_FORM, "slug": "ghost"}, token_from="/cases/new")
    assert created.status_code == 422
    assert "ghost.md is a link to nothing" in created.get_data(as_text=True)
    assert not (outside / "ghost-target.md").exists() and (cases / "ghost.md").is_symlink()


# -- ids -----------------------------------------------------------------------------------


def test_one_rule_reads_a_file_name_as_a_case_id():
    from kb.slugs import file_case_id, read_case_id, suggest_slug

    assert file_case_id("regional-bank-deposits") == "regional-bank-deposits"
    assert file_case_id("openAI") == file_case_id("OPENAI") == "openai"
    assert read_case_id("openAI") == "openai" and read_case_id("no-such-Case_") == "no-such-Case_"
    for name, suggestion in ((NFC_CAFE, "cafe"), (NFD_CAFE, "cafe"), ("Q3_report", "q3-report"),
                             ("Open AI", "open-ai"), ("--", "case"), ("日本", "case"), ("a--b", "a-b")):
        assert not is_valid_slug(name)
        with pytest.raises(InvalidSlugError) as raised:
            file_case_id(name)
        assert str(raised.value) == (f"{name!r} is not a valid case id; rename the file to lowercase letters, "
                                     f"digits and '-' (e.g. {suggestion}.md)")
        assert suggest_slug(name) == suggestion and is_valid_slug(suggestion)


def id_problems(cases) -> list[str]:
    def refused(name: str, suggestion: str) -> str:
        return (f"{shown(cases / f'{name}.md')}:1: skipped: {name!r} is not a valid case id; rename the file to "
                f"lowercase letters, digits and '-' (e.g. {suggestion}.md)")

    lines = {cases / f"{NFC_CAFE}.md": refused(NFC_CAFE, "cafe"), cases / f"{NFD_CAFE}.md": refused(NFD_CAFE, "cafe"),
             cases / "Q3_report.md": refused("Q3_report", "q3-report"),
             cases / "openAI.md": f"{shown(cases / 'openAI.md')}:1: {CAPITALS_WARNING}"}
    return [lines[path] for path in sorted(lines)]


def test_kb_index_refuses_names_that_are_no_case_id(badly_named, runner):
    result = runner.invoke(cli, ["index", "-q"], env=_env(badly_named))
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == id_problems(badly_named.cases_dir)
    assert result.stdout.strip().endswith("; 3 files skipped")
    assert IndexStore(badly_named.index_path).open().doc_ids == sorted(TINY + ["openai"])


def test_kb_validate_reports_names_that_are_no_case_id_as_errors(badly_named, runner):
    result = runner.invoke(cli, ["validate", str(badly_named.cases_dir)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == id_problems(badly_named.cases_dir)
    assert result.stderr.strip() == "7 files checked: 3 errors, 1 warning"
    (badly_named.cases_dir / f"{NFC_CAFE}.md").unlink()
    (badly_named.cases_dir / f"{NFD_CAFE}.md").unlink()
    (badly_named.cases_dir / "Q3_report.md").unlink()
    assert runner.invoke(cli, ["validate", str(badly_named.cases_dir)]).exit_code == 0
    assert runner.invoke(cli, ["validate", "--strict", str(badly_named.cases_dir)]).exit_code == 1


def test_two_files_read_as_one_id_are_a_duplicate(tmp_path, runner, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cases = copy_cases(tmp_path / "cases", ["saltmarsh-inns"])
    shutil.copy(cases / "saltmarsh-inns.md", cases / "OpenAI.md")
    shutil.copy(cases / "saltmarsh-inns.md", cases / "openai.md")
    result = runner.invoke(cli, ["validate", "cases"])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "cases/OpenAI.md:1: warning: id 'OpenAI' is read as 'openai' (capital letters lowercased); "
        "rename the file to openai.md",
        "cases/openai.md:1: duplicate id 'openai': also used by cases/OpenAI.md"]


def test_kb_new_and_the_editor_use_the_same_rule(tmp_path, runner, monkeypatch):
    from kb.scaffold import new_case

    cases = tmp_path / "cases"
    cases.mkdir()
    shutil.copy(STARTER_CASES / "lumen-media-group.md", cases / "openAI.md")
    with pytest.raises(CaseExistsError):  # the id openai is taken by openAI.md
        new_case(cases, "openai")
    assert sorted(p.name for p in cases.iterdir()) == ["openAI.md"]
    for slug in ("openAI", NFC_CAFE, NFD_CAFE):
        result = runner.invoke(cli, ["new", slug], env={"KB_CASES": str(cases), "KB_DATA": str(tmp_path / "data")})
        assert result.exit_code == 1 and "invalid case id" in result.output, slug
    assert sorted(p.name for p in cases.iterdir()) == ["openAI.md"]


def test_the_editor_opens_a_capitalised_file_by_its_id(linked_app, marketer):
    cases = linked_app.config["KB_SETTINGS"].cases_dir
    reader = linked_app.test_client()
    assert reader.get("/cases/openai").status_code == 200
    assert reader.get("/cases/openAI").status_code == 404
    page = marketer.get("/cases/openai/edit")
    assert page.status_code == 200 and 'action="/cases/openai/edit"' in page.get_data(as_text=True)

    response = post(marketer, "/cases/openai/unpublish", token_from="/cases/new")
    assert response.status_code == 302 and response.headers["Location"].endswith("/cases/openai/edit")
    assert "status: draft" in (cases / "openAI.md").read_text(encoding="utf-8")
    assert post(marketer, "/cases/openai/publish", token_from="/cases/new").status_code == 302
    assert "status: published" in (cases / "openAI.md").read_text(encoding="utf-8")
    assert sorted(p.name for p in cases.glob("*.md") if p.name.lower() == "openai.md") == ["openAI.md"]

    taken = post(marketer, "/cases/new", {**EDIT_FORM, "slug": "openai"}, token_from="/cases/new")
    assert taken.status_code == 409


def test_the_kubernetes_corpus_indexes_fully_and_its_judgments_find_openai():
    from kb.corpus import load_corpus
    from kb.evaluation import load_queries

    if not K8S_CASES.is_dir():
        pytest.skip("../shared/corpora/kubernetes-case-studies is absent")
    corpus = load_corpus(K8S_CASES)
    assert corpus.errors == [] and len(corpus.cases) == 56
    assert corpus.cases["openai"].path.name == "openAI.md"
    assert [str(p) for p in corpus.warnings] == [f"{shown(K8S_CASES / 'openAI.md')}:1: {CAPITALS_WARNING}"]
    for queries in (REPO / "eval" / "kubernetes_queries.jsonl", K8S_CASES.parent / "dev_queries.jsonl"):
        judged = {case_id for query in load_queries(queries) for case_id in query.rel}
        assert judged <= set(corpus.cases), queries
    judged_openai = [q.id for q in load_queries(REPO / "eval" / "kubernetes_queries.jsonl") if "openai" in q.rel]
    assert len(judged_openai) >= 3  # written as "openAI", read by the rule of file names
