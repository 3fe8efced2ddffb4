"""Markdown to HTML pieces and to plain text, for the story page, indexing and snippets.

The HTML here is python-markdown's and not safe for a browser: the web layer sanitizes it
(:mod:`webui.render`); the domain only reads the text out of it (:func:`plain_text`).

Stories are untrusted input and python-markdown (with html5ever, the parser of the web
layer's sanitizer) is superlinear on some of it: ``[`` * 5,000 took 6 s, a heading on every
line of a block is quadratic, ``1. `` * 700 raised RecursionError. So :func:`markdown_pieces`
bounds the work: link scans look a bounded distance ahead, a long text is converted in pieces
cut where a new block starts anyway, a line nests at most MAX_LINE_NESTING quotes or lists,
and a piece still too deep for python-markdown's recursion is shown as plain paragraphs.
"""

from __future__ import annotations

import html
import re
import threading
from html.parser import HTMLParser

import markdown
from markdown import inlinepatterns
from markdown.extensions import Extension

_BLOCK_TAGS = {"p", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "pre", "br", "div",
               "table", "ul", "ol", "hr"}
_CELL_TAGS = {"td", "th"}
_SKIPPED_TAGS = {"script", "style", "template", "noscript", "iframe", "object"}
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


class _TextCollector(HTMLParser):
    """The text of one piece of HTML: block and cell tags become line breaks and spaces, the
    content of script-like tags is dropped, every other tag is taken out."""

    #: Read as raw text up to their end tag, as HTML5 reads them: an ``<iframe>`` left open
    #: inside another hides nothing after the first ``</iframe>``.
    CDATA_CONTENT_ELEMENTS = ("script", "style", "iframe", "noscript")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def parse_html_declaration(self, i):
        # "<![" opens a comment that ends at the next ">", as in HTML5 and in browsers;
        # Python 3.11's html.parser raises AssertionError on "<![><img ...>" instead.
        if self.rawdata.startswith("<![", i):
            return self.parse_bogus_comment(i)
        return super().parse_html_declaration(i)

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


#: Most characters one link's text or address is looked for in. python-markdown looks from
#: every ``[`` and ``](`` to the end of the text: quadratic on ``[[[[...`` (5,000: 6 s).
LINK_SCAN_CHARS = 2_000
#: All link scans of one conversion look through at most this many times its length.
LINK_SCAN_FACTOR = 8
#: Most characters python-markdown converts at once. Several of its steps are quadratic in the
#: size of a block or of the text (a heading or rule on every line of a block, its tables'
#: test, html.parser on ``<a<a<a...``), so a longer text is converted in pieces.
MAX_CHUNK_CHARS = 5_000
#: A block (lines without a blank one between) is cut after this many lines or characters,
#: and a longer line within it. Stories' blocks are far shorter (the corpora: 8 lines, 1,825
#: characters at most).
MAX_BLOCK_LINES = 100
MAX_BLOCK_CHARS = 4_000
#: Deepest nesting of quotes and lists one line may open (``> > > ...``, ``1. 1. 1. ...``):
#: python-markdown recurses once per level and html5ever (nh3, which the web layer sanitizes
#: with) is quadratic in the depth.
MAX_LINE_NESTING = 16
_NESTING = re.compile(r"(?:(?>[ ]{0,3}(?:>|(?:[*+-]|[0-9]{1,9}[.)])[ \t])[ \t]?)){%d}(?>[ ]{0,3})"
                      r"(?=>|(?:[*+-]|[0-9]{1,9}[.)])[ \t])" % MAX_LINE_NESTING)
#: Lines that may continue the block before a blank line (a list, a quote, raw HTML).
_CONTINUES = re.compile(r"[ \t<>]|(?:[*+-]|[0-9]+[.)])(?:[ \t]|$)")


class _LinkBudget:
    """Characters the link scans of one conversion may still look through."""

    def __init__(self):
        self.left = 0


class _BoundedScans:
    """Mixed into python-markdown's link processors: its own scans, over a bounded window.

    Within LINK_SCAN_CHARS and the budget the result is python-markdown's; past them the
    brackets are shown as typed.
    """

    budget: _LinkBudget

    def _window(self, data: str, index: int) -> str:
        return data[index:index + max(0, min(LINK_SCAN_CHARS, self.budget.left))]

    def getText(self, data, index):
        window = self._window(data, index)
        text, end, handled = super().getText(window, 0)
        self.budget.left -= end
        return text, index + end, handled

    def getLink(self, data, index):
        window = self._window(data, index)
        href, title, end, handled = super().getLink(window, 0)
        self.budget.left -= end if end >= 0 else len(window)
        # a negative end counts from the end of the text (a python-markdown quirk): keep it
        return href, title, (index + end if end >= 0 else end), handled


#: python-markdown's link processors, their names and priorities (markdown.inlinepatterns).
_LINK_PROCESSORS = (
    (inlinepatterns.ReferenceInlineProcessor, inlinepatterns.REFERENCE_RE, "reference", 170),
    (inlinepatterns.LinkInlineProcessor, inlinepatterns.LINK_RE, "link", 160),
    (inlinepatterns.ImageInlineProcessor, inlinepatterns.IMAGE_LINK_RE, "image_link", 150),
    (inlinepatterns.ImageReferenceInlineProcessor, inlinepatterns.IMAGE_REFERENCE_RE, "image_reference", 140),
    (inlinepatterns.ShortReferenceInlineProcessor, inlinepatterns.REFERENCE_RE, "short_reference", 130),
    (inlinepatterns.ShortImageReferenceInlineProcessor, inlinepatterns.IMAGE_REFERENCE_RE, "short_image_ref", 125),
)


class _BoundedLinks(Extension):
    """Replaces python-markdown's link processors with bounded ones sharing one budget."""

    def __init__(self):
        super().__init__()
        self.budget = _LinkBudget()

    def extendMarkdown(self, md):
        for processor, pattern, name, priority in _LINK_PROCESSORS:
            bounded = type(processor.__name__, (_BoundedScans, processor), {"budget": self.budget})
            md.inlinePatterns.register(bounded(pattern, md), name, priority)


_converters = threading.local()


def markdown_to_html(text: str) -> str:
    """Render Markdown (tables, lists, quotes) to HTML. Not sanitized: see :mod:`webui.render`.

    One converter per thread, reset after each use: setting one up (its extensions) cost more
    than most sections' conversion (10,000 cases: 11.8 s of plain text, most of it set-up).
    The work is bounded (see the module's docstring): linear in the text's length, whatever
    it holds (200,000 characters of the worst markup found: under 20 times plain stories).
    """
    return "\n".join(markdown_pieces(text))


def markdown_pieces(text: str) -> list[str]:
    """The HTML of :func:`markdown_to_html` in the pieces it was converted in, each whole.

    Sanitize piece by piece (html5ever, the web layer's sanitizer's parser, is quadratic in the
    nesting depth, and a piece's depth is bounded).
    """
    chunks = _chunks(text, MAX_CHUNK_CHARS)
    references: dict = {}
    # last piece first: reference links are mostly defined at the end, and found that way
    pieces = [_convert(chunk, references) for chunk in reversed(chunks)]
    return [piece for piece in reversed(pieces) if piece]


def _convert(text: str, references: dict) -> str:
    """One piece, with the reference links defined in the pieces converted before it."""
    converter, links = getattr(_converters, "markdown", (None, None))
    if converter is None:
        links = _BoundedLinks()
        converter = markdown.Markdown(extensions=["tables", "sane_lists", links], output_format="html")
        _converters.markdown = converter, links
    links.budget.left = LINK_SCAN_FACTOR * len(text) + LINK_SCAN_CHARS
    converter.references.update(references)
    try:
        return converter.convert(text)
    except RecursionError:  # lists or quotes nested hundreds deep
        _converters.markdown = None, None  # its state is left half-way: start afresh
        return "\n".join(f"<p>{html.escape(part)}</p>" for part in text.split("\n\n") if part.strip())
    finally:
        references.update(converter.references)
        converter.reset()


def _chunks(text: str, limit: int) -> list[str]:
    """Cut text into pieces of about ``limit`` characters for python-markdown.

    A piece ends at a blank line followed by a line at the margin that cannot continue the
    block before it (not a list item, quote or HTML), where python-markdown starts a new
    top-level block either way, so the pieces render as the whole would. Only text no story
    holds is cut elsewhere: a block longer than MAX_BLOCK_LINES or MAX_BLOCK_CHARS, a line
    longer than MAX_BLOCK_CHARS, a piece twice the limit without a place to cut.
    """
    if len(text) <= limit:
        return [_flatten(text)]
    chunks: list[str] = []
    lines: list[str] = []
    size = block_lines = block_chars = 0
    blank_before = False

    def cut() -> None:
        nonlocal lines, size
        if lines:
            chunks.append("\n".join(lines))
            lines, size = [], 0

    for line in text.split("\n"):
        top_level = blank_before and line != "" and not _CONTINUES.match(line)
        if (top_level and size + len(line) > limit) or size >= 2 * limit or block_lines >= MAX_BLOCK_LINES \
                or block_chars + len(line) > MAX_BLOCK_CHARS:
            cut()
            block_lines = block_chars = 0
        while len(line) > MAX_BLOCK_CHARS:
            cut()
            chunks.append(_flatten(line[:MAX_BLOCK_CHARS]))
            line = line[MAX_BLOCK_CHARS:]
        line = _flatten(line)
        lines.append(line)
        size += len(line) + 1
        blank_before = not line.strip()
        block_lines, block_chars = (0, 0) if blank_before else (block_lines + 1, block_chars + len(line) + 1)
    cut()
    return chunks


def _flatten(text: str) -> str:
    """Escape the quote or list marker of each line that would nest deeper than MAX_LINE_NESTING."""
    if "\n" in text:
        return "\n".join(map(_flatten, text.split("\n")))
    match = _NESTING.match(text)
    if match is None:
        return text
    rest = text[match.end():]
    digits = len(rest) - len(rest.lstrip("0123456789"))  # "12." is escaped as "12\."
    return text[:match.end()] + rest[:digits] + "\\" + rest[digits:]


def plain_text(text: str) -> str:
    """The readable text of a Markdown fragment: markup removed, one paragraph per line.

    Each piece python-markdown converted is read on its own, so a tag a hostile story leaves
    open (``<script>``, ``<iframe>``) hides no more than the rest of its piece, and markup such
    as ``<![><img ...>`` cannot trip up the parser. The result is text, to be escaped wherever
    it is shown as HTML (snippets are), never HTML to trust.
    """
    texts = []
    for piece in markdown_pieces(text):
        collector = _TextCollector()
        collector.feed(piece)
        collector.close()
        texts.append("".join(collector.parts))
    joined = _SPACES.sub(" ", "\n".join(texts))
    lines = [line.strip() for line in joined.split("\n")]
    return _BLANK_LINES.sub("\n", "\n".join(lines)).strip()
