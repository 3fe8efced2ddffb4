"""A case as its story page shows it: sections rendered to safe HTML, anchors, the journey."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb import PROFILE_SECTION, plain_text
from kb.cases import Section
from kb.errors import CaseNotFoundError, InvalidSlugError
from kb.parser import parse_case
from kb.search import make_snippet, query_terms
from kb.slugs import case_file_problem, case_path
from kb.stages import STAGES, stage_label
from webui.render import render_markdown
from webui.snippets import snippet_html

#: Anchor of the story's metadata box; a match on the indexed profile passage points here.
GLANCE_ANCHOR = "at-a-glance"

_NON_WORD = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class StorySection:
    """One ``##`` section, rendered.

    Attributes:
        title: The heading (None for the text before the first heading).
        stage: The journey stage key, or None.
        anchor: The element id the section is reached by.
        html: Sanitized HTML of the section's Markdown.
        text: The section's Markdown, for the matched passage.
    """

    title: str | None
    stage: str | None
    anchor: str
    html: str
    text: str

    @property
    def stage_label(self) -> str:
        return stage_label(self.stage)


@dataclass(frozen=True)
class JourneyStep:
    """A stage of the buyer's journey in the story's timeline (anchor None: not told)."""

    stage: str
    label: str
    anchor: str | None


@dataclass(frozen=True)
class Story:
    """A case's indexed metadata and its rendered sections (the API answers it as
    :class:`webui.schemas.CaseStory`, which leaves out what only the server needs, its path)."""

    meta: dict[str, Any]
    sections: tuple[StorySection, ...]

    def section(self, title: str | None) -> StorySection | None:
        """The first section with this heading ("" or None: the untitled introduction)."""
        wanted = title or None
        return next((s for s in self.sections if s.title == wanted), None)

    def journey(self) -> list[JourneyStep]:
        """Every journey stage in order, linked to the first section that tells it."""
        first: dict[str, str] = {}
        for section in self.sections:
            if section.stage:
                first.setdefault(section.stage, section.anchor)
        return [JourneyStep(stage, short_stage_label(stage), first.get(stage)) for stage in STAGES]


def load_story(meta: dict[str, Any], cases_dir: Path) -> Story:
    """Read and render a case's file, only from inside the cases folder and never through a link.

    Args:
        meta: The case's indexed metadata (``path`` names its file).
        cases_dir: The cases folder; the case's own file in it is read when the indexed path
            is elsewhere (an index built in another directory, or before links were refused).

    Raises:
        CaseNotFoundError: The case's file is a link or outside the cases folder.
        CaseFormatError: The file can no longer be read as a case.
    """
    path = Path(meta["path"])
    if not path.is_file() or case_file_problem(cases_dir, path) is not None:
        refused = path.is_file()  # there, but through a link or outside the folder
        try:
            path = case_path(cases_dir, str(meta["id"]))
        except InvalidSlugError:
            path = None
        if path is None or refused and not path.is_file():
            raise CaseNotFoundError(f"story '{meta['id']}' cannot be shown: its file is not a regular file in "
                                    "the cases folder; run `kb index` to drop it from the index")
    case = parse_case(path)
    return Story(meta=meta, sections=render_sections(case.sections))


def render_sections(sections: tuple[Section, ...] | list[Section]) -> tuple[StorySection, ...]:
    """A case's sections as sanitized HTML, each with a unique anchor."""
    anchors: set[str] = {GLANCE_ANCHOR}
    suffixes: dict[str, int] = {}
    rendered = []
    for section in sections:
        anchor = _unique(section_anchor(section.title), anchors, suffixes)
        rendered.append(StorySection(title=section.title, stage=section.stage, anchor=anchor,
                                     html=render_markdown(section.text), text=section.text))
    return tuple(rendered)


def section_anchor(title: str | None) -> str:
    """The element id of a section heading: its words, lowercase, joined by hyphens."""
    slug = _NON_WORD.sub("-", (title or "").lower()).strip("-")
    return f"section-{slug}" if slug else "introduction"


def short_stage_label(stage: str) -> str:
    """One word for a stage in the timeline: Situation, Recognizing, ... Lessons."""
    return stage.capitalize()


def matched_passage(markdown_text: str, query: str) -> str:
    """The part of a section that best matches a query, as HTML with the terms marked."""
    return snippet_html(make_snippet(plain_text(markdown_text), query_terms(query)))


def _unique(anchor: str, taken: set[str], suffixes: dict[str, int]) -> str:
    """anchor, anchor-2, anchor-3, ...: the first not taken. Each anchor's next number is kept,
    so a story of n sections of one heading costs n, not n squared (40,000: 2 minutes)."""
    candidate, n = anchor, suffixes.get(anchor, 2)
    while candidate in taken:
        candidate, n = f"{anchor}-{n}", n + 1
    suffixes[anchor] = n
    taken.add(candidate)
    return candidate


@dataclass(frozen=True)
class Match:
    """Where a search matched a story: the anchor to highlight, what it is, the passage."""

    anchor: str
    where: str
    html: str


def find_match(story: Story, section: str | None, query: str) -> Match:
    """The matched section of a story for a search, from the result's ``section``.

    A section the file does not have (the indexed profile of the case) points at the
    story's "At a glance" box, with the summary as the passage.
    """
    found = None if section == PROFILE_SECTION else story.section(section)
    if found is not None:
        where = f"the section “{found.title}”" if found.title else "the introduction"
        return Match(found.anchor, where, matched_passage(found.text, query))
    return Match(GLANCE_ANCHOR, "the story's profile (At a glance)",
                 matched_passage(story.meta.get("summary") or "", query))
