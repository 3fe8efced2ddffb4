"""Grouping unit vectors by meaning: average-linkage agglomerative clustering (scipy)."""

from __future__ import annotations

import numpy as np

#: Two groups of weak searches merge while their average cosine similarity is at least this.
GROUP_SIMILARITY = 0.45


def cluster_vectors(vectors: np.ndarray, threshold: float = GROUP_SIMILARITY) -> list[list[int]]:
    """Clusters (lists of row numbers, each sorted, in order of their first row) of unit
    vectors by average linkage on cosine similarity: clusters merge while the average
    similarity between their members is at least ``threshold``.

    scipy's hierarchical clustering (``linkage(method="average")`` cut with ``fcluster`` at
    the cosine distance ``1 - threshold``); deterministic for the same rows in the same order.
    """
    from scipy.cluster.hierarchy import fcluster, linkage  # imported when there is something to group
    from scipy.spatial.distance import pdist

    n = len(vectors)
    if n <= 1:
        return [[0]] if n else []
    distances = pdist(np.asarray(vectors, dtype=np.float64), "cosine")
    distances = np.clip(np.nan_to_num(distances, nan=1.0), 0.0, 2.0)  # a zero row is unrelated to all
    labels = fcluster(linkage(distances, method="average"), t=1.0 - threshold, criterion="distance")
    clusters: dict[int, list[int]] = {}
    for row, label in enumerate(labels.tolist()):
        clusters.setdefault(label, []).append(row)
    return list(clusters.values())
