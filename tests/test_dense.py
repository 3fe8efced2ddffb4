"""The dense index on its own: exact below the size threshold, HNSW above it, filters on both."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.dense import EXACT_LIMIT, HNSW_EF_SEARCH, DenseIndex, index_kind


def unit_vectors(count: int, dimension: int = 32, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((count, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_the_kind_is_chosen_by_size():
    assert index_kind(0) == "flat"
    assert index_kind(EXACT_LIMIT) == "flat"
    assert index_kind(EXACT_LIMIT + 1) == "hnsw"
    assert DenseIndex.build(unit_vectors(10)).kind == "flat"


@pytest.fixture(scope="module")
def vectors():
    return unit_vectors(3000)


@pytest.fixture(scope="module")
def hnsw(vectors):
    return DenseIndex.build(vectors, kind="hnsw")


def test_hnsw_finds_nearly_what_exact_search_finds(vectors, hnsw):
    exact = DenseIndex.build(vectors, kind="flat")
    queries = unit_vectors(200, seed=1)
    overlap = [len(set(hnsw.search(q, 10)[0]) & set(exact.search(q, 10)[0])) / 10 for q in queries]
    assert np.mean(overlap) >= 0.98


def test_hnsw_returns_similarities_best_first(vectors, hnsw):
    ids, scores = hnsw.search(vectors[42], 5)
    assert ids[0] == 42 and scores[0] == pytest.approx(1.0, abs=1e-5)
    assert list(scores) == sorted(scores, reverse=True)
    np.testing.assert_allclose(scores, vectors[ids] @ vectors[42], rtol=1e-5)


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_a_restriction_returns_only_allowed_passages_and_is_not_starved(vectors, hnsw, kind):
    index = hnsw if kind == "hnsw" else DenseIndex.build(vectors, kind="flat")
    allowed = np.arange(7, 3000, 97)  # 31 passages scattered through the index (1%)
    ids, scores = index.search(vectors[0], 50, allowed)
    assert set(ids) <= set(allowed.tolist())
    assert len(ids) == len(allowed)  # asked for more than are allowed: every allowed one comes back
    assert list(scores) == sorted(scores, reverse=True)
    best = allowed[np.argsort(-(vectors[allowed] @ vectors[0]))[:5]]
    assert index.search(vectors[0], 5, allowed)[0].tolist() == best.tolist()  # exact, not approximate
    assert len(index.search(vectors[0], 5, np.empty(0, dtype=np.int64))[0]) == 0


def test_a_wide_restriction_on_hnsw_walks_the_graph_with_a_selector(vectors, hnsw, monkeypatch):
    """Above the exact limit a restriction is a FAISS selector on the graph walk."""
    monkeypatch.setattr("indexer.dense.EXACT_LIMIT", 100)
    monkeypatch.setattr(DenseIndex, "_search_subset", None)  # this path must not be taken
    allowed = np.arange(0, 3000, 2)
    exact = DenseIndex.build(vectors[allowed], kind="flat")
    overlap = []
    for query in unit_vectors(50, seed=3):
        ids, _ = hnsw.search(query, 10, allowed)
        assert set(ids) <= set(allowed.tolist())
        overlap.append(len(set(ids) & set(allowed[exact.search(query, 10)[0]])) / 10)
    assert np.mean(overlap) >= 0.98


def test_many_candidates_widen_the_hnsw_search(vectors, hnsw):
    ids, _ = hnsw.search(vectors[0], HNSW_EF_SEARCH * 2)
    assert len(ids) == HNSW_EF_SEARCH * 2 and len(set(ids.tolist())) == len(ids)


def test_saved_and_loaded_hnsw_searches_the_same(tmp_path, vectors, hnsw):
    hnsw.save(tmp_path / "dense.faiss")
    loaded = DenseIndex.load(tmp_path / "dense.faiss", "hnsw")
    assert len(loaded) == len(vectors)
    for query in unit_vectors(20, seed=2):
        assert loaded.search(query, 10)[0].tolist() == hnsw.search(query, 10)[0].tolist()
