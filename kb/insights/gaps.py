"""What sellers don't find: searches with no strong match grouped by meaning, the stories to
write next, each with the nearest story we already have."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from kb.insights.clustering import GROUP_SIMILARITY, cluster_vectors
from kb.insights.counting import most_typed, normalize_query, tally
from kb.search.nearest import nearest_stories
from kb.searchlog import LoggedSearch, QueryTally, iso_time

#: Most distinct weak wordings grouped (the most frequent ones): bounds the embedding and
#: the clustering of a report, however many searches were logged.
MAX_GROUPED_QUERIES = 400


@dataclass(frozen=True)
class WeakGroup:
    """Searches with no strong match that mean the same thing: a story to write next.

    Attributes:
        size: Searches in the group (repeats included).
        queries: Distinct wordings in the group.
        example: The wording closest to the group's centre.
        examples: Other wordings, closest to the centre first (at most four).
        users: Distinct signed-in users who searched it.
        last_seen: When one of them was last searched.
        nearest_case: The published story closest to the group's centre, with its similarity
            (what we have, and how far it is), or None when the index is empty.
    """

    size: int
    queries: int
    example: str
    examples: list[str]
    users: int
    last_seen: str
    nearest_case: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def weak_groups(searches: Iterable[LoggedSearch | QueryTally], embedder, version=None,
                threshold: float = GROUP_SIMILARITY, max_queries: int = MAX_GROUPED_QUERIES,
                limit: int | None = None) -> list[WeakGroup]:
    """Group the searches that found no strong match by meaning, largest group first.

    The distinct weak wordings (normalized as :func:`normalize_query` counts them) are
    embedded with the search model and grouped by average-linkage agglomerative clustering
    on cosine similarity (:func:`cluster_vectors`): the two closest groups merge while their
    average pairwise similarity is at least ``threshold``. This was chosen over k-means
    (``faiss.Kmeans``) because the number of missing stories is what we want to learn, not
    something to pick in advance; because a one-off search stays on its own instead of being
    forced into the nearest group; and because it has no random start, so the same log
    always gives the same groups. Average linkage (rather than single linkage) keeps a chain
    of loosely related searches from collapsing into one group. Clustering is quadratic in
    the wordings, so only the ``max_queries`` most frequent distinct wordings (ties: the most
    recent) are grouped: a flood of one-off wordings cannot make a report slower.

    Each group's nearest story is found by the index's own vector search among the
    published stories (:func:`kb.search.nearest.nearest_stories`).

    Args:
        searches: Logged searches or their tallies (:meth:`SearchLog.tallies`); only the
            weak ones are used.
        embedder: Has ``encode(texts)`` returning normalized rows: an :class:`indexer.Embedder`,
            or a :class:`CachedEmbedder` over one.
        version: The live :class:`indexer.IndexVersion`, to name the nearest existing story.
        threshold: Least average cosine similarity within a group.
        max_queries: Most distinct wordings grouped.
        limit: Most groups returned (and looked up in the index); None returns them all.
    """
    by_text: dict[str, list[QueryTally]] = {}
    for item in tally(searches):
        if item.weak:
            by_text.setdefault(normalize_query(item.query), []).append(item)
    if not by_text:
        return []
    size = {key: sum(t.weak for t in items) for key, items in by_text.items()}
    latest = {key: max((t.last_weak_at, t.last_weak_id) for t in items) for key, items in by_text.items()}
    chosen = sorted(by_text, key=lambda key: (-size[key], -latest[key][0], -latest[key][1], key))[:max_queries]
    keys = sorted(chosen)
    vectors = np.asarray(embedder.encode(keys), dtype=np.float32)

    found = []
    for members in cluster_vectors(vectors, threshold):
        centre = vectors[members].mean(axis=0)
        centre /= np.linalg.norm(centre) or 1.0
        order = sorted(members, key=lambda m: (-float(vectors[m] @ centre), keys[m]))
        items = [t for m in members for t in by_text[keys[m]]]
        wordings = [most_typed(by_text[keys[m]], weak=True) for m in order]
        found.append((centre, {
            "size": sum(size[keys[m]] for m in members), "queries": len(members), "example": wordings[0],
            "examples": wordings[1:5], "users": len({t.user for t in items if t.user}),
            "last_seen": iso_time(max(t.last_weak_at for t in items if t.last_weak_at is not None))}))
    found.sort(key=lambda g: (-g[1]["size"], -g[1]["queries"], g[1]["example"].casefold()))
    found = found[:limit]
    nearest = nearest_stories(version, [centre for centre, _ in found])
    return [WeakGroup(**group, nearest_case=_nearest_case(version, story))
            for (_, group), story in zip(found, nearest)]


def _nearest_case(version, story: tuple[str, float] | None) -> dict[str, Any] | None:
    """A nearest story as the report shows it: id, title and similarity (3 decimals)."""
    if story is None:
        return None
    case_id, similarity = story
    return {"id": case_id, "title": version.doc_meta[case_id].get("title") or case_id,
            "similarity": round(similarity, 3)}
