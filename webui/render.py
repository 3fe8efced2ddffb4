"""Safe HTML from case-study Markdown: rendered, then sanitized with an allowlist (nh3).

Case studies are untrusted input: whatever HTML a story holds must never run in a reader's
browser. Only the tags and attributes below survive, and links keep safe schemes only. HTML
for a browser is the web layer's: the domain (:mod:`kb.text`) converts Markdown in bounded
pieces and extracts plain text, and never sanitizes (a contract in pyproject.toml).
"""

from __future__ import annotations

import re

import nh3

from kb.text import markdown_pieces

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "li",
    "strong", "em", "b", "i", "code", "pre", "a", "table", "thead", "tbody", "tr", "th", "td",
    "del", "sup", "sub", "mark", "abbr",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}
URL_ATTRIBUTES = {"href"}
#: Characters no real address holds; browsers ignore some of them inside a scheme.
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
_BAD_SCHEMES = ("javascript:", "vbscript:", "data:")


def _drop_odd_urls(tag: str, attribute: str, value: str) -> str | None:
    """Defence in depth after nh3's scheme check: drop addresses with control characters, or
    that spell a script scheme once spaces and control characters are taken out."""
    if attribute in URL_ATTRIBUTES:
        if re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", value):
            return None
        if _CONTROL.sub("", value).lower().startswith(_BAD_SCHEMES):
            return None
    return value


def sanitize(html: str) -> str:
    """Keep only allowlisted tags, attributes and URL schemes."""
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                     attribute_filter=_drop_odd_urls, link_rel="noopener noreferrer nofollow",
                     strip_comments=True)


def render_markdown(text: str) -> str:
    """Markdown to sanitized HTML, safe to insert into a page.

    Sanitized in the pieces :func:`kb.text.markdown_pieces` converts (nh3's parser is
    quadratic in nesting depth: 40,000 nested ``<div>``: 5 s; a piece is at most 5,000 characters).
    """
    return "\n".join(sanitize(piece) for piece in markdown_pieces(text))
