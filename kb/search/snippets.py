"""Snippets: the part of a passage that matched, with the spans of the query's terms.

The web layer renders them as HTML (:mod:`webui.snippets`); terminals mark them with brackets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexer import tokenize, word_terms

#: Characters of passage text shown in a snippet.
SNIPPET_CHARS = 320

_WORD = re.compile(r"\w\w+", re.UNICODE)


@dataclass(frozen=True)
class Snippet:
    """A window of passage text and the character spans of query terms inside it."""

    text: str
    spans: tuple[tuple[int, int], ...]
    terms: tuple[str, ...]
    clipped_start: bool
    clipped_end: bool

    def marked(self, before: str = "[", after: str = "]") -> str:
        """The snippet as text with matched terms wrapped in before/after (for terminals)."""
        out: list[str] = ["..." if self.clipped_start else ""]
        cursor = 0
        for start, end in self.spans:
            out.append(self.text[cursor:start] + before + self.text[start:end] + after)
            cursor = end
        out.append(self.text[cursor:])
        out.append("..." if self.clipped_end else "")
        return "".join(out)


def query_terms(query: str) -> set[str]:
    """The stemmed, stop-word-free terms of a query, as the lexical index sees them."""
    return set(tokenize([query])[0])


def make_snippet(text: str, terms: set[str], width: int = SNIPPET_CHARS) -> Snippet:
    """Pick the window of text with the most query terms and mark them.

    Args:
        text: The passage text.
        terms: Stemmed query terms (see :func:`query_terms`).
        width: Most characters in the window.
    """
    words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    stems = word_terms([text[s:e] for s, e in words])
    hits = [span for span, stem in zip(words, stems) if stem in terms]
    start = _best_start(hits, width) if len(text) > width and hits else 0
    end = min(len(text), start + width)
    if start > 0:  # start at a word boundary
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 30 else start
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start + width // 2 else end
    window = text[start:end]
    spans = tuple((s - start, e - start) for s, e in hits if start <= s and e <= end)
    matched = tuple(sorted({text[s:e].lower() for s, e in hits if start <= s and e <= end}))
    return Snippet(window, spans, matched, start > 0, end < len(text))


def _best_start(hits: list[tuple[int, int]], width: int) -> int:
    """Where the window with the most hits begins; one pass over the hits (a sliding window).

    Each hit is a candidate anchor: the window begins a quarter of its width before it and
    counts the hits wholly inside. Hits are in text order and do not overlap, so their starts
    and ends both increase: the hits beginning at or after a window's start are a suffix, those
    ending by its end a prefix, and both bounds only move forward from one anchor to the next.
    The first window with the highest count wins, exactly as when each window was counted on
    its own; that was quadratic in the hits (a 195 kB section of one repeated query word, 39,000
    hits, took over a minute on a story page).
    """
    best, best_count = hits[0][0], 0
    first = past = 0  # hits[first:past] lie inside the current window
    for anchor, _ in hits:
        begin = max(0, anchor - width // 4)
        while first < len(hits) and hits[first][0] < begin:
            first += 1
        while past < len(hits) and hits[past][1] <= begin + width:
            past += 1
        count = past - first
        if count > best_count:
            best, best_count = begin, count
    return best
