"""Front matter that costs far more than its size (issue #15): YAML aliases ("billion laughs"),
deep nesting and huge numbers are refused with a path:line: message by both YAML loaders, in
`kb validate`, `kb index`, the editor's save and its live preview, before anything is built.

On the code before the fix the loader and `kb validate` tests fail at once; the `kb index`
and editor tests fail by expanding the aliases into gigabytes (MemoryError after 76 s under
``ulimit -v 3000000``), so run them there only with a memory limit.
"""

from __future__ import annotations

import os
import time
import tracemalloc

import pytest
import yaml

from kb import parser
from kb.cli import cli
from tests.conftest import copy_cases
from tests.web_fixtures import SECRET_KEY, add_users, editor_cases_dir, editor_marketer, login, post  # noqa: F401


def laughs(levels: int = 9, width: int = 9) -> str:
    """YAML of ``levels`` lines, each a list of ``width`` aliases of the line before:
    width**levels strings once expanded (9, 9: 387 million, in 330 bytes)."""
    lines = ["a: &a [" + ",".join(["lol"] * width) + "]"]
    for previous, name in zip("abcdefghijklmnop", "bcdefghijklmnopq"[:levels - 1]):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * width) + "]")
    return "\n".join(lines) + "\n"


def case_text(front: str) -> str:
    return f"---\ntitle: A story\n{front}---\n\n## Situation\n\nText.\n"


#: The case file: '---' on line 1, the title on 2, the first anchor on 3, the first alias on 4.
BOMB = case_text(laughs())
ALIASES = "front matter uses YAML aliases (&anchor/*alias), which kb does not allow; write the value out"
#: Nesting one deeper than kb reads: the mapping of fields is the first level.
DEEP = case_text("extra: " + "[" * parser.MAX_YAML_DEPTH + "]" * parser.MAX_YAML_DEPTH + "\n")
TOO_DEEP = f"front matter is nested deeper than {parser.MAX_YAML_DEPTH} levels, which kb does not allow; flatten it"
LOADERS = [parser._FastFrontMatterLoader, parser._FrontMatterLoader]


def test_the_bomb_is_small():
    assert len(BOMB.encode()) < 500 and len(laughs().encode()) <= 330
    assert BOMB.split("\n")[3].startswith("b: &b [*a,")


def test_the_fast_loader_is_libyaml():
    if yaml.__with_libyaml__:
        assert issubclass(parser._FastFrontMatterLoader, yaml.CSafeLoader)


# -- both loaders, before anything is built -------------------------------------------------


@pytest.mark.parametrize("loader", LOADERS, ids=["libyaml", "python"])
@pytest.mark.parametrize("front, line, problem", [
    (laughs(), 1, ALIASES.removeprefix("front matter ")),
    ("base: &b {x: 1}\nother:\n  <<: *b\n", 2, ALIASES.removeprefix("front matter ")),
    ("x: " + "[" * 30 + "]" * 30 + "\n", 0, TOO_DEEP.removeprefix("front matter ")),
    ("x: " + "[" * 30 + "\n", 0, TOO_DEEP.removeprefix("front matter ")),
    ("x:\n" + "".join("  " * depth + "- \n" for depth in range(1, 30)), 20, TOO_DEEP.removeprefix("front matter ")),
    ("x: " + "9" * 5000 + "\n", 0, "has a number of 5,000 characters; kb reads numbers of up to 100: "
                                   "put it in quotes to keep it as text"),
])
def test_each_loader_refuses_before_building(loader, front, line, problem):
    tracemalloc.start()
    try:
        with pytest.raises(parser.RefusedYAMLError) as raised:
            parser._load_yaml_with(loader, front)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert raised.value.problem == problem
    assert raised.value.problem_mark.line == line
    assert peak < 5_000_000, f"{peak:,} bytes to refuse {len(front):,} bytes of YAML"


@pytest.mark.parametrize("loader", LOADERS, ids=["libyaml", "python"])
def test_anchors_alone_and_nesting_up_to_the_limit_are_read(loader):
    depth = parser.MAX_YAML_DEPTH - 1  # below the mapping of fields
    front = "title: &t A story\nx: " + "[" * depth + "1" + "]" * depth + "\ny: " + "9" * parser.MAX_NUMBER_CHARS + "\n"
    data, _ = parser._load_yaml_with(loader, front)
    assert data["title"] == "A story" and data["y"] == int("9" * parser.MAX_NUMBER_CHARS)
    inner = data["x"]
    for _ in range(depth - 1):
        (inner,) = inner
    assert inner == [1]


@pytest.mark.parametrize("front, line", [
    ("x: " + "[" * 5000 + "]" * 5000 + "\n", 0), ("x: " + "[" * 5000 + "\n", 0), ("x: " + "{a: " * 5000 + "\n", 0),
    ("x:\n" + "- " * 5000 + "y\n", 1),
])
def test_nesting_past_libyamls_own_limit_is_refused_too(front, line):
    """libyaml stops at 1,000 levels with its own error; the Python loader then reads again and refuses."""
    with pytest.raises(parser.RefusedYAMLError) as raised:
        parser.load_yaml(front)
    assert raised.value.problem == TOO_DEEP.removeprefix("front matter ") and raised.value.problem_mark.line == line


def test_load_yaml_is_the_front_matter_reader():
    assert parser.load_yaml("when: 2024-05-01\nn: [1, 2]\n") == {"when": "2024-05-01", "n": [1, 2]}
    with pytest.raises(parser.RefusedYAMLError):
        parser.load_yaml(laughs(2, 2))
    with pytest.raises(yaml.YAMLError):
        parser.load_yaml("a: [1,\n")


# -- kb validate and kb index -----------------------------------------------------------------


def write_cases(root, files: dict[str, str]):
    cases = root / "cases"
    cases.mkdir(exist_ok=True)
    for name, text in files.items():
        (cases / name).write_text(text, encoding="utf-8")
    return cases


@pytest.mark.parametrize("text, expected", [
    (BOMB, f"cases/c.md:4: {ALIASES}"),
    (DEEP, f"cases/c.md:3: {TOO_DEEP}"),
    (case_text("extra: " + "[" * 5000 + "]" * 5000 + "\n"), f"cases/c.md:3: {TOO_DEEP}"),
    (case_text("extra:\n  nested:\n    <<: *undefined\n"), f"cases/c.md:5: {ALIASES}"),
    (case_text("weight: " + "1" * 5000 + "\n"),
     "cases/c.md:3: front matter has a number of 5,000 characters; kb reads numbers of up to 100: "
     "put it in quotes to keep it as text"),
    (case_text("clock: 1" + ":1" * 100_000 + "\n"),
     "cases/c.md:3: front matter has a number of 200,001 characters; kb reads numbers of up to 100: "
     "put it in quotes to keep it as text"),
])
def test_validate_names_the_line_of_what_it_refuses(runner, tmp_path, monkeypatch, text, expected):
    monkeypatch.chdir(tmp_path)
    write_cases(tmp_path, {"c.md": text})
    started = time.process_time()
    result = runner.invoke(cli, ["validate"])
    assert time.process_time() - started < 10
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines()[0] == expected


@pytest.mark.slow
def test_index_skips_the_bomb_and_indexes_the_rest(runner, tmp_path, monkeypatch, embedder):
    monkeypatch.chdir(tmp_path)
    cases = copy_cases(tmp_path / "cases", ["tallgrass-tools"])
    (cases / "bomb.md").write_text(BOMB, encoding="utf-8")
    monkeypatch.setattr("kb.indexing.Embedder", lambda *args, **kwargs: embedder)
    result = runner.invoke(cli, ["index", "-q"], env={"KB_CASES": str(cases), "KB_DATA": str(tmp_path / "data")})
    assert result.exit_code == 2, result.output
    assert f"{os.path.join('cases', 'bomb.md')}:4: {ALIASES}" in result.stderr.splitlines()
    assert result.stdout.strip().startswith("1 cases, ") and result.stdout.strip().endswith("; 1 file skipped")


# -- the editor: save and live preview --------------------------------------------------------


@pytest.fixture(scope="module")
def editor_app(tmp_path_factory):
    """The app over an empty cases folder, never indexed (no model is loaded), with its users."""
    from kb.settings import Settings
    from webui import create_app

    root = tmp_path_factory.mktemp("editor")
    (root / "cases").mkdir()
    app = create_app({"KB_SETTINGS": Settings(cases_dir=root / "cases", data_dir=root / "data"),
                      "SECRET_KEY": SECRET_KEY, "TESTING": True})
    add_users(app)
    return app



STORY = {"slug": "bomb-story", "title": "A story", "status": "draft", "body": "## Situation\n\nText.\n"}
EXTRA_ALIASES = ("line 2: this metadata uses YAML aliases (&amp;anchor/*alias), which kb does not allow; "
                 "write the value out")


@pytest.mark.parametrize("extra, message", [
    (laughs(), EXTRA_ALIASES),
    ("x: " + "[" * 5000 + "]" * 5000 + "\n",
     f"line 1: this metadata is nested deeper than {parser.MAX_YAML_DEPTH} levels, which kb does not allow; flatten it"),
])
@pytest.mark.parametrize("url, status", [("/cases/new", 422), ("/preview", 200)], ids=["save", "preview"])
def test_the_editor_refuses_them_in_the_extra_metadata(marketer, cases_dir, url, status, extra, message):
    tracemalloc.start()
    try:
        response = post(marketer, url, {**STORY, "extra": extra}, token_from="/cases/new")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    html = response.get_data(as_text=True)
    assert response.status_code == status, html[:500]
    assert message in html
    assert 'class="extra-meta"' not in html, "nothing of the metadata is shown"
    assert peak < 50_000_000, f"{peak:,} bytes for one request"
    assert not (cases_dir / "bomb-story.md").exists()


def test_the_editor_will_not_open_a_file_holding_the_bomb(marketer, cases_dir):
    (cases_dir / "bomb-story.md").write_text(BOMB, encoding="utf-8")
    response = marketer.get("/cases/bomb-story/edit")
    (cases_dir / "bomb-story.md").unlink()
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "bomb-story.md cannot be opened in the editor" in html and "YAML aliases" in html


# -- flat front matter: bounded by the file size -------------------------------------------------


def test_flat_front_matter_costs_in_proportion_to_its_size(tmp_path):
    def seconds(items: int) -> float:
        text = case_text("tags: [" + ", ".join(["churn"] * items) + "]\n")
        best = float("inf")
        for _ in range(3):
            started = time.process_time()
            case, problems = parser.parse_bytes(text.encode(), tmp_path / "c.md", "c.md")
            best = min(best, time.process_time() - started)
        assert case is not None and len(case.tags) == items
        return best

    assert seconds(20_000) < 10 * seconds(5_000)  # linear: 4x; quadratic: 16x


def test_a_file_over_the_size_limit_is_not_read_as_yaml(tmp_path):
    items = parser.MAX_FILE_BYTES // 2
    text = case_text("tags: [" + ",".join(["a"] * items) + "]\n")
    case, problems = parser.parse_bytes(text.encode(), tmp_path / "c.md", "c.md")
    assert case is None and [str(p) for p in problems] == ["c.md:1: file is too large (1.0 MB); the limit is 1 MB"]
