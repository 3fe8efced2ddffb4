"""Story text that costs far more than its size (issue #15): the ``##`` heading rule was a
cubic regular expression (a heading with 1,600 blanks: 9 s), python-markdown is quadratic on
some Markdown (``[[[[...``, a heading on every line, ``<a<a<a...``, deep nesting) and equal
headings made the story page's anchors quadratic. Each hostile body of this module is timed
against plain stories of the same size, in the same test: a ratio, never an absolute time.
"""

from __future__ import annotations

import itertools
import random
import re
import time

import markdown
import pytest

from kb import text as kbtext
from kb.parser import parse_text, split_sections
from kb.text import plain_text
from tests.conftest import K8S_CASES, STARTER_CASES
from webui.render import render_markdown, sanitize
from webui.stories import render_sections

SIZE = 200_000
#: The heading pattern before the fix: the rule the parser still follows, fast on short lines only.
OLD_HEADING = re.compile(r"^##[ \t]+(?P<title>.+?)[ \t]*#*[ \t]*$")
#: Lines that made the old pattern (and the other patterns of kb and python-frontmatter) backtrack.
HOSTILE_LINES = [
    "## x" + " " * 1600 + "x",
    "## " + " " * 1600 + "x",
    "## x" + " \t" * 800 + "x",
    "## x" + "#" * 1600 + "x",
    "## x" + " #" * 800 + " x",
    "## x" + "\t" * 1600 + "#" * 1600 + "\t" * 1600 + "x",
    "#" * 1600,
    "## " + "#" * 1600,
    "##" + " " * 1600,
    "---" + " " * 1600 + "x",
    "```" + " " * 1600 + "x",
    "   " + "~" * 1600,
    " " * 1600 + "\u00a0" * 1600 + "x",
    "\n" * 400 + " \n" * 400,
]
#: Markdown on which python-markdown itself is superlinear (before kb bounded it).
PYTHON_MARKDOWN_UNITS = {
    "open brackets": "[",
    "unclosed links": "[a](",
    "links": "[a](b) ",
    "images": "![",
    "tags without end": "<a" * 40 + "\n",
    "a heading on every line": "a\n===\n",
    "a rule on every line": "- - -\n",
    "nested quotes": "> ",
    "nested lists": "1. ",
    "nested divs": "<div>",
    "a long table": "|" * 50 + "\n",
    "one heading many times": "## x\n",
}


def fill(unit: str, size: int = SIZE) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def plain_body(size: int = SIZE) -> str:
    """The starter stories' bodies, one after the other, to ``size`` characters."""
    bodies = [path.read_text(encoding="utf-8").split("---\n", 2)[2] for path in sorted(STARTER_CASES.glob("*.md"))]
    return fill("\n\n".join(bodies), size)


def hostile_body(size: int = SIZE) -> str:
    return fill("\n".join(HOSTILE_LINES) + "\n", size)


def cpu_seconds(function, argument, repeat: int = 3) -> float:
    """The best of ``repeat`` runs, in CPU time of this process (others share the machine)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        function(argument)
        best = min(best, time.process_time() - started)
    return max(best, 1e-4)


def old_title(line: str) -> str | None:
    match = OLD_HEADING.match(line)
    return match.group("title").strip() if match else None


def new_title(line: str) -> str | None:
    sections = split_sections(line)
    return sections[0].title if sections else None


# -- the heading rule -------------------------------------------------------------------------


def test_headings_follow_the_old_rule_on_every_short_line():
    for length in range(8):
        for letters in itertools.product("# \tx", repeat=length):
            for prefix in ("", "##", "## ", "##\t"):
                line = prefix + "".join(letters)
                assert new_title(line) == old_title(line), repr(line)
    rng = random.Random(15)
    for _ in range(5000):
        line = "##" + "".join(rng.choice(" \t#xy\u00a0\u2003\r") for _ in range(rng.randint(0, 40)))
        assert new_title(line) == old_title(line), repr(line)


@pytest.mark.parametrize("line, title", [
    ("## Results ##", "Results"), ("## C#", "C"), ("##\tTabbed\t", "Tabbed"), ("## #hashtag", "#hashtag"),
    ("##  ", ""), ("## ", None), ("##x", None), ("# One", None), ("## x" + " " * 1600 + "x", "x" + " " * 1600 + "x"),
])
def test_heading_titles(line, title):
    assert new_title(line) == title


# -- the parser: kb validate, kb index and the editor read every story through it ---------------------


def test_a_hostile_body_parses_about_as_fast_as_a_plain_one(tmp_path):
    def parse(body: str):
        return parse_text("---\ntitle: A story\n---\n" + body, tmp_path / "c.md", "c.md", "hash")

    hostile = hostile_body()
    assert len(hostile) == len(plain_body()) == SIZE
    case, problems = parse(hostile)
    assert sum(1 for section in case.sections if section.title is not None) >= 8 * hostile.count("\n```")
    assert parse(plain_body())[0].sections
    ratio = cpu_seconds(parse, hostile) / cpu_seconds(parse, plain_body())
    assert ratio <= 10, f"the hostile body took {ratio:.1f} times as long as plain stories"


# -- rendering: the story page, the editor's preview and the index's plain text -------------------


def story_page(body: str):
    """What the story page and the editor's preview do with a body."""
    return render_sections(split_sections(body))


@pytest.mark.parametrize("render", [story_page, plain_text], ids=["story page", "plain text"])
def test_the_hostile_body_renders_about_as_fast_as_a_plain_one(render):
    ratio = cpu_seconds(render, hostile_body(), 1) / cpu_seconds(render, plain_body())
    assert ratio <= 10, f"the hostile body took {ratio:.1f} times as long as plain stories"


@pytest.mark.parametrize("unit", PYTHON_MARKDOWN_UNITS.values(), ids=PYTHON_MARKDOWN_UNITS.keys())
def test_markdown_python_markdown_was_superlinear_on_renders_in_linear_time(unit):
    """Dense markup costs python-markdown more per character than prose, but in proportion:
    before, ``[`` * 5,000 took 6 s and ``1. `` * 700 raised RecursionError."""
    ratio = cpu_seconds(story_page, fill(unit), 1) / cpu_seconds(story_page, plain_body())
    assert ratio <= 40, f"{unit!r} took {ratio:.1f} times as long as plain stories"


# -- what bounding python-markdown must not change ----------------------------------------------


def one_piece(text: str) -> str:
    converter = markdown.Markdown(extensions=["tables", "sane_lists"], output_format="html")
    return sanitize(converter.convert(text))


def story_texts() -> list[str]:
    from kb.parser import read_case

    texts = []
    for path in sorted(STARTER_CASES.glob("*.md")) + sorted(K8S_CASES.glob("*.md")):
        case, _ = read_case(path)
        texts.extend([case.body, *(section.text for section in case.sections)])
    return texts


def test_stories_render_as_python_markdown_renders_them_in_one_piece():
    texts = story_texts()
    assert max(map(len, texts)) > kbtext.MAX_CHUNK_CHARS or not K8S_CASES.exists()
    for text in texts:
        assert render_markdown(text) == one_piece(text), text[:200]


def test_pieces_are_cut_only_where_a_new_block_starts_anyway(monkeypatch):
    monkeypatch.setattr(kbtext, "MAX_CHUNK_CHARS", 12)
    text = ("Intro.\n\n- a\n\n- b\n\n  more b\n\nPara.\n\n> quoted\n\n> still quoted\n\n    code\n\n    more code\n\n"
            "1. one\n\n2. two\n\nSee [the ref][r] and [r].\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nEnd.\n\n"
            "[r]: https://example.com/r \"Ref\"\n")
    assert len(kbtext._chunks(text, 12)) > 5
    assert render_markdown(text) == one_piece(text)


def test_links_render_as_python_markdown_renders_them():
    rng = random.Random(798)
    alphabet = list("[]()!\"' a\\`*_<>") + ["\n", "\n\n", "http://x", "[r]: http://r\n"]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25)))
        assert render_markdown(text) == one_piece(text), repr(text)


def test_nesting_deeper_than_the_limit_is_shown_as_typed():
    depth = kbtext.MAX_LINE_NESTING
    html = render_markdown("> " * (depth + 3) + "deep")
    assert html.count("<blockquote>") == depth and "&gt; &gt; &gt; deep" in html
    assert render_markdown("> " * depth + "ok").count("<blockquote>") == depth
    html = render_markdown("1. " * 1000 + "deep")
    assert html.count("<ol>") == depth and "deep" in html


def test_a_piece_too_deep_for_python_markdown_is_shown_as_paragraphs(monkeypatch):
    monkeypatch.setattr(kbtext, "_NESTING", re.compile(r"(?!)"))  # no nesting limit: recursion runs out
    html = render_markdown("1. " * 1300 + "deep\n\n<b>next</b>")  # one piece
    assert html.startswith("<p>1. 1. 1. ") and html.endswith("deep</p>\n<p>&lt;b&gt;next&lt;/b&gt;</p>")
    assert render_markdown("**then** as usual") == "<p><strong>then</strong> as usual</p>"
