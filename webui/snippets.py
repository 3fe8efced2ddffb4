"""A snippet as HTML: the web layer's rendering of the passage that matched."""

from __future__ import annotations

import html

from markupsafe import Markup

from kb.search.snippets import Snippet


def snippet_html(snippet: Snippet) -> Markup:
    """The snippet's text, HTML-escaped, with ``<mark>`` around the query's terms."""
    out: list[str] = ["\u2026" if snippet.clipped_start else ""]
    cursor = 0
    for start, end in snippet.spans:
        out.append(html.escape(snippet.text[cursor:start]))
        out.append(f"<mark>{html.escape(snippet.text[start:end])}</mark>")
        cursor = end
    out.append(html.escape(snippet.text[cursor:]))
    out.append("\u2026" if snippet.clipped_end else "")
    return Markup("".join(out))
