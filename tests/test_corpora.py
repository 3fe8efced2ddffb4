"""The parser on both corpora: the starter stories and 56 real published ones."""

from __future__ import annotations

from collections import Counter

import pytest

from kb.cases import SIZE_BANDS
from kb.cli import cli
from kb.corpus import load_corpus
from tests.conftest import K8S_CASES, STARTER_CASES


def test_starter_corpus_passes_strict_validation(runner):
    result = runner.invoke(cli, ["validate", "--strict", str(STARTER_CASES)])
    assert result.exit_code == 0, result.stdout
    assert result.stdout == ""


def test_starter_corpus_is_varied_enough_to_search():
    corpus = load_corpus(STARTER_CASES)
    cases = list(corpus.cases.values())
    assert len(corpus.published()) >= 60
    assert len({c.industry for c in cases}) >= 12
    assert {c.company_size for c in cases} == set(SIZE_BANDS)
    assert len({c.region for c in cases}) >= 5
    for case in cases:
        words = len(case.body.split())
        assert 300 <= words <= 900, (case.id, words)
        assert set(case.stages) >= {"situation", "recognizing", "aligning", "changing", "results"}, case.id
    assert Counter(c.status for c in cases)["draft"] >= 1


def test_real_case_studies_parse_without_errors():
    if not K8S_CASES.is_dir():
        pytest.skip("../shared/corpora/kubernetes-case-studies is absent")
    corpus = load_corpus(K8S_CASES)
    assert corpus.errors == []
    assert len(corpus.cases) == 56
    adidas = corpus.cases["adidas"]
    assert adidas.extra["company"] == "adidas"
    assert adidas.extra["location"] == "Herzogenaurach, Germany"
    assert [s.stage for s in adidas.sections[:3]] == ["recognizing", "changing", "results"]
