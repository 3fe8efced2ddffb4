"""Issue #15, item 6: the insights cost must not grow with a log anyone can fill.

A report does bounded work however many searches were logged (the log is counted in SQL, at
most a fixed number of wordings is embedded and clustered, each wording is embedded once),
a finished report is reused until a search is logged, and the web logs at most a set number
of searches per client and minute, and anonymous visitors' searches only when allowed.

Work is counted (texts embedded, wordings clustered, reports built), never timed.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import threading
import time
import zlib

import numpy as np
import pytest

from kb import insights
from kb.errors import ConfigError
from kb.insights import build_report
from kb.searchlog import SearchLog
from tests.web_fixtures import (  # noqa: F401
    SECRET_KEY,
    add_users,
    login,
    seed_search_log,
    web_kb,
    web_settings,
)

#: 2026-11-20T12:00:00Z
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.timezone.utc).timestamp()
DAY = 86400.0
#: Searches in the flooded log.
FLOOD = 20_000
#: Most distinct wordings a report may embed or cluster (the design allows 300 to 500).
BOUND = 500
#: A situation no story tells, searched again and again among the flood: it must stay first.
GAP = "hospital pharmacy drug shortages"
GAP_TIMES = 40


class Clock:
    def __init__(self, now: float = NOW):
        self.now = now

    def __call__(self) -> float:
        return self.now


class CountingEmbedder:
    """Hashed bag-of-words vectors (fast and deterministic), recording every text it embeds."""

    name = "hashed-words-for-tests"

    def __init__(self, dimension: int, delay: float = 0.0):
        self.dimension = dimension
        self.delay = delay
        self.embedded: list[str] = []

    def encode(self, texts):
        self.embedded.extend(texts)
        time.sleep(self.delay)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                vectors[row, zlib.crc32(word.encode()) % self.dimension] += 1.0
            norm = np.linalg.norm(vectors[row])
            if norm:
                vectors[row] /= norm
            else:
                vectors[row, 0] = 1.0
        return vectors


def _flood(log: SearchLog) -> None:
    """FLOOD searches written straight into the table: nearly all one-off gibberish wordings
    with no strong match (what anyone with a script can send), GAP many times, and a strong
    search now and then."""
    rng = random.Random(15)
    syllables = ["ka", "lo", "mi", "ner", "sto", "va", "quel", "dri", "pon", "zu", "tha", "bex"]
    words = sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(3000)})
    results = json.dumps([["harbourview-savings-bank", 0.31], ["northgate-grocers", 0.22]])
    rows = []
    for n in range(FLOOD - GAP_TIMES):
        at = NOW - rng.uniform(0, 100) * DAY
        if n % 50 == 0:
            rows.append((at, "sam", "regional bank losing deposits to fintech apps", results, 0))
        else:
            rows.append((at, None, " ".join(rng.choice(words) for _ in range(rng.randint(3, 6))), results, 1))
    for n in range(GAP_TIMES):
        rows.append((NOW - n * DAY, f"seller{n % 3}", GAP, results, 1))
    log.db.execute("BEGIN")
    log.db.executemany("INSERT INTO searches (at, user, query, results, weak) VALUES (?, ?, ?, ?, ?)", rows)
    log.db.execute("COMMIT")


@pytest.fixture
def flooded(tmp_path):
    log = SearchLog(tmp_path / "kb.sqlite3", clock=Clock(), retention=0)
    _flood(log)
    yield log
    log.close()


@pytest.fixture
def counting(knowledge_base):
    return CountingEmbedder(knowledge_base.version.dimension)


def _clustered(monkeypatch) -> list[int]:
    """Record how many wordings each clustering is given."""
    sizes: list[int] = []
    cluster = insights.cluster_vectors

    def spy(vectors, *args, **kwargs):
        sizes.append(len(vectors))
        return cluster(vectors, *args, **kwargs)

    monkeypatch.setattr("kb.insights.gaps.cluster_vectors", spy)  # where weak_groups looks it up
    return sizes


def _count_builds(monkeypatch) -> list[int]:
    """Record each report built (by the ReportCache, in kb.insights.cache)."""
    builds: list[int] = []
    build = insights.build_report
    monkeypatch.setattr("kb.insights.cache.build_report", lambda *a, **k: builds.append(1) or build(*a, **k))
    return builds


# -- bounded work per report -------------------------------------------------------------


def test_a_report_over_a_flooded_log_embeds_a_bounded_number_of_wordings(flooded, knowledge_base, counting):
    assert flooded.counts()["searches"] == FLOOD
    report = build_report(flooded, knowledge_base.version, counting, now=NOW, since_days=3650, top=20)
    assert 0 < len(counting.embedded) <= BOUND
    assert len(set(counting.embedded)) == len(counting.embedded)  # each wording once
    assert report.totals["searches"] == FLOOD
    first = report.weak_groups[0]  # the most frequent gap survives the flood
    assert (first.example, first.size, first.users) == (GAP, GAP_TIMES, 3)
    assert first.nearest_case is not None and first.nearest_case["id"] != "atlas-reinsurance-partners"
    assert len(report.weak_groups) == 20
    assert any("most frequent of the" in note for note in report.notes)


def test_a_report_over_a_flooded_log_clusters_a_bounded_number_of_wordings(flooded, knowledge_base, counting,
                                                                           monkeypatch):
    sizes = _clustered(monkeypatch)
    build_report(flooded, knowledge_base.version, counting, now=NOW, since_days=3650)
    assert len(sizes) == 1 and 0 < sizes[0] <= BOUND


def test_a_report_counts_the_log_in_sql_rather_than_reading_every_search(flooded, knowledge_base, counting,
                                                                        monkeypatch):
    def every_search(self, since=None):
        raise AssertionError("the report read the log search by search")

    monkeypatch.setattr(SearchLog, "searches", every_search)
    monkeypatch.setattr(SearchLog, "opens", every_search)
    report = build_report(flooded, knowledge_base.version, counting, now=NOW, since_days=3650)
    assert report.totals["searches"] == FLOOD
    assert sum(b.searches for b in report.timeline) == FLOOD
    assert report.top_searches[0].count == len(range(0, FLOOD - GAP_TIMES, 50))


def test_a_wording_is_embedded_once_whatever_the_reports(flooded, knowledge_base, counting, monkeypatch):
    build_report(flooded, knowledge_base.version, counting, now=NOW, since_days=3650)
    first = len(counting.embedded)
    assert first
    again = SearchLog(flooded.path, clock=Clock(), retention=0)  # another process, another day
    try:
        sizes = _clustered(monkeypatch)
        build_report(again, knowledge_base.version, counting, now=NOW + 60, since_days=3650)
        assert len(counting.embedded) == first, "a second report embedded wordings already embedded"
        assert sizes and sizes[0] <= BOUND
        for n in range(GAP_TIMES + 1):  # a new situation, searched more than any other
            again.record_search("airline crew scheduling", {}, {}, [], weak=True, user="sam", at=NOW + n)
        report = build_report(again, knowledge_base.version, counting, now=NOW + 120, since_days=3650)
    finally:
        again.close()
    assert counting.embedded[first:] == ["airline crew scheduling"]
    assert report.weak_groups[0].example == "airline crew scheduling"


def test_cached_vectors_are_bounded_and_pruned_with_the_log(tmp_path, monkeypatch):
    clock = Clock()
    log = SearchLog(tmp_path / "kb.sqlite3", clock=clock, retention=30)
    monkeypatch.setattr("kb.searchlog.vectors.MAX_CACHED_VECTORS", 5)
    vector = np.ones(4, dtype="<f4").tobytes()
    for n in range(8):
        clock.now = NOW + n
        log.store_vectors("model", {f"wording {n}": vector})
    assert sorted(log.cached_vectors("model", [f"wording {n}" for n in range(8)])) == [
        f"wording {n}" for n in range(3, 8)]  # the least recently used went first
    assert log.cached_vectors("other model", ["wording 7"]) == {}
    clock.now = NOW + 31 * DAY
    log.prune()
    assert log.cached_vectors("model", ["wording 7"]) == {}
    log.close()


# -- the finished report is reused -------------------------------------------------------


def test_a_second_load_with_no_new_search_reuses_the_report(flooded, knowledge_base, counting, monkeypatch):
    from kb.insights import ReportCache

    builds = _count_builds(monkeypatch)
    clock = Clock()
    cache = ReportCache(clock=clock)
    first = cache.report(flooded, knowledge_base.version, counting, since_days=3650, months=24, top=20)
    embedded = len(counting.embedded)
    clock.now += 10
    assert cache.report(flooded, knowledge_base.version, counting, since_days=3650, months=24, top=20) is first
    assert len(counting.embedded) == embedded and len(builds) == 1
    assert cache.report(flooded, knowledge_base.version, counting, since_days=90, months=24, top=20) is not first

    flooded.record_search("ferry operator fuel costs", {}, {}, [], weak=True, at=clock.now)
    fresh = cache.report(flooded, knowledge_base.version, counting, since_days=3650, months=24, top=20)
    assert fresh is not first and fresh.totals["searches"] == first.totals["searches"] + 1
    assert counting.embedded[embedded:] == ["ferry operator fuel costs"]  # only the new wording

    clock.now += insights.REPORT_MAX_AGE + 1  # the period and "today" move on: rebuilt, nothing embedded
    embedded = len(counting.embedded)
    later = cache.report(flooded, knowledge_base.version, counting, since_days=3650, months=24, top=20)
    assert later is not fresh and len(counting.embedded) == embedded


def test_loads_at_once_build_the_report_once(tmp_path, knowledge_base, monkeypatch):
    from kb.insights import ReportCache

    path = tmp_path / "kb.sqlite3"
    setup = SearchLog(path, retention=0)
    setup.record_search(GAP, {}, {}, [], weak=True, user="sam")
    setup.close()
    builds = _count_builds(monkeypatch)
    cache = ReportCache()
    embedder = CountingEmbedder(knowledge_base.version.dimension, delay=0.3)
    reports = []

    def load():
        log = SearchLog(path, retention=0)  # one per thread, as the web does
        try:
            reports.append(cache.report(log, knowledge_base.version, embedder, since_days=90, months=24))
        finally:
            log.close()

    threads = [threading.Thread(target=load) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(reports) == 3 and len(builds) == 1
    assert reports[0] is reports[1] is reports[2]
    assert embedder.embedded == [GAP]


# -- the web: the cache, the rate limit, anonymous visitors ------------------------------


def _app(web_settings, web_kb, tmp_path, **config):
    from webui import create_app

    app = create_app({"KB_SETTINGS": web_settings, "SECRET_KEY": SECRET_KEY, "TESTING": True,
                      "KB_KNOWLEDGE_BASE": web_kb, "KB_DATABASE": tmp_path / "kb.sqlite3",
                      "KB_STALE_MONTHS": 24, "KB_LOG_RETENTION_DAYS": 0, **config})
    add_users(app)
    return app


def _searches(app) -> list:
    log = SearchLog(app.config["KB_DATABASE"], retention=0)
    try:
        return list(log.searches())
    finally:
        log.close()


def _opens(app) -> list:
    log = SearchLog(app.config["KB_DATABASE"], retention=0)
    try:
        return list(log.opens())
    finally:
        log.close()


def _signed_in(app, name: str):
    client = app.test_client()
    assert login(client, name).status_code == 302
    return client


@pytest.mark.slow
def test_the_insights_page_reuses_its_report_until_a_search_is_logged(web_settings, web_kb, tmp_path, monkeypatch):
    app = _app(web_settings, web_kb, tmp_path)
    log = SearchLog(app.config["KB_DATABASE"], retention=0)
    seed_search_log(log, web_kb, time.time())
    log.close()
    builds = _count_builds(monkeypatch)
    marketer = _signed_in(app, "mia")
    first = marketer.get("/api/insights", query_string={"since": 3650}).get_json()
    assert marketer.get("/api/insights", query_string={"since": 3650}).get_json() == first
    assert marketer.get("/insights", query_string={"since": 3650}).status_code == 200  # the same report
    assert len(builds) == 1
    app.test_client().get("/api/search", query_string={"q": "ferry operator fuel costs"})
    fresh = marketer.get("/api/insights", query_string={"since": 3650}).get_json()
    assert len(builds) == 2 and fresh["totals"]["searches"] == first["totals"]["searches"] + 1


@pytest.mark.slow
def test_searches_beyond_the_rate_limit_are_answered_but_not_logged(web_settings, web_kb, tmp_path):
    app = _app(web_settings, web_kb, tmp_path, KB_LOG_SEARCHES_PER_MINUTE=3)
    visitor = app.test_client()
    answers = [visitor.get("/api/search", query_string={"q": f"border crossing delays {n}"}) for n in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert all(a.get_json()["results"] for a in answers)
    ids = [a.get_json()["search_id"] for a in answers]
    assert all(isinstance(i, int) for i in ids[:3]) and ids[3:] == [None, None]
    page = visitor.get("/", query_string={"q": "border crossing delays"})
    assert page.status_code == 200 and "/cases/" in page.get_data(as_text=True)
    assert "sid=" not in page.get_data(as_text=True)  # answered, not logged
    assert len(_searches(app)) == 3

    other = app.test_client().get("/api/search", query_string={"q": "border crossing delays"},
                                  environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert isinstance(other.get_json()["search_id"], int)  # another client has its own budget
    seller = _signed_in(app, "sam")  # from the same address, but counted under the user's name
    assert isinstance(seller.get("/api/search", query_string={"q": "border delays"}).get_json()["search_id"], int)
    assert [s.user for s in _searches(app)] == [None, None, None, None, "sam"]

    for _ in range(5):
        assert visitor.get("/cases/andes-cargo").status_code == 200
    assert len(_opens(app)) == 3  # opens have the same limit


@pytest.mark.slow
def test_anonymous_searches_are_not_logged_when_switched_off(web_settings, web_kb, tmp_path):
    app = _app(web_settings, web_kb, tmp_path, KB_LOG_ANONYMOUS=False)
    visitor = app.test_client()
    api = visitor.get("/api/search", query_string={"q": "border crossing delays"})
    assert api.status_code == 200 and api.get_json()["results"] and api.get_json()["search_id"] is None
    page = visitor.get("/", query_string={"q": "border crossing delays"}).get_data(as_text=True)
    assert "/cases/andes-cargo" in page and "sid=" not in page
    assert visitor.get("/cases/andes-cargo").status_code == 200
    assert _searches(app) == [] and _opens(app) == []

    seller = _signed_in(app, "sam")
    assert isinstance(seller.get("/api/search", query_string={"q": "border delays"}).get_json()["search_id"], int)
    seller.get("/cases/andes-cargo")
    assert [s.user for s in _searches(app)] == ["sam"] and [o.user for o in _opens(app)] == ["sam"]


# -- the settings and the limiter --------------------------------------------------------


@pytest.mark.parametrize("prod, environ, rate, anonymous", [
    (False, {}, 30, True),
    (True, {}, 30, False),
    (False, {"KB_LOG_SEARCHES_PER_MINUTE": "5", "KB_LOG_ANONYMOUS": "off"}, 5, False),
    (True, {"KB_LOG_SEARCHES_PER_MINUTE": "0", "KB_LOG_ANONYMOUS": "yes"}, 0, True),
])
def test_logging_settings(tmp_path, prod, environ, rate, anonymous):
    from kb.settings import Settings
    from webui.config import web_config

    settings = Settings(cases_dir=tmp_path / "cases", data_dir=tmp_path / "data")
    config = web_config(prod=prod, settings=settings, environ={"KB_SECRET_KEY": "k", **environ})
    assert (config["KB_LOG_SEARCHES_PER_MINUTE"], config["KB_LOG_ANONYMOUS"]) == (rate, anonymous)


@pytest.mark.parametrize("environ, message", [
    ({"KB_LOG_SEARCHES_PER_MINUTE": "-1"}, "KB_LOG_SEARCHES_PER_MINUTE must be a whole number, 0 or more (got '-1')"),
    ({"KB_LOG_SEARCHES_PER_MINUTE": "lots"},
     "KB_LOG_SEARCHES_PER_MINUTE must be a whole number, 0 or more (got 'lots')"),
    ({"KB_LOG_ANONYMOUS": "sometimes"}, "KB_LOG_ANONYMOUS must be one of 1, true, yes, on (on) or 0, false, no, "
                                        "off (off), not 'sometimes'"),
])
def test_bad_logging_settings_name_the_variable(tmp_path, environ, message):
    from kb.settings import Settings
    from webui.config import web_config

    settings = Settings(cases_dir=tmp_path / "cases", data_dir=tmp_path / "data")
    with pytest.raises(ConfigError) as caught:
        web_config(settings=settings, environ={"KB_SECRET_KEY": "k", **environ})
    assert str(caught.value) == message


def test_the_rate_limiter_allows_a_set_number_per_window():
    from kb.searchlog import RateLimiter

    clock = Clock(0.0)
    limiter = RateLimiter(3, window=60, clock=clock)
    assert [limiter.allow("a") for _ in range(5)] == [True, True, True, False, False]
    assert limiter.allow("b")
    clock.now = 59.9
    assert not limiter.allow("a")
    clock.now = 60.1  # the first three are a window old
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    unlimited = RateLimiter(0)
    assert all(unlimited.allow("a") for _ in range(1000)) and len(unlimited) == 0


def test_the_rate_limiter_memory_is_bounded_however_many_clients():
    from kb.searchlog import RateLimiter

    clock = Clock(0.0)
    limiter = RateLimiter(30, window=60, max_clients=100, clock=clock)
    allowed = [limiter.allow(f"10.0.{n // 256}.{n % 256}") for n in range(5000)]
    assert len(limiter) == 100
    assert allowed[:100] == [True] * 100 and not any(allowed[100:])  # the table is full of active clients
    assert limiter.allow("10.0.0.1")  # a tracked client keeps its budget
    clock.now = 61.0  # they went quiet: new clients take their place
    assert all(limiter.allow(f"192.0.2.{n}") for n in range(100))
    assert len(limiter) == 100
