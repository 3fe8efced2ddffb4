"""Ranking settings from a TOML file, several settings over one candidate search, and tuning."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from kb.cli import cli
from kb.errors import ConfigError
from kb.evaluation import JudgedQuery, load_queries
from kb.search import RankingSettings, SearchEngine, make_request
from kb.search.ranking_file import load_ranking, ranking_toml
from kb.settings import load_settings
from kb.tuning import settings_grid, tune
from tests.conftest import REPO, SMALL_CORPUS

CUSTOM = RankingSettings(fusion="rrf", dense_weight=0.7, lexical_weight=0.3, rrf_k=10.0,
                         second_passage_weight=0.0, candidates=200, weak_threshold=0.5,
                         understood_weight=0.25, weak_coverage_weight=0.1,
                         boosts={"industry": 1.0, "company_size": 0.0, "region": 0.1, "roles": 0.3})
VARIANTS = [RankingSettings(),
            replace(RankingSettings(), dense_weight=0.7, lexical_weight=0.3, second_passage_weight=0.0),
            replace(RankingSettings(), dense_weight=0.2, lexical_weight=0.8, second_passage_weight=0.5),
            replace(RankingSettings(), fusion="rrf", rrf_k=5.0),
            replace(RankingSettings(), boosts={"industry": 3.0, "company_size": 0.0, "region": 0.0})]


def _small_judged_queries() -> list[JudgedQuery]:
    """The starter set's queries whose exact answer is in the session corpus, judged within it."""
    out = []
    for query in load_queries(REPO / "eval" / "starter_queries.jsonl"):
        rel = {case: grade for case, grade in query.rel.items() if case in SMALL_CORPUS}
        if 2 in rel.values():
            out.append(replace(query, rel=rel))
    return out


# -- the file ---------------------------------------------------------------------------

def test_written_settings_read_back_the_same(tmp_path):
    path = tmp_path / "ranking.toml"
    path.write_text(ranking_toml(CUSTOM, "tuned on\nsome queries"), encoding="utf-8")
    assert path.read_text(encoding="utf-8").startswith("# tuned on\n# some queries\n")
    assert load_ranking(path) == CUSTOM
    path.write_text(ranking_toml(RankingSettings()), encoding="utf-8")
    assert load_ranking(path) == RankingSettings()


def test_a_partial_file_keeps_the_built_in_values(tmp_path):
    path = tmp_path / "ranking.toml"
    path.write_text("second_passage_weight = 0\n\n[boosts]\nregion = 1\n", encoding="utf-8")
    assert load_ranking(path) == replace(RankingSettings(), second_passage_weight=0.0,
                                         boosts={**RankingSettings().boosts, "region": 1.0})


@pytest.mark.parametrize(("text", "message"), [
    ('dense_weight = "x"', "dense_weight must be a number, not 'x'"),
    ("dense_weight = true", "dense_weight must be a number, not True"),
    ("dense_weight = nan", "dense_weight must be a number"),
    ("second_passage_weight = -0.1", "second_passage_weight must be 0 or more"),
    ("dense_weight = 0\nlexical_weight = 0", "dense_weight and lexical_weight cannot both be 0"),
    ('fusion = "max"', "fusion must be one of zscore, rrf, not 'max'"),
    ("colour = 1", "unknown setting 'colour'"),
    ("candidates = 2.5", "candidates must be a whole number of at least 1"),
    ("candidates = 0", "candidates must be a whole number of at least 1"),
    ("rrf_k = 0", "rrf_k must be more than 0"),
    ("weak_threshold = 3", "weak_threshold is a match strength from -1 to 2"),
    ("boosts = 3", "boosts must be a table"),
    ("[boosts]\nplanet = 1", "boosts.planet is not a profile field"),
    ("[boosts]\nregion = -1", "boosts.region must be a number of 0 or more"),
    ("dense_weight = 0.5\ndense_weight = 0.6", "not valid TOML: Cannot overwrite a value (at line 2, column 19)"),
])
def test_bad_settings_are_refused_naming_the_file_and_setting(tmp_path, text, message):
    path = tmp_path / "ranking.toml"
    path.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_ranking(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_unreadable_files_are_refused(tmp_path):
    path = tmp_path / "ranking.toml"
    path.write_bytes(b"dense_weight = 0.5 # caf\xe9\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_ranking(path)
    with pytest.raises(ConfigError, match="cannot read the ranking file"):
        load_ranking(tmp_path / "missing.toml")


def test_kb_ranking_names_the_file_and_the_knowledge_base_uses_it(tmp_path, small_settings, embedder):
    from kb.service import KnowledgeBase

    path = tmp_path / "ranking.toml"
    path.write_text(ranking_toml(CUSTOM), encoding="utf-8")
    assert load_settings(environ={"KB_RANKING": str(path)}).ranking_file == path
    base = KnowledgeBase(small_settings.replace(ranking_file=path), embedder=embedder)
    assert base.ranking == CUSTOM and base.engine().settings == CUSTOM
    assert KnowledgeBase(small_settings, embedder=embedder).ranking == RankingSettings()


# -- several settings over one candidate search -------------------------------------------

@pytest.mark.parametrize(("text", "filters", "profile"), [
    ("bank losing deposits to fintech apps, compliance and IT disagree", None, None),
    ("scheduler about to retire, everything in her spreadsheet", {"industry": ["Manufacturing", "Retail"]}, None),
    ("hotel group with too many booking systems", None, {"industry": "Hospitality", "region": "Europe"}),
])
def test_rankings_of_several_settings_are_what_each_search_returns(knowledge_base, text, filters, profile):
    engine = knowledge_base.engine()
    request, _ = make_request(text, k=8, filters=filters, profile=profile)
    together = engine.rankings(request, VARIANTS)
    assert len(together) == len(VARIANTS)
    for variant, ranked in zip(VARIANTS, together):
        alone = SearchEngine(engine.version, engine.embedder, variant).search(request)
        assert ranked == [result.id for result in alone.results], variant
    assert len({tuple(r) for r in together}) > 1, "the variants rank differently, or this test proves nothing"


# -- tuning -----------------------------------------------------------------------------

def test_the_grid_starts_with_the_current_settings_and_skips_their_twins():
    current = replace(RankingSettings(), dense_weight=1.0, lexical_weight=1.0)  # ranks as 0.5 / 0.5
    grid = settings_grid(current)
    assert grid[0] == current
    assert len(grid) == 1 + 5 * 6 - 1  # the current settings, then the grid without their twin
    assert all(not (v.dense_weight == 0.5 and v.second_passage_weight == 0.3) for v in grid[1:])
    assert len(settings_grid(replace(RankingSettings(), fusion="rrf"))) == 5 * 6 + 1


def test_tuning_ranks_the_settings_by_their_measured_figures(knowledge_base):
    queries = _small_judged_queries()
    assert len(queries) >= 5
    trials = tune(knowledge_base, queries)
    assert len(trials) == len(settings_grid(knowledge_base.ranking))
    assert sum(t.current for t in trials) == 1
    keys = [(t.scores.ndcg10, t.scores.mrr10, t.scores.recall5) for t in trials]
    assert keys == sorted(keys, reverse=True)
    # Each trial's figures are those of kb eval's own measurement with its settings.
    from kb.evaluation import evaluate
    from kb.service import KnowledgeBase

    for trial in (trials[0], trials[-1]):
        other = KnowledgeBase(knowledge_base.settings, ranking=trial.settings, embedder=knowledge_base.embedder)
        scores = evaluate(queries, lambda q: [r.id for r in other.search(q.text, k=10, filters=q.filters).results])
        assert scores.ndcg10 == pytest.approx(trial.scores.ndcg10)
        assert scores.mrr10 == pytest.approx(trial.scores.mrr10)
    assert trials[0].scores.ndcg10 > trials[-1].scores.ndcg10


def test_tuning_leaves_gap_queries_out(knowledge_base):
    queries = _small_judged_queries()[:3]
    gap = JudgedQuery("gap", "zoo keepers logging penguin feeding times", {})
    grid = [RankingSettings(), replace(RankingSettings(), second_passage_weight=0.0)]
    assert tune(knowledge_base, [*queries, gap], grid=grid) == tune(knowledge_base, queries, grid=grid)


def test_on_a_tie_the_current_settings_stay_ahead(knowledge_base):
    queries = _small_judged_queries()[:3]
    twin = replace(RankingSettings(), dense_weight=2.0, lexical_weight=2.0)  # the same ranking
    trials = tune(knowledge_base, queries, grid=[RankingSettings(), twin])
    assert trials[0].current and trials[0].scores == trials[1].scores
    trials = tune(knowledge_base, queries, grid=[twin, RankingSettings()])
    assert trials[0].settings == twin


def test_cli_tune_writes_settings_that_search_and_eval_then_use(runner, small_settings, tmp_path):
    env = {"KB_CASES": str(small_settings.cases_dir), "KB_DATA": str(small_settings.data_dir)}
    queries = tmp_path / "judged.jsonl"
    queries.write_text("".join(json.dumps({"id": q.id, "text": q.text, "rel": q.rel}) + "\n"
                               for q in _small_judged_queries()), encoding="utf-8")
    written = tmp_path / "ranking.toml"
    result = runner.invoke(cli, ["eval", "--queries", str(queries), "--tune", "--write", str(written)], env=env)
    assert result.exit_code == 0, result.output
    assert "current (built-in)" in result.stdout
    assert f"best settings written to {written}" in result.stdout
    best = load_ranking(written)
    as_json = runner.invoke(cli, ["eval", "--queries", str(queries), "--tune", "--json"], env=env)
    data = json.loads(as_json.stdout)
    assert data["settings_tried"] == 30 and data["best"]["dense_weight"] == best.dense_weight
    assert data["best"]["second_passage_weight"] == best.second_passage_weight

    again = runner.invoke(cli, ["eval", "--queries", str(queries), "--mode", "hybrid", "--json",
                                "--ranking", str(written)], env=env)
    assert json.loads(again.stdout)["hybrid"]["ndcg@10"] == pytest.approx(data["best"]["ndcg@10"])
    found = runner.invoke(cli, ["search", "bank losing deposits", "--json"], env={**env, "KB_RANKING": str(written)})
    assert found.exit_code == 0, found.output


def test_cli_refuses_bad_combinations_and_bad_files(runner, small_settings, tmp_path):
    env = {"KB_CASES": str(small_settings.cases_dir), "KB_DATA": str(small_settings.data_dir)}
    queries = tmp_path / "judged.jsonl"
    queries.write_text(json.dumps({"id": "1", "text": "bank", "rel": {"harbourview-savings-bank": 2}}) + "\n",
                       encoding="utf-8")
    alone = runner.invoke(cli, ["eval", "--queries", str(queries), "--write", str(tmp_path / "r.toml")], env=env)
    assert alone.exit_code == 2 and "--write goes with --tune" in alone.output
    mixed = runner.invoke(cli, ["eval", "--queries", str(queries), "--tune", "--mode", "dense"], env=env)
    assert mixed.exit_code == 2 and "leave out --mode" in mixed.output
    bad = tmp_path / "bad.toml"
    bad.write_text('lexical_weight = "lots"\n', encoding="utf-8")
    refused = runner.invoke(cli, ["search", "bank", "--ranking", str(bad)], env=env)
    assert refused.exit_code == 1
    assert refused.stderr.strip() == f"Error: {bad}: lexical_weight must be a number, not 'lots'"
    nowhere = runner.invoke(cli, ["eval", "--queries", str(queries), "--tune", "--write",
                                  str(tmp_path / "missing" / "r.toml")], env=env)
    assert nowhere.exit_code == 1 and "cannot write" in nowhere.output
    assert not (tmp_path / "missing").exists()


def test_the_web_app_searches_with_the_ranking_file_and_reports_it(tmp_path, small_settings, embedder):
    from kb.service import KnowledgeBase
    from webui import create_app

    path = tmp_path / "ranking.toml"
    path.write_text("second_passage_weight = 0\n[boosts]\nindustry = 0\n", encoding="utf-8")
    settings = small_settings.replace(ranking_file=path)
    base = KnowledgeBase(settings, embedder=embedder)
    app = create_app({"KB_SETTINGS": settings, "SECRET_KEY": "x", "TESTING": True, "KB_KNOWLEDGE_BASE": base})
    from tests.web_fixtures import add_users, login

    add_users(app)
    admin = app.test_client()
    login(admin, "ada")  # /healthz names the ranking file to admins only
    assert admin.get("/healthz").get_json()["ranking"] == str(path)
    client = app.test_client()
    query = "bank losing deposits to fintech apps"
    found = client.get("/api/search", query_string={"q": query, "like_industry": "Banking"}).get_json()
    expected = base.search(query, profile={"industry": "Banking"})
    assert [r["id"] for r in found["results"]] == [r.id for r in expected.results]
    builtin = KnowledgeBase(small_settings, embedder=embedder).search(query, profile={"industry": "Banking"})
    assert [r.score for r in expected.results] != [r.score for r in builtin.results], \
        "the file's settings (no industry boost) change the scores"
