"""The parser's model of a case: metadata, extra keys, sections and stages."""

from __future__ import annotations

import datetime as dt

import pytest

from kb.parser import parse_case, split_sections
from kb.stages import stage_of
from tests.conftest import REPO


@pytest.mark.parametrize("heading, stage", [
    ("Situation", "situation"), ("Background", "situation"),
    ("Recognizing the problem", "recognizing"), ("The challenge", "recognizing"), ("Why change?", "recognizing"),
    ("Trigger", "recognizing"), ("Aligning the buying group", "aligning"), ("Decision", "aligning"),
    ("Buying group", "aligning"), ("Alignment", "aligning"), ("Making the change", "changing"),
    ("Solution", "changing"), ("Approach", "changing"), ("Implementation", "changing"),
    ("Results: six months later", "results"), ("Impact", "results"), ("Outcomes", "results"),
    ("Lessons learned", "lessons"), ("In their words", None), ("Resultsfoo", None), ("", None),
])
def test_stage_of_heading(heading, stage):
    assert stage_of(heading) == stage


def test_parse_keeps_extra_keys_and_types_fields(tmp_path):
    path = tmp_path / "acme-story.md"
    path.write_text("""---
title: "Acme: a story"
customer: A regional grocery chain
company_size: 51-200
products: [Kestrel Plan]
published: 2024-02-29
subtitle: Imported field
weight: 3
---

Intro before any heading.

## Situation

Some **bold** text.

```
## not a heading inside code
```

## In their words

> A quote.
""", encoding="utf-8")
    case = parse_case(path)
    assert case.id == "acme-story"
    assert case.title == "Acme: a story"
    assert case.published == dt.date(2024, 2, 29)
    assert case.products == ("Kestrel Plan",)
    assert case.status == "published"
    assert case.extra == {"subtitle": "Imported field", "weight": 3}
    assert [(s.title, s.stage, s.line) for s in case.sections] == [
        (None, None, 10), ("Situation", "situation", 13), ("In their words", None, 21)]
    assert "## not a heading inside code" in case.sections[1].text


def test_story_without_headings_is_one_section():
    sections = split_sections("Just a story.\n\nTwo paragraphs.\n")
    assert len(sections) == 1
    assert sections[0].title is None


def test_libyaml_and_the_python_parser_read_every_starter_case_alike():
    """Front matter is read by libyaml for speed; the pure-Python parser words the errors."""
    from kb import parser

    for path in sorted((REPO / "cases").glob("*.md")):
        front = path.read_text(encoding="utf-8").split("---", 2)[1]
        assert (parser._load_yaml_with(parser._FastFrontMatterLoader, front)
                == parser._load_yaml_with(parser._FrontMatterLoader, front)), path.name
