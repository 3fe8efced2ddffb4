"""Splitting long text into overlapping windows (pure logic, a fake tokenizer)."""

from __future__ import annotations

import re

import pytest

from indexer.chunking import split_to_fit


def words(text):
    return [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]


def test_short_text_is_one_window():
    assert split_to_fit("a b c", words, budget=10, overlap=2) == [(0, "a b c")]


def test_windows_cover_every_token_within_budget_and_overlap():
    text = " ".join(f"w{i}" for i in range(100))
    windows = split_to_fit(text, words, budget=20, overlap=5)
    seen = set()
    for start, chunk in windows:
        assert len(words(chunk)) <= 20
        assert text[start:start + len(chunk)] == chunk
        seen.update(chunk.split())
    assert seen == set(text.split())
    assert len(set(windows[0][1].split()) & set(windows[1][1].split())) == 5


def test_windows_prefer_sentence_ends():
    text = "One two three four five six. Seven eight nine ten eleven twelve thirteen fourteen."
    windows = split_to_fit(text, words, budget=8, overlap=0)
    assert windows[0][1] == "One two three four five six."


def test_budget_must_be_positive():
    with pytest.raises(ValueError):
        split_to_fit("a", words, budget=0, overlap=0)
