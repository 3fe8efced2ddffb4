"""Markdown to plain text, for indexing and snippets."""

from __future__ import annotations

import re
import threading
from html.parser import HTMLParser

import markdown
import nh3

_BLOCK_TAGS = {"p", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "pre", "br", "div",
               "table", "ul", "ol", "hr"}
_CELL_TAGS = {"td", "th"}
_SKIPPED_TAGS = {"script", "style", "template", "noscript", "iframe", "object"}
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


class _TextCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIPPED_TAGS:
            self.skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
        elif tag in _CELL_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in _SKIPPED_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


_converters = threading.local()


def markdown_to_html(text: str) -> str:
    """Render Markdown (tables, lists, quotes) to HTML. Not sanitized: see :mod:`kb.render`.

    One converter per thread, reset after each use: setting one up (its extensions) cost more
    than most sections' conversion (10,000 cases: 11.8 s of plain text, most of it set-up).
    """
    converter = getattr(_converters, "markdown", None)
    if converter is None:
        converter = _converters.markdown = markdown.Markdown(extensions=["tables", "sane_lists"],
                                                             output_format="html")
    try:
        return converter.convert(text)
    finally:
        converter.reset()


def plain_text(text: str) -> str:
    """The readable text of a Markdown fragment: markup removed, one paragraph per line.

    The HTML is first normalized by nh3 (block and cell tags kept, the content of script-like
    tags dropped), so hostile markup such as ``<![><img ...>`` cannot trip up the parser.
    """
    html = nh3.clean(markdown_to_html(text), tags=_BLOCK_TAGS | _CELL_TAGS, attributes={},
                     clean_content_tags=_SKIPPED_TAGS, strip_comments=True)
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    joined = _SPACES.sub(" ", "".join(collector.parts))
    lines = [line.strip() for line in joined.split("\n")]
    return _BLANK_LINES.sub("\n", "\n".join(lines)).strip()
