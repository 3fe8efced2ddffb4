"""Safe HTML from case-study Markdown: rendered, then sanitized with an allowlist (nh3).

Case studies are untrusted input: whatever HTML a story holds must never run in a reader's
browser. Only the tags and attributes below survive, and links keep safe schemes only.
"""

from __future__ import annotations

import nh3

from kb.text import markdown_to_html

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


def sanitize(html: str) -> str:
    """Keep only allowlisted tags, attributes and URL schemes."""
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer nofollow", strip_comments=True)


def render_markdown(text: str) -> str:
    """Markdown to sanitized HTML, safe to insert into a page."""
    return sanitize(markdown_to_html(text))
