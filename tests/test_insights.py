"""Insights on a seeded search log: frequent searches, stories to write next, coverage,
stale and unused stories, searches over time, the command and the charts."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import xml.etree.ElementTree as ET

import pytest

from kb import insights
from kb.cli import cli
from kb.cli.demo_log import seed_demo
from kb.insights import (CoverageTable, TimeBucket, build_report, case_activity, coverage, coverage_tables,
                         months_between, stale_cases, timeline, top_searches, weak_groups)
from kb.searchlog import DEMO_USER, SearchLog
from tests.conftest import SECURITY
from webui.charts import heatmap_svg, timeline_svg

#: 2026-11-20T12:00:00Z
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.timezone.utc).timestamp()
TODAY = dt.date(2026, 11, 20)
DAY = 86400.0

#: Situations no story of the small corpus tells, each worded four ways.
GAPS = {
    "pharmacy": ["hospital pharmacy drug shortages", "drug shortages at hospital pharmacies",
                 "our hospital pharmacists cannot get enough medicines", "hospital running out of critical drugs"],
    "crew": ["airline crew scheduling", "rebuilding pilot and cabin crew rosters after flight disruptions",
             "airline crews out of position after cancellations", "flight crew rostering problems"],
    "mining": ["mining equipment downtime", "haul trucks and excavators at the mine keep breaking down",
               "unplanned downtime of mining machinery", "mine losing output to equipment failures"],
}
#: One-off searches with no strong match, unrelated to each other and to the gaps.
NOISE = ["cocoa price volatility for a chocolate maker", "esports team sponsorship deals",
         "ferry operator fuel costs", "church donations falling"]
#: Searches that find their story, with how often each is run.
FREQUENT = [
    ("regional bank losing deposits to fintech apps", 4),
    ("grocer fresh food waste and empty shelves", 3),
    ("clinic no-shows, nurses overloaded", 2),
    ("hotels paying too much commission to booking sites", 1),
]


class Clock:
    def __init__(self, now: float = NOW):
        self.now = now

    def __call__(self) -> float:
        return self.now


def seed(log: SearchLog, knowledge_base) -> dict[str, int]:
    """A realistic log, run through the real search: frequent searches (some retyped), the
    gap paraphrases and noise logged as weak, and opens of the top results."""
    ids: dict[str, int] = {}
    at = NOW - 20 * DAY
    for text, times in FREQUENT:
        response = knowledge_base.search(text, k=10)
        for n in range(times):
            typed = text.upper() if n == 1 else f"  {text} " if n == 2 else text
            at += 3600
            ids[f"{text}#{n}"] = log.record_search(typed, {}, {}, [(r.id, r.score) for r in response.results],
                                                   weak=False, user=f"seller{n}", at=at)
    for text in [t for wordings in GAPS.values() for t in wordings] + NOISE:
        response = knowledge_base.search(text, k=10)
        at += 3600
        ids[text] = log.record_search(text, {}, {}, [(r.id, r.score) for r in response.results], weak=True,
                                      user="seller0", at=at)
    for n in range(3):
        log.record_open(ids[f"regional bank losing deposits to fintech apps#{n}"], "harbourview-savings-bank",
                        f"seller{n}", at=at + 60 * (n + 1))
    log.record_open(ids["grocer fresh food waste and empty shelves#0"], "northgate-grocers", "seller0", at=at + 300)
    log.record_open(None, "riverside-community-health", None, at=at + 400)
    return ids


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, knowledge_base):
    path = tmp_path_factory.mktemp("insights") / "kb.sqlite3"
    log = SearchLog(path, clock=Clock(), retention=0)
    seed(log, knowledge_base)
    yield log
    log.close()


# -- what sellers search for -------------------------------------------------------------


def test_frequent_searches_are_counted_however_they_were_typed(seeded):
    rows = top_searches(seeded.searches(), limit=3)
    assert [(r.text, r.count, r.weak, r.users) for r in rows] == [
        ("regional bank losing deposits to fintech apps", 4, 0, 4),
        ("grocer fresh food waste and empty shelves", 3, 0, 3),
        ("CLINIC NO-SHOWS, NURSES OVERLOADED", 2, 0, 2),  # one wording each: the most recent is shown
    ]
    assert rows[0].last_seen == "2026-10-31T16:00:00Z"


# -- what they don't find ----------------------------------------------------------------


def test_searches_with_no_strong_match_are_grouped_by_meaning(seeded, embedder, knowledge_base):
    groups = weak_groups(seeded.searches(), embedder, knowledge_base.version)
    situation = {text: name for name, wordings in GAPS.items() for text in wordings}
    situation.update({text: f"noise {n}" for n, text in enumerate(NOISE)})
    for group in groups:
        members = [group.example, *group.examples]
        assert len({situation[m] for m in members}) == 1, f"a group mixes situations: {members}"
        assert group.queries == len(members) == group.size
    found = {}
    for group in groups:
        name = situation[group.example]
        if group.size > 1:
            assert name not in found, f"{name} is split into several groups of more than one search"
            found[name] = group
    assert set(found) == set(GAPS)
    for name, group in found.items():
        assert group.size >= 3, f"only {group.size} of the {name} wordings were grouped"
    assert {situation[g.example] for g in groups[:3]} == set(GAPS)
    assert all(g.size == 1 for g in groups[3:])
    for group in groups:
        nearest = group.nearest_case
        assert nearest["id"] in knowledge_base.version.doc_meta
        assert nearest["id"] != "atlas-reinsurance-partners"  # a draft is not what sellers have
        assert nearest["similarity"] < 0.6
    # The same log gives the same groups.
    assert weak_groups(seeded.searches(), embedder, knowledge_base.version) == groups


def test_the_example_of_a_group_is_its_most_central_wording(embedder):
    log_rows = [_logged("airline crew scheduling"), _logged("flight crew rostering problems"),
                _logged("airline crews out of position after cancellations")]
    (group,) = weak_groups(log_rows, embedder)
    vectors = embedder.encode([row.query for row in log_rows])
    centre = vectors.mean(axis=0)
    best = max(log_rows, key=lambda row: float(embedder.encode([row.query])[0] @ centre))
    assert group.example == best.query
    assert group.nearest_case is None  # no index given


def test_strong_searches_are_not_stories_to_write(seeded, embedder):
    strong = [s for s in seeded.searches() if not s.weak]
    assert strong and weak_groups(strong, embedder) == []


# -- which stories exist -----------------------------------------------------------------


def test_coverage_tables_list_every_combination_and_leave_out_drafts(knowledge_base):
    industry, size = coverage_tables(knowledge_base.version.doc_meta)
    assert industry.rows == ["Banking", "Healthcare providers", "Hospitality", "Logistics", "Manufacturing",
                             "Media and entertainment", "Public sector", "Retail", "Telecom"]  # no draft Insurance
    assert industry.columns == ["situation", "recognizing", "aligning", "changing", "results", "lessons"]
    assert industry.column_labels[2] == "Aligning the buying group"
    assert industry.counts[0] == [3, 3, 3, 3, 3, 3]
    assert sorted(industry.cases[0][0]) == ["alder-community-credit-union", "baltic-merchant-bank",
                                            "harbourview-savings-bank"]
    assert size.rows == ["1-50", "51-200", "201-1000", "1001-5000", "5001+"]  # every band, even empty ones
    assert size.columns == ["Europe", "Latin America", "Nordics", "North America", "UK & Ireland"]
    assert [len(row) for row in size.counts] == [5] * 5
    assert size.counts[1] == [0, 0, 0, 0, 0]  # no 51-200 story anywhere
    assert size.counts[3] == [1, 0, 1, 4, 1]
    assert size.empty == 18
    assert sum(map(sum, size.counts)) == 12


def test_a_missing_stage_or_attribute_is_an_explicit_cell():
    meta = {
        "a": {"industry": "Banking", "stages": ["situation", "results"], "status": "published"},
        "b": {"industry": None, "stages": ["situation"], "status": "published"},
        "c": {"industry": "Retail", "stages": ["lessons"], "status": "draft"},
    }
    table = coverage(meta, "industry", "stage")
    assert table.rows == ["Banking", "(not set)"]
    assert table.counts == [[1, 0, 0, 0, 1, 0], [1, 0, 0, 0, 0, 0]]
    assert table.empty == 9
    assert table.to_dict()["empty"] == 9


# -- stale stories -----------------------------------------------------------------------


def test_stale_cases_are_those_published_the_set_months_ago_or_more(knowledge_base):
    stale, undated = stale_cases(knowledge_base.version.doc_meta, 24, TODAY)
    assert [(c.id, c.published, c.months) for c in stale] == [
        ("alder-community-credit-union", "2021-06-17", 65),
        ("swiftlane-freight", "2021-11-04", 60),
        ("tallgrass-tools", "2021-11-08", 60),
        ("pampas-mobile", "2022-09-13", 50),
        ("copperline-castings", "2023-09-12", 38),
        ("baltic-merchant-bank", "2023-12-05", 35),
        ("riverside-community-health", "2024-05-09", 30),
        ("city-of-westbrook", "2024-11-08", 24),
    ]
    assert undated == []
    assert [c.id for c in stale_cases(knowledge_base.version.doc_meta, 36, TODAY)[0]][-1] == "copperline-castings"


def test_cases_without_a_date_are_listed_apart():
    meta = {"a": {"title": "A", "published": None}, "b": {"title": "B", "published": "2020-01-01"},
            "c": {"title": "C", "published": "2026-01-01"}, "d": {"published": None, "status": "draft"}}
    stale, undated = stale_cases(meta, 24, TODAY)
    assert [c.id for c in stale] == ["b"] and [(c.id, c.title) for c in undated] == [("a", "A")]


def test_months_between_counts_whole_months():
    assert months_between(dt.date(2024, 1, 31), dt.date(2024, 2, 29)) == 0
    assert months_between(dt.date(2024, 1, 31), dt.date(2024, 3, 1)) == 1
    assert months_between(dt.date(2024, 11, 20), TODAY) == 24
    assert months_between(dt.date(2024, 11, 21), TODAY) == 23


def test_stale_months_setting():
    # The threshold is a plain argument (default 24); KB_STALE_MONTHS is read by kb.settings.
    from kb.settings import load_settings

    assert insights.DEFAULT_STALE_MONTHS == load_settings({}).stale_months == 24
    assert load_settings({"KB_STALE_MONTHS": "18"}).stale_months == 18


# -- which stories are used --------------------------------------------------------------


def test_never_shown_never_opened_and_most_opened(tmp_path):
    log = SearchLog(tmp_path / "kb.sqlite3", clock=Clock(), retention=0)
    meta = {cid: {"title": cid.title(), "status": "published"} for cid in ("a", "b", "c", "d")}
    meta["e"] = {"title": "E", "status": "draft"}
    one = log.record_search("q1", {}, {}, [("a", 2.0), ("b", 1.0)], weak=False, user="u")
    two = log.record_search("q2", {}, {}, [("a", 2.0), ("e", 1.0)], weak=False, user="u")
    log.record_open(one, "a", "u")
    log.record_open(two, "a", "u")
    log.record_open(None, "c", "v")
    activity = case_activity(meta, log.searches(), log.opens())
    assert [c.id for c in activity.never_shown] == ["c", "d"]
    assert [c.id for c in activity.never_opened] == ["b", "d"]
    assert [(c.id, c.opened, c.opened_from_search, c.shown) for c in activity.most_opened] == [
        ("a", 2, 2, 2), ("c", 1, 0, 0)]


def test_the_seeded_log_shows_its_most_opened_story(seeded, knowledge_base):
    activity = case_activity(knowledge_base.version.doc_meta, seeded.searches(), seeded.opens())
    assert [(c.id, c.opened) for c in activity.most_opened] == [
        ("harbourview-savings-bank", 3), ("northgate-grocers", 1), ("riverside-community-health", 1)]
    shown = {case_id for s in seeded.searches() for case_id, _ in s.results}
    assert {c.id for c in activity.never_shown} == set(insights.published_cases(
        knowledge_base.version.doc_meta)) - shown
    assert "atlas-reinsurance-partners" not in {c.id for c in activity.never_opened}


# -- searches over time ------------------------------------------------------------------


def _logged(query, at=NOW, weak=True):
    from kb.searchlog import LoggedSearch

    return LoggedSearch(id=int(at), at=at, user=None, query=query, filters={}, profile={}, mode="hybrid",
                        results=[], weak=weak)


def test_timeline_counts_days_weak_and_strong_with_empty_days():
    rows = [_logged("a", NOW - 2 * DAY), _logged("b", NOW - 2 * DAY, weak=False), _logged("c", NOW)]
    bucket, buckets = timeline(rows, TODAY)
    assert bucket == "day"
    assert [(b.start, b.searches, b.weak, b.strong) for b in buckets] == [
        ("2026-11-18", 2, 1, 1), ("2026-11-19", 0, 0, 0), ("2026-11-20", 1, 1, 0)]


def test_timeline_uses_weeks_from_monday_over_a_longer_period():
    rows = [_logged("a", NOW - 40 * DAY), _logged("b", NOW)]
    bucket, buckets = timeline(rows, TODAY)
    assert bucket == "week"
    assert buckets[0].start == "2026-10-05" and buckets[-1].start == "2026-11-16"
    assert len(buckets) == 7 and sum(b.searches for b in buckets) == 2
    assert timeline([], TODAY) == ("day", [])


# -- the whole report --------------------------------------------------------------------


def test_report_has_every_section(seeded, knowledge_base, embedder):
    report = build_report(seeded, knowledge_base.version, embedder, now=NOW, months=24, top=5)
    data = report.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["totals"] == {"searches": 26, "weak": 16, "strong": 10, "opens": 5, "users": 4, "cases": 12}
    assert data["top_searches"][0]["count"] == 4
    assert len(data["weak_groups"]) == 5 and data["weak_groups"][0]["size"] >= 3
    assert [table["title"] for table in data["coverage"]] == ["Industry × journey stage", "Company size × region"]
    assert data["stale"][0]["id"] == "alder-community-credit-union"
    assert data["most_opened"][0]["id"] == "harbourview-savings-bank"
    assert data["bucket"] == "day" and sum(b["searches"] for b in data["timeline"]) == 26
    assert data["timeline"][-1]["start"] == "2026-11-20"
    since = build_report(seeded, knowledge_base.version, embedder, now=NOW, since_days=1)
    assert since.totals["searches"] == 0 and since.notes


@pytest.fixture
def share_model(embedder):
    """What ``runner.invoke(..., obj=share_model)`` hands the commands: assemblies sharing the loaded model."""
    from kb.assembly import Assembly

    return lambda settings: Assembly(settings, embedder=embedder)


@pytest.fixture
def cli_env(seeded, small_settings):
    env = {"KB_DATA": str(seeded.path.parent), "KB_INDEX": str(small_settings.index_path),
           "KB_CASES": str(small_settings.cases_dir), "KB_STALE_MONTHS": "24"}
    return env


def test_report_command_prints_every_section(runner, cli_env, share_model):
    result = runner.invoke(cli, ["insights", "report", "--top", "3"], env=cli_env, obj=share_model)
    assert result.exit_code == 0, result.output
    out = result.output
    for heading in ("Most frequent searches", "Stories to write next", "Coverage: Industry × journey stage",
                    "Coverage: Company size × region", "Stale stories: published 24 months ago or more",
                    "Never in a search's top results", "Never opened", "Most opened stories", "Searches per "):
        assert heading in out
    assert "26 searches (16 with no strong match), 5 stories opened" in out
    assert re.search(r"^ +4 +0 +4  2026-10-31  regional bank losing deposits to fintech apps$", out, re.M)
    assert re.search(r'^  1\. "[^"]+"  \(4 searches, 4 wordings, last 2026-11-01\)$', out, re.M)
    assert re.search(r"^  51-200( +\.){5}$", out, re.M), "the empty row of the size x region table"
    assert "closest story: " in out
    assert "  2021-06-17      65  alder-community-credit-union" in out


def test_report_command_json(runner, cli_env, share_model):
    result = runner.invoke(cli, ["insights", "report", "--json", "--stale-months", "36"], env=cli_env,
                           obj=share_model)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["stale_months"] == 36
    assert [c["id"] for c in data["stale"]][-1] == "copperline-castings"
    assert data["coverage"][1]["counts"][1] == [0, 0, 0, 0, 0]


def test_report_command_without_an_index(runner, tmp_path):
    result = runner.invoke(cli, ["insights", "report", "--index", str(tmp_path / "none")],
                           env={"KB_DATA": str(tmp_path)})
    assert result.exit_code == 1
    assert "kb index" in result.output


def test_export_command_writes_the_seeded_log(runner, cli_env, seeded, tmp_path):
    out = tmp_path / "searches.csv"
    result = runner.invoke(cli, ["insights", "export", "--out", str(out)], env=cli_env)
    assert result.exit_code == 0, result.output
    with open(out, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 26
    bank = [r for r in rows if r["opened"] == "harbourview-savings-bank"]
    assert len(bank) == 3 and all(r["result_ids"].split()[0] == "harbourview-savings-bank" for r in bank)
    assert {r["weak"] for r in rows if r["query"] in NOISE} == {"true"}


def test_seed_demo_runs_real_searches_as_the_demo_user(tmp_path, knowledge_base):
    log = SearchLog(tmp_path / "kb.sqlite3", retention=0)
    counts = seed_demo(log, knowledge_base, count=12, days=10, seed=3, now=NOW)
    rows = list(log.searches())
    assert counts["searches"] == len(rows) == 12
    assert counts["weak"] == sum(r.weak for r in rows)
    assert {r.user for r in rows} == {DEMO_USER} and all(r.results for r in rows)
    assert all(NOW - 10 * DAY <= r.at <= NOW for r in rows)
    assert counts["opens"] == len(list(log.opens()))
    assert log.remove_user(DEMO_USER) == (12, counts["opens"])
    assert log.counts() == {"searches": 0, "weak": 0, "opens": 0}


# -- charts ------------------------------------------------------------------------------

ALLOWED_TAGS = {"svg", "title", "desc", "defs", "pattern", "rect", "line", "text", "g"}


def _payloads(count=12):
    lines = (SECURITY / "xss-payloads.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip()][:count]


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    for element in root.iter():
        tag = element.tag.split("}")[-1]
        assert tag in ALLOWED_TAGS, f"unexpected element {tag}"
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), f"event handler attribute {name}"
            assert "javascript:" not in value.lower()
    return root


def test_heatmap_escapes_labels_from_cases(knowledge_base):
    payloads = _payloads()
    table = CoverageTable(title="Industry <b>× stage</b>", row_field="industry", column_field="region",
                          rows=payloads[:6], columns=payloads[6:9], column_labels=payloads[6:9],
                          counts=[[n % 3 for n in range(r, r + 3)] for r in range(6)],
                          cases=[[[payloads[9]] * (n % 3) for n in range(r, r + 3)] for r in range(6)])
    svg = heatmap_svg(table)
    root = _parse(svg)
    texts = [t for e in root.iter() for t in (e.text, e.get("aria-label")) if t]
    assert any(payloads[0] in t for t in texts)  # shown as text, not markup
    assert "<script" not in svg.lower() and "<img" not in svg.lower()
    assert root.get("role") == "img" and "empty combinations" in root.get("aria-label")
    assert svg.count('class="kb-cell kb-empty"') == table.empty


def test_heatmap_marks_empty_cells(knowledge_base):
    table = coverage_tables(knowledge_base.version.doc_meta)[1]
    svg = heatmap_svg(table)
    root = _parse(svg)
    ns = "{http://www.w3.org/2000/svg}"
    empty = [g for g in root.iter(f"{ns}g") if g.get("class") == "kb-cell kb-empty"]
    assert len(empty) == table.empty == 18
    assert empty[0].find(f"{ns}title").text.endswith("no story yet")
    assert empty[0].find(f"{ns}text").text == "0"
    desc = root.find(f"{ns}desc").text
    assert "No story yet for: 1-50 × Europe;" in desc


def test_timeline_chart_escapes_and_describes_itself():
    payload = _payloads(1)[0]
    buckets = [TimeBucket("2026-11-18", 2, 1), TimeBucket(payload, 0, 0), TimeBucket("2026-11-20", 5, 3)]
    svg = timeline_svg(buckets, bucket="day")
    root = _parse(svg)
    assert "<script" not in svg.lower()
    assert root.get("role") == "img"
    assert "7 searches, 4 with no strong match" in root.get("aria-label")
    ns = "{http://www.w3.org/2000/svg}"
    bars = [g for g in root.iter(f"{ns}g") if g.get("class") == "kb-bar"]
    assert [b.find(f"{ns}title").text for b in bars][0] == "day of 2026-11-18: 2 searches, 1 weak, 1 strong"
    assert _parse(timeline_svg([], bucket="week")).get("aria-label").startswith("Searches per week")
