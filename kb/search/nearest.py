"""The stories nearest to a vector: what we already have closest to a situation.

The insights' "stories to write next" name, for each group of weak searches, the story whose
best passage is closest to the group's centre. That is the index's own vector search
(``version.dense``, FAISS) restricted to the passages of the stories the reader may see
(:func:`kb.visibility.is_visible`): no scoring or visibility rule of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from indexer import IndexVersion

from kb.visibility import is_visible


def nearest_stories(version: IndexVersion | None, vectors: Sequence[np.ndarray] | np.ndarray,
                    include_drafts: bool = False) -> list[tuple[str, float] | None]:
    """For each normalized vector, the visible story whose best passage is closest to it.

    Args:
        version: The live index version; None (no index) finds nothing.
        vectors: Unit vectors of the index's dimension.
        include_drafts: Drafts count too (only for readers who may see them).

    Returns:
        One (case id, cosine similarity) per vector, or None when no passage is visible.
    """
    vectors = list(vectors)
    if version is None or not len(version.passages):
        return [None] * len(vectors)
    allowed = visible_passages(version, include_drafts)
    found: list[tuple[str, float] | None] = []
    for vector in vectors:
        passages, scores = version.dense.search(np.asarray(vector, dtype=np.float32), 1, allowed)
        found.append((version.doc_ids[int(version.passage_doc[passages[0]])], float(scores[0]))
                     if len(passages) else None)
    return found


def visible_passages(version: IndexVersion, include_drafts: bool = False) -> np.ndarray | None:
    """The passage numbers of the stories the reader may see, or None when they may see every one."""
    visible = np.array([is_visible(version.doc_meta[doc_id], include_drafts) for doc_id in version.doc_ids],
                       dtype=bool)
    return None if visible.all() else np.flatnonzero(visible[version.passage_doc])


__all__ = ["nearest_stories", "visible_passages"]
