"""The buyer's journey stages and how section headings map onto them."""

from __future__ import annotations

import re

#: Stage keys in journey order, with the label a person reads.
STAGES: dict[str, str] = {
    "situation": "Situation",
    "recognizing": "Recognizing the problem",
    "aligning": "Aligning the buying group",
    "changing": "Making the change",
    "results": "Results",
    "lessons": "Lessons",
}

#: Heading phrases recognized for each stage (compared after normalization).
STAGE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "situation": ("situation", "background", "context", "about the customer"),
    "recognizing": ("recognizing the problem", "recognising the problem", "challenge",
                    "challenges", "why change", "trigger", "problem"),
    "aligning": ("aligning the buying group", "alignment", "decision", "buying group"),
    "changing": ("making the change", "solution", "solutions", "approach", "implementation"),
    "results": ("results", "impact", "outcomes", "outcome"),
    "lessons": ("lessons", "lessons learned", "lessons learnt", "advice"),
}

_LEADING_WORDS = re.compile(r"^(?:the|our|a|an)\s+")
_NON_WORD = re.compile(r"[^a-z0-9]+")


def _normalize(heading: str) -> str:
    words = _NON_WORD.sub(" ", heading.lower()).strip()
    return _LEADING_WORDS.sub("", words)


def stage_of(heading: str | None) -> str | None:
    """Return the journey stage a section heading names, or None.

    A heading names a stage when, after lowercasing and dropping punctuation and a
    leading article, it starts with one of the stage's synonyms as whole words:
    "Results: six months later" and "The trigger" are recognized, "Resultsfoo" is not.
    """
    if not heading:
        return None
    text = _normalize(heading)
    best: tuple[int, str] | None = None
    for stage, phrases in STAGE_SYNONYMS.items():
        for phrase in phrases:
            if text == phrase or text.startswith(phrase + " "):
                if best is None or len(phrase) > best[0]:
                    best = (len(phrase), stage)
    return best[1] if best else None


def stage_label(stage: str | None) -> str:
    """Return the human label of a stage key ('' for None)."""
    return STAGES.get(stage, "") if stage else ""
