"""Hybrid search on the real model and index: relevance, filters, boosts, snippets, weak matches."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kb.cli import cli
from kb.errors import InvalidQueryError
from kb.search.query import MAX_QUERY_CHARS
from kb.search.settings import RankingSettings
from webui.snippets import snippet_html

CREDIT_UNION_TEXT = "credit union losing young members who joined through a dealer car loan once it is paid off"
BANK = "mid-size regional bank, deposits leaking to fintech apps, IT and compliance can't agree on what to do"


def ids(response):
    return [r.id for r in response.results]


def test_situation_finds_the_story_with_the_passage_that_shows_it(knowledge_base):
    response = knowledge_base.search(BANK, k=5)
    top = response.results[0]
    assert top.id == "harbourview-savings-bank"
    assert not top.weak
    assert "<mark>" in snippet_html(top.snippet)
    assert top.why.similarity > 0.4 and top.why.terms
    assert top.stage in {"situation", "recognizing", "aligning", "changing", "results", "lessons", None}
    assert len(set(ids(response))) == len(ids(response)), "one entry per case"


def test_every_mode_ranks_and_drafts_stay_hidden(knowledge_base):
    for mode in ("hybrid", "dense", "lexical"):
        found = ids(knowledge_base.search("reinsurance merger duplicate claims platforms", k=13, mode=mode))
        assert "atlas-reinsurance-partners" not in found
    asked = knowledge_base.search("reinsurance merger", k=13, filters={"status": ["draft"]})
    assert asked.results == [], "a status filter never reveals drafts to a seller"
    with_drafts = knowledge_base.search("reinsurance merger duplicate claims platforms", k=3, include_drafts=True)
    assert ids(with_drafts)[0] == "atlas-reinsurance-partners"


def test_filters_apply_before_the_cut(knowledge_base):
    response = knowledge_base.search(BANK, k=10, filters={"industry": ["Hospitality"]})
    assert ids(response) == ["saltmarsh-inns"], "a filter never starves the results"
    sized = knowledge_base.search("costs", k=10, filters={"company_size": ["1-50"]})
    assert ids(sized) and all(r.meta["company_size"] == "1-50" for r in sized.results)
    nothing = knowledge_base.search(BANK, k=10, filters={"region": ["Antarctica"]})
    assert nothing.results == []


def test_stage_filter_matches_only_passages_of_that_stage(knowledge_base):
    response = knowledge_base.search(BANK, k=5, filters={"stage": ["lessons"]})
    assert response.results and all(r.stage == "lessons" for r in response.results)


def test_facets_count_the_filtered_set_disjunctively(knowledge_base):
    response = knowledge_base.search(BANK, k=10, filters={"industry": ["Banking"]})
    assert response.facets["industry"]["Banking"] == 3
    assert response.facets["industry"]["Hospitality"] == 1, "other values of the filtered facet stay visible"
    assert sum(response.facets["company_size"].values()) == 3
    assert "Insurance" not in knowledge_base.search(BANK).facets["industry"], "drafts are not counted"


def test_profile_boost_raises_matching_cases_without_excluding_others(knowledge_base):
    query = "customers leaving and we don't know why"
    plain = knowledge_base.search(query, k=12)
    boosted = knowledge_base.search(query, k=12, profile={"industry": "Hospitality"})
    before, after = ids(plain).index("saltmarsh-inns"), ids(boosted).index("saltmarsh-inns")
    assert before > 0 and after < before
    assert set(ids(boosted)) == set(ids(plain)), "nothing is excluded"
    boost = knowledge_base.ranking.boosts["industry"]
    assert boosted.results[after].score == pytest.approx(plain.results[before].score + boost)
    assert boosted.results[after].why.attributes == ("industry Hospitality",)


def test_aggregation_gives_one_entry_per_case_scored_by_its_best_passages():
    from kb.search.fusion import aggregate

    passage_doc = np.array([0, 0, 0, 0, 1])  # case 0 has four passages, case 1 one
    scores = aggregate({0: 2.0, 1: 1.0}, passage_doc, RankingSettings())
    assert scores == {0: pytest.approx(2.0 + 0.3 * 1.0)}
    many = {0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0, 4: 1.0}
    assert aggregate(many, passage_doc, RankingSettings())[0] == pytest.approx(1.3), "a long story does not win by volume"
    assert aggregate({1: -0.5, 0: 1.0}, passage_doc, RankingSettings()) == {0: pytest.approx(1.0)}, \
        "a poor second passage adds nothing"


def test_nonsense_is_marked_weak_with_a_notice(knowledge_base):
    response = knowledge_base.search("zxqv plorkin wibble frobnicate", k=3)
    assert response.results and response.all_weak
    assert any("no strong match" in notice for notice in response.notices)


@pytest.mark.parametrize("text", ["", "   ", "\n\t", None])
def test_blank_query_is_refused(knowledge_base, text):
    with pytest.raises(InvalidQueryError, match="the query is empty"):
        knowledge_base.search(text)


def test_very_long_and_unicode_queries_work(knowledge_base):
    long = ("regional bank losing deposits " * 600)[:12_000]
    response = knowledge_base.search(long, k=3)
    assert response.results[0].id == "harbourview-savings-bank"
    assert response.notices[0].startswith("the query was cut to its first")
    assert len(response.query) <= MAX_QUERY_CHARS
    for text in ("банк теряет депозиты", "銀行の預金流出", "🏦💸 fintech", "caf\u00e9 na\u00efve \u0000 nul"):
        assert knowledge_base.search(text, k=2).results


def test_bad_filter_values_are_refused(knowledge_base):
    with pytest.raises(InvalidQueryError, match="company_size 'huge' is not one of"):
        knowledge_base.search("x", filters={"company_size": ["huge"]})
    with pytest.raises(InvalidQueryError, match="unknown filter 'colour'"):
        knowledge_base.search("x", filters={"colour": ["red"]})
    with pytest.raises(InvalidQueryError, match="k must be a whole number from 1 to 100"):
        knowledge_base.search("x", k=0)


def test_similar_cases_by_vectors(knowledge_base):
    similar = knowledge_base.similar("harbourview-savings-bank", k=3)
    assert len(similar) == 3
    assert "harbourview-savings-bank" not in [s["id"] for s in similar]
    assert "atlas-reinsurance-partners" not in [s["id"] for s in similar]
    assert similar[0]["similarity"] >= similar[-1]["similarity"]


def test_snippet_window_and_highlighting():
    from kb.search.snippets import make_snippet, query_terms

    text = "Filler words here. " * 40 + "Deposits were leaking to fintech apps every quarter. " + "More filler. " * 40
    snippet = make_snippet(text, query_terms("deposit leakage fintech"), width=120)
    assert snippet.clipped_start and snippet.clipped_end
    assert "<mark>Deposits</mark>" in snippet_html(snippet) and "<mark>fintech</mark>" in snippet_html(snippet)
    hostile = make_snippet("<script>alert(1)</script> deposits", query_terms("deposits"))
    assert "<script>" not in snippet_html(hostile) and "&lt;script&gt;" in snippet_html(hostile)


def test_remembered_word_terms_are_what_the_index_makes(monkeypatch):
    from indexer import lexical

    monkeypatch.setattr(lexical, "_word_terms", {})
    monkeypatch.setattr(lexical, "WORD_CACHE_SIZE", 6)
    words = ["Deposits", "the", "leaking", "fintechs", "Über", "naïve", "deposits", "and", "CFO's", "2024"]
    expected = [terms[0] if terms else None for terms in lexical.tokenize(words)]
    assert lexical.word_terms(words) == expected  # a full cache is emptied, never wrong
    assert lexical.word_terms(words[:3]) == expected[:3] and len(lexical._word_terms) == 3
    assert lexical.word_terms(words[4:8]) == expected[4:8]  # 3 + 4 > 6: emptied, then these 4
    assert set(lexical._word_terms) == set(words[4:8])
    assert expected[1] is None and expected[0] == expected[6]  # a stop word; one stem for both cases
    assert len(lexical._word_terms) <= lexical.WORD_CACHE_SIZE


def test_cli_search_json_shape(runner, small_settings):
    env = {"KB_CASES": str(small_settings.cases_dir), "KB_DATA": str(small_settings.data_dir)}
    result = runner.invoke(cli, ["search", BANK, "-k", "3", "--json", "--like-industry", "Banking"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["query"] == BANK
    assert set(data["results"][0]) >= {"id", "title", "customer", "score", "snippet", "section", "stage", "why", "weak"}
    assert set(data["facets"]) == {"industry", "company_size", "region", "stage", "tags"}
    assert data["understood"] == {"company_size": ["1001-5000"]}, "--like-industry replaces the understood industry"
    text = runner.invoke(cli, ["search", BANK, "-k", "2"], env=env)
    assert text.exit_code == 0
    assert text.stdout.startswith("understood: Banking · 1001-5000  (raised, not filtered")
    assert "\n1. " in text.stdout and "why: meaning of the passage" in text.stdout
    ignored = runner.invoke(cli, ["search", BANK, "-k", "2", "--ignore", "industry", "--ignore", "company_size"], env=env)
    assert ignored.stdout.startswith("1. ")
    empty = runner.invoke(cli, ["search", "  "], env=env)
    assert empty.exit_code == 1
    assert empty.stderr.strip() == "Error: the query is empty: describe the prospect's situation in a few words"


def test_cli_batch_loads_once_and_writes_one_line_per_query(runner, small_settings, tmp_path):
    env = {"KB_CASES": str(small_settings.cases_dir), "KB_DATA": str(small_settings.data_dir)}
    batch = tmp_path / "q.jsonl"
    batch.write_text("\n".join(json.dumps(row) for row in [
        {"id": "q1", "text": BANK},
        {"id": "q2", "text": "foundry scrap rate", "industry": "Manufacturing"},
        {"id": "q3", "text": ""},
    ]) + "\n", encoding="utf-8")
    result = runner.invoke(cli, ["search", "--batch", str(batch), "-k", "2"], env=env)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["q1", "q2", "q3"]
    assert lines[0]["results"][0]["id"] == "harbourview-savings-bank"
    assert len(lines[0]["results"]) == 2 and set(lines[0]["results"][0]) == {"id", "score"}
    assert [r["id"] for r in lines[1]["results"]] == ["copperline-castings"] or lines[1]["results"][0]["id"] == "copperline-castings"
    assert lines[2]["results"] == [] and "empty" in lines[2]["error"]


def test_eval_prints_all_three_rankings_and_the_peer(runner, small_settings, tmp_path):
    env = {"KB_CASES": str(small_settings.cases_dir), "KB_DATA": str(small_settings.data_dir)}
    queries = tmp_path / "judged.jsonl"
    queries.write_text(json.dumps({"id": "1", "text": BANK, "rel": {"harbourview-savings-bank": 2}}) + "\n",
                       encoding="utf-8")
    result = runner.invoke(cli, ["eval", "--queries", str(queries)], env=env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:6]}
    assert list(rows) == ["hybrid", "dense", "lexical", "doc-bm25"]
    assert rows["hybrid"] == ["1.000", "1.000", "1.000"]
    assert lines[6:] == ["weak marks (hybrid): first grade-2 hit marked weak in 0 of 1 queries (0.0%): "
                         "the right story, shown as a weak match"]


def test_eval_measures_weak_marks_on_hits_and_gaps(runner, small_settings, knowledge_base, tmp_path):
    env = {"KB_CASES": str(small_settings.cases_dir), "KB_DATA": str(small_settings.data_dir)}
    gap = "zoo keepers logging penguin feeding times and veterinary checks"
    assert knowledge_base.search(gap).all_weak  # the premise: no story of the small corpus is close
    queries = tmp_path / "judged.jsonl"
    rows = [{"id": "hit", "text": BANK, "rel": {"harbourview-savings-bank": 2}},
            {"id": "gap", "text": gap, "rel": {}}]
    queries.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    result = runner.invoke(cli, ["eval", "--queries", str(queries), "--mode", "hybrid"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].endswith("(1 judged, 1 gaps)")
    assert lines[2].split() == ["hybrid", "1.000", "1.000", "1.000"], "the gap takes no part in the metrics"
    assert lines[3:] == [
        "weak marks (hybrid): first grade-2 hit marked weak in 0 of 1 queries (0.0%): the right story, shown as a weak match",
        "weak marks (hybrid): gap queries answered 'no strong match': 1 of 1 (100.0%)"]
    assert result.stderr == "", "a gap is not a judgment no ranking can find"
    as_json = json.loads(runner.invoke(cli, ["eval", "--queries", str(queries), "--json"], env=env).stdout)
    assert as_json["hybrid"].items() >= {"queries": 1, "hits": 1, "hits_weak": 0, "gaps": 1, "gaps_flagged": 1}.items()
    assert as_json["hybrid"]["ndcg@10"] == 1.0 and "gaps" not in as_json["dense"]
    queries.write_text(json.dumps(rows[1]) + "\n", encoding="utf-8")
    only_gaps = runner.invoke(cli, ["eval", "--queries", str(queries), "--mode", "hybrid", "--json"], env=env)
    assert json.loads(only_gaps.stdout)["hybrid"] == {"ndcg@10": None, "mrr@10": None, "recall@5": None,
                                                      "queries": 0, "hits": 0, "hits_weak": 0, "gaps": 1,
                                                      "gaps_flagged": 1}


def test_weak_marks_count_the_first_exact_hit_and_all_weak_gaps():
    from kb.evaluation import JudgedQuery, Report, Scores, WeakMarks, measure

    queries = [JudgedQuery("a", "t", {"x": 2, "y": 1}), JudgedQuery("b", "t", {"x": 1}),
               JudgedQuery("c", "t", {"z": 2}), JudgedQuery("g1", "t", {}), JudgedQuery("g2", "t", {})]
    results = {"a": [("y", False), ("x", True)],  # the first grade-2 hit is weak, the grade-1 above it not
               "b": [("x", True)],  # no grade-2 case: not counted
               "c": [("q", False)],  # grade-2 case not in the top 10: not counted
               "g1": [("x", True), ("y", True)], "g2": [("x", True), ("y", False)]}
    searched = []

    def search(query, mode):
        searched.append((query.id, mode))
        return results[query.id]

    report = measure(queries, search, ("hybrid", "dense"))
    assert report.marks == WeakMarks(hits=1, hits_weak=1, gaps=2, gaps_flagged=1)
    scores = report.scores["hybrid"]
    assert scores.queries == 3 and scores.mrr10 == pytest.approx(0.5 / 3)
    assert report.scores["dense"] == scores
    assert ("g1", "dense") not in searched, "gaps are searched for the hybrid ranking's marks only"
    assert measure(queries[3:], search, ("dense",)) == Report({"dense": Scores(0.0, 0.0, 0.0, 0)}, None)


def test_eval_warns_of_judgments_no_ranking_can_find(runner, small_settings, tmp_path):
    env = {"KB_CASES": str(small_settings.cases_dir), "KB_DATA": str(small_settings.data_dir)}
    queries = tmp_path / "judged.jsonl"
    rows = [{"id": "typo", "text": BANK, "rel": {"harbourview-savings-bnak": 2, "harbourview-savings-bank": 1}},
            {"id": "draft-only", "text": "reinsurance treaty renewals", "rel": {"atlas-reinsurance-partners": 2}},
            {"id": "fine", "text": BANK, "rel": {"harbourview-savings-bank": 2}}]
    queries.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    result = runner.invoke(cli, ["eval", "--queries", str(queries), "--mode", "hybrid"], env=env)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "warning: 1 judged case id not in the index, counted as missed by every ranking "
        "(a typo, or a case not indexed yet): harbourview-savings-bnak",
        "warning: 1 judged case hidden from the rankings (drafts; --drafts includes them), "
        "counted as missed: atlas-reinsurance-partners",
        "warning: 1 query with no relevant case the rankings can return, scoring 0 for every ranking: draft-only",
    ]
    assert "hybrid" in result.stdout and "warning" not in result.stdout
    with_drafts = runner.invoke(cli, ["eval", "--queries", str(queries), "--mode", "hybrid", "--drafts"], env=env)
    assert with_drafts.stderr.splitlines() == [result.stderr.splitlines()[0]]


def test_judgment_warnings_name_at_most_ten_ids():
    from kb.evaluation import JudgedQuery, judgment_warnings

    queries = [JudgedQuery(str(i), "text", {f"case-{i:02d}": 2}) for i in range(12)]
    warnings = judgment_warnings(queries, indexed=[f"case-{i:02d}" for i in range(12)], searchable=["case-00"])
    assert warnings[0].startswith("11 judged cases hidden from the rankings")
    assert warnings[0].endswith("case-01, case-02, case-03, case-04, case-05, case-06, case-07, case-08, "
                                "case-09, case-10 and 1 more")
    assert warnings[1].startswith("11 queries with no relevant case")
    assert judgment_warnings(queries, indexed=[f"case-{i:02d}" for i in range(12)],
                             searchable=[f"case-{i:02d}" for i in range(12)]) == []

def test_metrics():
    from kb.evaluation import mrr_at, ndcg_at, recall_at

    rel = {"a": 2, "b": 1}
    assert ndcg_at(["a", "b"], rel) == 1.0
    assert ndcg_at(["x", "y"], rel) == 0.0
    assert ndcg_at(["b", "a"], rel) == pytest.approx((1 + 3 / np.log2(3)) / (3 + 1 / np.log2(3)))
    assert mrr_at(["b", "x", "a"], rel) == pytest.approx(1 / 3), "MRR counts the first grade-2 hit"
    assert recall_at(["x", "b", "y", "z", "w", "a"], rel) == 0.5


def test_list_cases_and_facets_for_browsing(knowledge_base):
    banks = knowledge_base.list_cases({"industry": ["Banking"]}, sort="title")
    assert len(banks) == 3 and all(c["industry"] == "Banking" for c in banks)
    assert [c["title"] for c in banks] == sorted((c["title"] for c in banks), key=str.casefold)
    dated = knowledge_base.list_cases()
    assert [c["published"] for c in dated] == sorted((c["published"] for c in dated), reverse=True)
    assert "atlas-reinsurance-partners" not in [c["id"] for c in dated]
    assert len(knowledge_base.list_cases({"stage": ["lessons"]})) >= 10
    facets = knowledge_base.facets({"industry": ["Banking"]})
    assert sum(facets["region"].values()) == 3
    with pytest.raises(InvalidQueryError):
        knowledge_base.list_cases(sort="popularity")
    with pytest.raises(InvalidQueryError):
        knowledge_base.similar("harbourview-savings-bank", k=0)


# -- query understanding, whole-document evidence, weak marks ------------------------------

NORDIC_BANK = "a mid-size regional bank in the Nordics, the CFO is sceptical about replacing the core"


def test_what_the_query_says_of_the_prospect_is_understood_and_shown(knowledge_base):
    response = knowledge_base.search(NORDIC_BANK, k=13)
    assert response.understood.to_dict() == {"industry": ["Banking"], "company_size": ["1001-5000"],
                                             "region": ["Nordics"], "roles": ["CFO", "Finance Director"]}
    assert response.to_dict()["understood"] == response.understood.to_dict()
    assert set(ids(response)[:2]) == {"baltic-merchant-bank", "harbourview-savings-bank"}  # the banks


def test_understood_attributes_raise_stories_but_never_filter(knowledge_base):
    plain = knowledge_base.search(NORDIC_BANK, k=13, understand=False)
    understood = knowledge_base.search(NORDIC_BANK, k=13)
    assert not plain.understood and plain.total == understood.total, "a boost, never a filter"
    assert set(ids(plain)) == set(ids(understood))
    settings = knowledge_base.ranking
    plain_scores = {r.id: r.score for r in plain.results}
    for result in understood.results:
        meta = result.meta
        shared = [key for key, values in understood.understood.attributes.items()
                  if (set(meta[key]) if isinstance(meta[key], list) else {meta[key]}) & set(values)]
        expected = settings.understood_weight * sum(settings.boosts[key] for key in shared)
        assert result.score - plain_scores[result.id] == pytest.approx(expected), result.id
    baltic = next(result for result in understood.results if result.id == "baltic-merchant-bank")
    assert baltic.score - plain_scores[baltic.id] == pytest.approx(
        settings.understood_weight * sum(settings.boosts[key] for key in ("industry", "company_size", "region")))


def test_an_explicit_profile_replaces_what_was_understood(knowledge_base):
    response = knowledge_base.search(NORDIC_BANK, profile={"region": "North America"})
    assert "region" not in response.understood.attributes
    assert response.understood.attributes["industry"] == ("Banking",)


def test_a_removed_attribute_is_ignored_and_an_unknown_one_refused(knowledge_base):
    response = knowledge_base.search(NORDIC_BANK, ignore=["industry", "roles"])
    assert set(response.understood.attributes) == {"company_size", "region"}
    with pytest.raises(InvalidQueryError, match="cannot ignore 'deal_size'"):
        knowledge_base.search(NORDIC_BANK, ignore=["deal_size"])


def test_a_value_only_drafts_carry_is_never_understood(knowledge_base):
    # The only insurance story of the small corpus is a draft: naming it would reveal it.
    assert "industry" not in knowledge_base.search("an insurer merging two claims platforms").understood.attributes
    drafts = knowledge_base.engine().vocabulary  # built from published stories only
    assert all("Insurance" not in values for values in drafts.phrases["industry"].values())


def test_whole_document_bm25_is_the_peer_over_published_stories(knowledge_base):
    peer = knowledge_base.whole_document_bm25(BANK, k=5)
    assert peer and peer[0] in {"harbourview-savings-bank", "baltic-merchant-bank"}
    assert "atlas-reinsurance-partners" not in knowledge_base.whole_document_bm25("reinsurance treaty claims", k=13)
    assert "atlas-reinsurance-partners" in knowledge_base.whole_document_bm25(
        "reinsurance treaty claims", k=13, include_drafts=True)
    assert set(knowledge_base.whole_document_bm25(BANK, k=13, filters={"region": "Nordics"})) == {"baltic-merchant-bank"}
    assert knowledge_base.whole_document_bm25("zxqv blorf", k=5) == []


def test_the_weak_mark_weighs_similarity_and_term_coverage():
    settings = RankingSettings(weak_threshold=0.56, weak_coverage_weight=0.3)
    assert settings.is_weak(0.50, 0.0) and not settings.is_weak(0.50, 0.3)
    assert not settings.is_weak(0.60, 0.0) and settings.is_weak(0.20, 0.9)


def test_results_say_how_much_of_the_situation_the_story_holds(knowledge_base):
    result = knowledge_base.search(CREDIT_UNION_TEXT, k=1).results[0]
    assert result.id == "alder-community-credit-union"
    assert 0.5 < result.why.coverage <= 1.0 and not result.weak
    assert any("of the situation's words" in reason for reason in result.why.reasons())
    assert result.to_dict()["why"]["coverage"] == round(result.why.coverage, 4)


def test_eval_by_a_field_prints_each_groups_figures(runner, small_settings, tmp_path):
    env = {"KB_CASES": str(small_settings.cases_dir), "KB_DATA": str(small_settings.data_dir)}
    queries = tmp_path / "judged.jsonl"
    rows = [{"id": "a", "text": BANK, "rel": {"harbourview-savings-bank": 2}, "style": "paraphrase"},
            {"id": "b", "text": "savings bank fintech", "rel": {"harbourview-savings-bank": 2}, "style": "keyword"},
            {"id": "c", "text": "credit union car loan members", "rel": {"alder-community-credit-union": 2}}]
    queries.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    result = runner.invoke(cli, ["eval", "--queries", str(queries), "--mode", "hybrid", "--by", "style"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    start = lines.index("nDCG@10 by style:")
    assert lines[start + 1].split() == ["style", "queries", "hybrid"]
    assert [line.split()[:2] for line in lines[start + 2:]] == [["paraphrase", "1"], ["keyword", "1"], ["(none)", "1"]]
    as_json = json.loads(runner.invoke(cli, ["eval", "--queries", str(queries), "--mode", "hybrid", "--by", "style",
                                             "--json"], env=env).stdout)
    assert as_json["by"]["field"] == "style" and set(as_json["by"]["groups"]) == {"paraphrase", "keyword", "(none)"}
    assert as_json["by"]["groups"]["keyword"]["hybrid"]["queries"] == 1
    refused = runner.invoke(cli, ["eval", "--queries", str(queries), "--tune", "--by", "style"], env=env)
    assert refused.exit_code == 2 and "--by goes with measuring" in refused.output
