"""What the indexer stores: documents handed in by the caller, split into passages."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Segment:
    """A piece of a document as the caller hands it in (e.g. one section of a story).

    Attributes:
        text: Plain text to index.
        section: The section's title, if any.
        stage: A label the caller attaches (e.g. a journey stage); opaque to the indexer.
    """

    text: str
    section: str | None = None
    stage: str | None = None


@dataclass(frozen=True)
class Document:
    """A unit the caller indexes and retrieves (e.g. one case study).

    Attributes:
        id: Unique id.
        context: Text prepended to every passage when embedding (e.g. the story's title).
        segments: The document's pieces, in order.
        meta: JSON-ready metadata stored with the index and returned to the caller.
    """

    id: str
    context: str
    segments: tuple[Segment, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """A hash of everything that goes into the document's vectors."""
        payload = json.dumps([self.context, [asdict(s) for s in self.segments]], ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Passage:
    """A window of a segment that fits the model, as stored in the index.

    Attributes:
        doc_id: The document it comes from.
        segment: Index of its segment in the document.
        section: The segment's title.
        stage: The segment's label.
        text: The passage's own text (a window of the segment's text).
        context: The document context used when embedding.
        start: Character offset of ``text`` in the segment's text.
    """

    doc_id: str
    segment: int
    section: str | None
    stage: str | None
    text: str
    context: str
    start: int = 0

    def embedding_text(self) -> str:
        """The text embedded for this passage: document context, section title, then text."""
        head = " - ".join(part for part in (self.context, self.section) if part)
        return f"{head}\n{self.text}" if head else self.text

    def lexical_text(self) -> str:
        """The text the lexical index sees: section title and text (the context is per document)."""
        return f"{self.section}\n{self.text}" if self.section else self.text
