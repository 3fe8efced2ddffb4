"""The search log: recording searches and opens, retention, CSV export, and what it keeps."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sqlite3
from types import SimpleNamespace

import pytest

from kb.cli import cli
from kb.errors import ConfigError
from kb.searchlog import CSV_COLUMNS, DEFAULT_RETENTION_DAYS, OPEN_DEDUP_SECONDS, PruneSchedule, SearchLog
from kb.settings import load_settings

#: 2026-11-20T12:00:00Z
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.timezone.utc).timestamp()
DAY = 86400.0


class Clock:
    """A clock that only moves when told to."""

    def __init__(self, now: float = NOW):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def log(tmp_path, clock):
    log = SearchLog(tmp_path / "kb.sqlite3", clock=clock, retention=180)
    yield log
    log.close()


def test_a_search_is_recorded_with_its_filters_top_ten_results_and_weakness(log):
    results = [(f"case-{n:02d}", 10.0 - n / 3) for n in range(12)]
    search_id = log.record_search("  regional bank,\n deposits   leaking ", {"industry": ("Banking",), "region": []},
                                  {"company_size": "1001-5000", "region": " "}, results, weak=False, user="dana")
    (search,) = log.searches()
    assert search.id == search_id
    assert search.query == "regional bank, deposits leaking"
    assert search.filters == {"industry": ["Banking"]}
    assert search.profile == {"company_size": "1001-5000"}
    assert search.results == [(f"case-{n:02d}", round(10.0 - n / 3, 4)) for n in range(10)]
    assert (search.weak, search.user, search.mode, search.at, search.time) == (
        False, "dana", "hybrid", NOW, "2026-11-20T12:00:00Z")
    assert search.opened == []


def test_a_response_is_weak_when_it_has_no_result_or_only_weak_ones(log):
    from kb.search.engine import Response

    def response(*weak):
        return Response(query="q", facets={}, results=[SimpleNamespace(id=f"c{i}", score=1.0, weak=w)
                                                       for i, w in enumerate(weak)])

    log.record_response(response(True, False))
    log.record_response(response(True, True))
    log.record_response(response())
    assert [s.weak for s in log.searches()] == [False, True, True]
    assert [response(True).all_weak, response().all_weak] == [True, False], "the notice needs results"


def test_a_blank_query_is_refused(log):
    with pytest.raises(ValueError, match="needs its query text"):
        log.record_search(" \n ", {}, {}, [], weak=True)


def test_an_open_is_linked_only_to_an_existing_search_of_the_same_user(log, clock):
    mine = log.record_search("deposits", {}, {}, [("a", 1.0)], weak=False, user="dana")
    anonymous = log.record_search("deposits", {}, {}, [("a", 1.0)], weak=False)
    log.record_open(mine, "a", "dana")
    log.record_open(anonymous, "a", "sam")      # an anonymous search may be anyone's
    log.record_open(mine, "b", "sam")           # someone else's search: logged as a direct open
    log.record_open(999, "c", "dana")           # no such search (pruned, or a made-up link)
    log.record_open("not-a-number", "d", None)  # a junk link parameter
    opens = [(o.search_id, o.case_id, o.user) for o in log.opens()]
    assert opens == [(mine, "a", "dana"), (anonymous, "a", "sam"), (None, "b", "sam"), (None, "c", "dana"),
                     (None, "d", None)]
    assert {s.id: s.opened for s in log.searches()} == {mine: ["a"], anonymous: ["a"]}


def test_reopening_the_same_story_from_the_same_search_soon_after_counts_once(log, clock):
    search_id = log.record_search("deposits", {}, {}, [("a", 1.0)], weak=False, user="dana")
    assert log.record_open(search_id, "a", "dana") is not None
    clock.now += OPEN_DEDUP_SECONDS - 1
    assert log.record_open(search_id, "a", "dana") is None
    clock.now += 2
    assert log.record_open(search_id, "a", "dana") is not None
    # Anonymous direct opens cannot be told apart: each one counts.
    assert log.record_open(None, "a", None) is not None
    assert log.record_open(None, "a", None) is not None
    assert log.counts() == {"searches": 1, "weak": 0, "opens": 4}


def test_prune_deletes_what_is_older_than_the_retention(log, clock):
    old = log.record_search("old", {}, {}, [], weak=True, at=NOW - 200 * DAY)
    log.record_open(old, "a", None, at=NOW - 200 * DAY + 60)
    log.record_search("recent", {}, {}, [], weak=True, at=NOW - 10 * DAY)
    log.record_open(None, "b", None, at=NOW - 10 * DAY)
    assert log.prune() == (1, 1)
    assert [s.query for s in log.searches()] == ["recent"]
    assert log.prune(5) == (1, 1)
    assert log.counts() == {"searches": 0, "weak": 0, "opens": 0}


def test_retention_zero_keeps_everything(tmp_path, clock):
    log = SearchLog(tmp_path / "kb.sqlite3", clock=clock, retention=0)
    log.record_search("ancient", {}, {}, [], weak=True, at=NOW - 5000 * DAY)
    assert log.prune() == (0, 0)
    assert log.counts()["searches"] == 1


def test_recording_prunes_at_most_once_an_hour(tmp_path, clock):
    schedule = PruneSchedule()  # one per database, owned by whoever makes the logs (the app)
    log = SearchLog(tmp_path / "kb.sqlite3", clock=clock, retention=180, schedule=schedule)
    log.record_search("first", {}, {}, [], weak=False)            # prunes (nothing to do yet)
    log.record_search("old", {}, {}, [], weak=False, at=NOW - 181 * DAY)
    clock.now += 3599
    log.record_search("within the hour", {}, {}, [], weak=False)  # no prune: "old" stays
    another = SearchLog(log.path, clock=clock, retention=180, schedule=schedule)  # e.g. the next web request
    another.record_search("same process", {}, {}, [], weak=False)
    another.close()
    assert log.counts()["searches"] == 4
    clock.now += 2
    log.record_search("an hour later", {}, {}, [], weak=False)    # prunes "old"
    assert [s.query for s in log.searches()] == ["first", "within the hour", "same process", "an hour later"]
    log.close()


def test_retention_comes_from_the_environment(tmp_path):
    # The retention is a SearchLog argument (default 180); KB_LOG_RETENTION_DAYS is read by kb.settings.
    assert SearchLog(tmp_path / "kb.sqlite3").retention == DEFAULT_RETENTION_DAYS == 180
    with pytest.raises(ConfigError):
        SearchLog(tmp_path / "kb.sqlite3", retention=-1)
    assert load_settings({}).log_retention_days == DEFAULT_RETENTION_DAYS
    assert load_settings({"KB_LOG_RETENTION_DAYS": "30"}).log_retention_days == 30
    assert load_settings({"KB_LOG_RETENTION_DAYS": "0"}).log_retention_days == 0
    for bad in ("-1", "soon", "1.5"):
        with pytest.raises(ConfigError) as caught:
            load_settings({"KB_LOG_RETENTION_DAYS": bad})
        assert str(caught.value) == f"KB_LOG_RETENTION_DAYS must be a whole number, 0 or more (got {bad!r})"


def test_the_log_keeps_no_personal_data_beyond_the_user_name(log):
    log.record_search("deposits", {}, {}, [], weak=False, user="dana")
    db = sqlite3.connect(log.path)
    columns = {table: [row[1] for row in db.execute(f"PRAGMA table_info({table})")] for table in ("searches", "opens")}
    db.close()
    assert columns == {
        "searches": ["id", "at", "user", "query", "filters", "profile", "mode", "results", "weak"],
        "opens": ["id", "at", "search_id", "case_id", "user"],
    }


def test_export_writes_one_exact_csv_row_per_search(log, clock):
    first = log.record_search("Deposits, leaking \"fast\"", {"industry": ["Banking", "Retail"]},
                              {"region": "Nordics"}, [("harbourview", 7.84123), ("baltic", 3.5)], weak=False,
                              user="dana")
    log.record_open(first, "harbourview", "dana", at=NOW + 30)
    log.record_open(first, "baltic", "dana", at=NOW + 60)
    log.record_search("=HYPERLINK(\"http://evil\")", {}, {}, [("x", 0.1)], weak=True, at=NOW + 3600)
    out = io.StringIO(newline="")
    assert log.export_csv(out) == 2
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert rows == [
        list(CSV_COLUMNS),
        [str(first), "2026-11-20T12:00:00Z", "dana", "Deposits, leaking \"fast\"",
         '{"industry":["Banking","Retail"]}', '{"region":"Nordics"}', "hybrid", "false", "harbourview baltic",
         "7.8412 3.5", "harbourview baltic"],
        [str(first + 1), "2026-11-20T13:00:00Z", "", "'=HYPERLINK(\"http://evil\")", "{}", "{}", "hybrid", "true",
         "x", "0.1", ""],
    ]
    assert out.getvalue().count("\r\n") == 3


def test_export_and_prune_commands(runner, tmp_path):
    env = {"KB_DATA": str(tmp_path / "data"), "KB_LOG_RETENTION_DAYS": "30"}
    log = SearchLog(tmp_path / "data" / "kb.sqlite3", retention=0)
    now = log._clock()
    log.record_search("kept", {}, {}, [("a", 1.0)], weak=False, user="dana", at=now - 3 * DAY)
    log.record_search("old", {}, {}, [("a", 1.0)], weak=True, at=now - 40 * DAY)
    log.close()

    result = runner.invoke(cli, ["insights", "export", "--out", str(tmp_path / "log.csv"), "--since", "7"], env=env)
    assert result.exit_code == 0, result.output
    assert result.stderr == f"wrote 1 search to {tmp_path / 'log.csv'}\n"
    with open(tmp_path / "log.csv", encoding="utf-8", newline="") as handle:
        assert [row["query"] for row in csv.DictReader(handle)] == ["kept"]

    result = runner.invoke(cli, ["insights", "export", "--out", "-"], env=env)
    assert [row["query"] for row in csv.DictReader(io.StringIO(result.stdout))] == ["old", "kept"]

    result = runner.invoke(cli, ["insights", "prune"], env=env)
    assert (result.exit_code, result.output) == (0, "removed 1 search and 0 opens older than 30 days\n")
    result = runner.invoke(cli, ["insights", "prune", "--days", "1"], env=env)
    assert (result.exit_code, result.output) == (0, "removed 1 search and 0 opens older than 1 day\n")
    result = runner.invoke(cli, ["insights", "prune"], env={**env, "KB_LOG_RETENTION_DAYS": "never"})
    assert result.exit_code == 1
    assert "KB_LOG_RETENTION_DAYS must be a whole number, 0 or more (got 'never')" in result.output
