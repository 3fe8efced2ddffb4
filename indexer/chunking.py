"""Splitting text into overlapping windows that fit the model's word-piece limit.

Nothing is silently truncated: every token of a segment lands in at least one window.
Windows end at a sentence boundary when one falls in their second half.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

#: A tokenizer function: text -> list of (start, end) character spans, one per word piece.
TokenSpans = Callable[[str], Sequence[tuple[int, int]]]

_SENTENCE_PUNCTUATION = frozenset(".!?;:\"'")


def split_to_fit(text: str, token_spans: TokenSpans, budget: int, overlap: int) -> list[tuple[int, str]]:
    """Split text into windows of at most ``budget`` word pieces.

    Args:
        text: The text to split.
        token_spans: Returns the character span of each word piece of a text.
        budget: Most word pieces in a window.
        overlap: Word pieces shared by consecutive windows (fewer than budget).

    Returns:
        (start offset, window text) pairs, in order; one pair when the text fits.
    """
    if budget < 1:
        raise ValueError("budget must be at least 1 word piece")
    overlap = max(0, min(overlap, budget // 2))
    spans = list(token_spans(text))
    if len(spans) <= budget:
        return [(0, text.strip())] if text.strip() else []
    windows: list[tuple[int, str]] = []
    first = 0
    while first < len(spans):
        last = min(first + budget, len(spans))  # exclusive
        if last < len(spans):
            # Prefer to end at the last sentence boundary in the window's second half.
            for candidate in range(last, first + budget // 2, -1):
                if _ends_sentence(spans, candidate, text):
                    last = candidate
                    break
        start_char = spans[first][0]
        end_char = spans[last - 1][1]
        chunk = text[start_char:end_char]
        windows.append((start_char, chunk))
        if last >= len(spans):
            break
        first = max(last - overlap, first + 1)
    return windows


def _ends_sentence(spans: Sequence[tuple[int, int]], count: int, text: str) -> bool:
    """True when a sentence or line ends between word piece ``count - 1`` and ``count``."""
    end = spans[count - 1][1]
    gap = text[end:spans[count][0]] if count < len(spans) else ""
    return "\n" in gap or (text[end - 1:end] in _SENTENCE_PUNCTUATION and gap[:1].isspace())
