"""The judged query sets in eval/: well-formed, judged against cases that exist, in sellers' words."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kb.evaluation import load_queries
from tests.conftest import K8S_CASES, REPO, STARTER_CASES

STARTER_QUERIES = REPO / "eval" / "starter_queries.jsonl"
K8S_QUERIES = REPO / "eval" / "kubernetes_queries.jsonl"
STARTER_GAPS = REPO / "eval" / "starter_gaps.jsonl"
K8S_GAPS = REPO / "eval" / "kubernetes_gaps.jsonl"


def _case_ids(folder: Path) -> set[str]:
    return {path.stem for path in folder.glob("*.md")}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _shared_run(query: str, story: str, length: int) -> str | None:
    """The first run of ``length`` words the query copies from the story, if any."""
    story_words = _words(story)
    runs = {tuple(story_words[i:i + length]) for i in range(len(story_words) - length + 1)}
    query_words = _words(query)
    for i in range(len(query_words) - length + 1):
        if tuple(query_words[i:i + length]) in runs:
            return " ".join(query_words[i:i + length])
    return None


@pytest.mark.parametrize("path", [STARTER_QUERIES, K8S_QUERIES], ids=["starter", "kubernetes"])
def test_every_query_has_a_unique_id_and_an_exact_answer(path):
    queries = load_queries(path)
    assert len({q.id for q in queries}) == len(queries)
    assert len(queries) >= 30
    for query in queries:
        assert query.text.strip(), query.id
        assert 2 in query.rel.values(), f"{query.id} has no grade-2 case, so MRR@10 cannot count it"


def test_starter_judgments_name_starter_cases():
    ids = _case_ids(STARTER_CASES)
    unknown = {(q.id, case) for q in load_queries(STARTER_QUERIES) for case in q.rel if case not in ids}
    assert unknown == set()


def test_kubernetes_queries_are_judged_against_the_real_stories_in_their_own_words():
    if not K8S_CASES.is_dir():
        pytest.skip("../shared/corpora/kubernetes-case-studies is absent")
    ids = _case_ids(K8S_CASES)
    rows = [json.loads(line) for line in K8S_QUERIES.read_text(encoding="utf-8").splitlines() if line.strip()]
    sources = {row["source"] for row in rows}
    assert sources == ids - {"workiva"}  # every story but the upstream draft is the answer to some query
    for row in rows:
        assert set(row["rel"]) <= ids, row["id"]
        assert row["rel"][row["source"]] == 2, row["id"]
        story = (K8S_CASES / f"{row['source']}.md").read_text(encoding="utf-8")
        copied = _shared_run(row["text"], story, 4)
        assert copied is None, f"{row['id']} copies {copied!r} from {row['source']}"


def test_shared_run_finds_copied_words():
    assert _shared_run("a bank whose deposits leak to fintechs", "Deposits leak to fintechs, said the CFO.", 4) \
        == "deposits leak to fintechs"
    assert _shared_run("a bank whose deposits leak", "Deposits leak to fintechs.", 4) is None


@pytest.mark.parametrize("path", [STARTER_GAPS, K8S_GAPS], ids=["starter", "kubernetes"])
def test_gap_sets_are_situations_no_story_is_judged_for(path):
    gaps = load_queries(path)
    assert len(gaps) >= 20 and len({q.id for q in gaps}) == len(gaps)
    assert all(q.is_gap and q.text.strip() for q in gaps)
    judged = load_queries(STARTER_QUERIES if path == STARTER_GAPS else K8S_QUERIES)
    assert not {q.text for q in gaps} & {q.text for q in judged}


STYLES = ("call-notes", "keyword", "buying-group", "paraphrase", "stage")
STYLE_SETS = {"starter": (REPO / "eval" / "starter_styles.jsonl", REPO / "eval" / "starter_styles_gaps.jsonl",
                          STARTER_CASES),
              "kubernetes": (REPO / "eval" / "kubernetes_styles.jsonl", REPO / "eval" / "kubernetes_styles_gaps.jsonl",
                             K8S_CASES)}


@pytest.mark.parametrize("name", list(STYLE_SETS))
def test_blind_style_sets_hold_twelve_queries_of_each_style_judged_against_real_cases(name):
    queries_path, gaps_path, cases = STYLE_SETS[name]
    if not cases.is_dir():
        pytest.skip(f"{cases} is absent")
    rows = [json.loads(line) for line in queries_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert [sum(row["style"] == style for row in rows) for style in STYLES] == [12] * len(STYLES)
    queries = load_queries(queries_path)
    assert len({q.id for q in queries}) == len(queries) == 60
    ids = {case_id.lower() for case_id in _case_ids(cases)}
    for query in queries:
        assert 2 in query.rel.values() and set(query.rel) <= ids, query.id
    gaps = load_queries(gaps_path)
    assert len(gaps) == 15 and all(q.is_gap for q in gaps)
    assert not {q.text for q in gaps} & {q.text for q in queries}
