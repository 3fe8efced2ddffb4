"""Insights for marketers: what sellers search for, what they don't find, which stories are
missing or stale.

Pure functions over the search log (:mod:`kb.searchlog`), the index's case metadata
(``version.doc_meta``) and, for grouping searches by meaning, the embedding model. Each
returns plain dataclasses (with ``to_dict()``) that a CLI table, a template and JSON can all
use; :func:`build_report` runs them all. See docs/insights.md for what each section means.

The work of a report is bounded whatever the size of the log: the log is counted in SQL
(per query text and user, per day, per case), at most :data:`MAX_GROUPED_QUERIES` distinct
weak wordings are grouped, each wording is embedded once per model (:class:`CachedEmbedder`,
vectors kept in the database), and :class:`ReportCache` reuses a finished report until the
log or the index changes.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sqlite3
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from kb.cases import SIZE_BANDS
from kb.searchlog import (DEMO_USER, LoggedOpen, LoggedSearch, QueryTally, SearchLog, iso_time,
                          whole_number_setting)
from kb.stages import STAGES
from kb.visibility import is_draft

#: Months after which a published story counts as stale when KB_STALE_MONTHS is not set.
DEFAULT_STALE_MONTHS = 24
#: Two groups of weak searches merge while their average cosine similarity is at least this.
GROUP_SIMILARITY = 0.45
#: Most distinct weak wordings grouped (the most frequent ones): bounds the embedding and
#: the clustering of a report, however many searches were logged.
MAX_GROUPED_QUERIES = 400
#: Finished reports a :class:`ReportCache` keeps, and for how many seconds at most (the
#: period's start and "today" move on; a new search or index version replaces it at once).
REPORT_CACHE_SIZE = 16
REPORT_MAX_AGE = 300.0
#: Label of a missing attribute in the coverage tables.
NOT_SET = "(not set)"

_DAY = 86400.0


def stale_months(environ: Mapping[str, str] | None = None) -> int:
    """Months after which a story is stale: ``KB_STALE_MONTHS``, default 24.

    Raises:
        ConfigError: The variable is not a whole number.
    """
    environ = os.environ if environ is None else environ
    return whole_number_setting(environ, "KB_STALE_MONTHS", DEFAULT_STALE_MONTHS)


def normalize_query(text: str) -> str:
    """The form searches are counted under: casefolded, whitespace collapsed."""
    return " ".join(text.casefold().split())


def published_cases(doc_meta: Mapping[str, Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """The cases sellers can find (drafts left out), by id."""
    return {case_id: meta for case_id, meta in sorted(doc_meta.items()) if not is_draft(meta)}


# -- what sellers search for -------------------------------------------------------------


@dataclass(frozen=True)
class TopSearch:
    """A search text and how often it was run.

    Attributes:
        text: The wording typed most often (searches are counted casefolded, spaces collapsed).
        count: Times it was searched.
        weak: Of those, times it found no strong match.
        users: Distinct signed-in users who searched it.
        last_seen: When it was last searched (UTC, ISO 8601).
    """

    text: str
    count: int
    weak: int
    users: int
    last_seen: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def tally(searches: Iterable[LoggedSearch | QueryTally]) -> list[QueryTally]:
    """Searches counted per query text and user, as :meth:`SearchLog.tallies` counts them in
    SQL (tallies given are kept as they are)."""
    tallies: list[QueryTally] = []
    rows: dict[tuple[str, str | None], dict[str, Any]] = {}
    for search in searches:
        if isinstance(search, QueryTally):
            tallies.append(search)
            continue
        last = (search.at, search.id)
        row = rows.setdefault((search.query, search.user), {"count": 0, "weak": 0, "last": last, "last_weak": None})
        row["count"] += 1
        row["last"] = max(row["last"], last)
        if search.weak:
            row["weak"] += 1
            row["last_weak"] = last if row["last_weak"] is None else max(row["last_weak"], last)
    tallies.extend(QueryTally(query, user, row["count"], row["weak"], *row["last"], *(row["last_weak"] or (None, None)))
                   for (query, user), row in rows.items())
    return tallies


def top_searches(searches: Iterable[LoggedSearch | QueryTally], limit: int = 20) -> list[TopSearch]:
    """The most frequent searches, most frequent first (ties: most recent first).

    Args:
        searches: Logged searches, or their tallies (:meth:`SearchLog.tallies`).
    """
    groups: dict[str, list[QueryTally]] = {}
    for item in tally(searches):
        groups.setdefault(normalize_query(item.query), []).append(item)
    ranked = sorted(((sum(t.count for t in items), max(t.last_at for t in items), items) for items in groups.values()),
                    key=lambda row: (-row[0], -row[1]))
    if limit <= 0:
        return []
    cut = min(limit, len(ranked))  # the rows to show, and those tied with the last one (the wording decides)
    while cut < len(ranked) and ranked[cut][:2] == ranked[limit - 1][:2]:
        cut += 1
    rows = [(last, TopSearch(text=_wording(items), count=count, weak=sum(t.weak for t in items),
                             users=len({t.user for t in items if t.user}), last_seen=iso_time(last)))
            for count, last, items in ranked[:cut]]
    rows.sort(key=lambda row: (-row[1].count, -row[0], row[1].text))
    return [row for _, row in rows[:limit]]


def _wording(items: Sequence[QueryTally], weak: bool = False) -> str:
    """The wording typed most often (ties: the most recent), of the weak searches only when ``weak``."""
    counts: Counter[str] = Counter()
    latest: dict[str, tuple] = {}
    for t in items:
        counts[t.query] += t.weak if weak else t.count
        last = (t.last_weak_at, t.last_weak_id) if weak else (t.last_at, t.last_id)
        if last[0] is not None:
            latest[t.query] = max(latest.get(t.query, last), last)
    return max((text for text in counts if counts[text]), key=lambda text: (counts[text], latest[text]))


# -- what they don't find ----------------------------------------------------------------


@dataclass(frozen=True)
class WeakGroup:
    """Searches with no strong match that mean the same thing: a story to write next.

    Attributes:
        size: Searches in the group (repeats included).
        queries: Distinct wordings in the group.
        example: The wording closest to the group's centre.
        examples: Other wordings, closest to the centre first (at most four).
        users: Distinct signed-in users who searched it.
        last_seen: When one of them was last searched.
        nearest_case: The published story closest to the group's centre, with its similarity
            (what we have, and how far it is), or None when the index is empty.
    """

    size: int
    queries: int
    example: str
    examples: list[str]
    users: int
    last_seen: str
    nearest_case: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def weak_groups(searches: Iterable[LoggedSearch | QueryTally], embedder, version=None,
                threshold: float = GROUP_SIMILARITY, max_queries: int = MAX_GROUPED_QUERIES,
                limit: int | None = None) -> list[WeakGroup]:
    """Group the searches that found no strong match by meaning, largest group first.

    The distinct weak wordings (normalized as :func:`normalize_query` counts them) are
    embedded with the search model and grouped by average-linkage agglomerative clustering
    on cosine similarity (:func:`cluster_vectors`): the two closest groups merge while their
    average pairwise similarity is at least ``threshold``. This was chosen over k-means
    (``faiss.Kmeans``) because the number of missing stories is what we want to learn, not
    something to pick in advance; because a one-off search stays on its own instead of being
    forced into the nearest group; and because it has no random start, so the same log
    always gives the same groups. Average linkage (rather than single linkage) keeps a chain
    of loosely related searches from collapsing into one group. Clustering is quadratic in
    the wordings, so only the ``max_queries`` most frequent distinct wordings (ties: the most
    recent) are grouped: a flood of one-off wordings cannot make a report slower.

    Args:
        searches: Logged searches or their tallies (:meth:`SearchLog.tallies`); only the
            weak ones are used.
        embedder: Has ``encode(texts)`` returning normalized rows: an :class:`indexer.Embedder`,
            or a :class:`CachedEmbedder` over one.
        version: The live :class:`indexer.IndexVersion`, to name the nearest existing story.
        threshold: Least average cosine similarity within a group.
        max_queries: Most distinct wordings grouped.
        limit: Most groups returned (and looked up in the index); None returns them all.
    """
    by_text: dict[str, list[QueryTally]] = {}
    for item in tally(searches):
        if item.weak:
            by_text.setdefault(normalize_query(item.query), []).append(item)
    if not by_text:
        return []
    size = {key: sum(t.weak for t in items) for key, items in by_text.items()}
    latest = {key: max((t.last_weak_at, t.last_weak_id) for t in items) for key, items in by_text.items()}
    chosen = sorted(by_text, key=lambda key: (-size[key], -latest[key][0], -latest[key][1], key))[:max_queries]
    keys = sorted(chosen)
    vectors = np.asarray(embedder.encode(keys), dtype=np.float32)

    found = []
    for members in cluster_vectors(vectors, threshold):
        centre = vectors[members].mean(axis=0)
        centre /= np.linalg.norm(centre) or 1.0
        order = sorted(members, key=lambda m: (-float(vectors[m] @ centre), keys[m]))
        items = [t for m in members for t in by_text[keys[m]]]
        wordings = [_wording(by_text[keys[m]], weak=True) for m in order]
        found.append((centre, {
            "size": sum(size[keys[m]] for m in members), "queries": len(members), "example": wordings[0],
            "examples": wordings[1:5], "users": len({t.user for t in items if t.user}),
            "last_seen": iso_time(max(t.last_weak_at for t in items if t.last_weak_at is not None))}))
    found.sort(key=lambda g: (-g[1]["size"], -g[1]["queries"], g[1]["example"].casefold()))
    published = _published_passages(version)
    return [WeakGroup(**group, nearest_case=_nearest_case(version, centre, published))
            for centre, group in found[:limit]]


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


def _published_passages(version) -> np.ndarray | None:
    """The passage numbers of published stories, or None when every story is published."""
    if version is None or not len(version.passages):
        return None
    published = np.array([not is_draft(version.doc_meta[doc_id]) for doc_id in version.doc_ids])
    return None if published.all() else np.flatnonzero(published[version.passage_doc])


def _nearest_case(version, centre: np.ndarray, published: np.ndarray | None) -> dict[str, Any] | None:
    """The published story whose best passage is closest to a vector, found by the index's
    own vector search (``version.dense``) among the published passages."""
    if version is None or not len(version.passages):
        return None
    passages, scores = version.dense.search(centre, 1, published)
    if not len(passages):
        return None
    case_id = version.doc_ids[int(version.passage_doc[passages[0]])]
    return {"id": case_id, "title": version.doc_meta[case_id].get("title") or case_id,
            "similarity": round(float(scores[0]), 3)}


class CachedEmbedder:
    """An embedder whose vectors are kept in the search log's database (table
    ``query_vectors``), keyed by the model's name and the text: a wording is embedded once per
    model, however many reports group it.

    Args:
        log: The search log (its database holds the cache).
        embedder: Has ``encode(texts)``; its ``name`` keys the cache (without one, nothing
            is cached).
        model: The cache key of the model, instead of ``embedder.name``.
    """

    def __init__(self, log: SearchLog, embedder, model: str | None = None):
        self.log = log
        self.embedder = embedder
        self.model = model or getattr(embedder, "name", None)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Normalized float32 rows, one per text; only texts never embedded reach the model."""
        texts = list(texts)
        if not self.model or not texts:
            return np.asarray(self.embedder.encode(texts), dtype=np.float32)
        vectors = self._cached(texts)
        missing = [text for text in dict.fromkeys(texts) if text not in vectors]
        if missing:
            new = np.asarray(self.embedder.encode(missing), dtype=np.float32)
            if vectors and new.shape[1] != len(next(iter(vectors.values()))):
                # Cached by a model of another size under the same name: the model changed.
                vectors, missing = {}, list(dict.fromkeys(texts))
                new = np.asarray(self.embedder.encode(missing), dtype=np.float32)
            fresh = dict(zip(missing, new))
            self._store(fresh)
            vectors.update(fresh)
        return np.stack([vectors[text] for text in texts]).astype(np.float32, copy=False)

    def _cached(self, texts: list[str]) -> dict[str, np.ndarray]:
        try:
            cached = self.log.cached_vectors(self.model, texts)
        except sqlite3.OperationalError:  # e.g. locked for long: it is only a cache, embed instead
            return {}
        vectors = {text: np.frombuffer(blob, dtype="<f4") for text, blob in cached.items()}
        return vectors if len({len(v) for v in vectors.values()}) <= 1 else {}

    def _store(self, vectors: Mapping[str, np.ndarray]) -> None:
        try:
            self.log.store_vectors(self.model, {text: np.asarray(v, dtype="<f4").tobytes()
                                                for text, v in vectors.items()})
        except sqlite3.OperationalError:
            pass  # a cache: this report has its vectors, the next one embeds them again


# -- which stories exist -----------------------------------------------------------------


@dataclass(frozen=True)
class CoverageTable:
    """Counts of published stories per combination of two attributes; every combination is
    present, so empty cells (stories nobody has written) are explicit zeros.

    Attributes:
        title: What the table shows.
        row_field, column_field: The attributes (``stage`` means journey stage).
        rows, columns: The values, in display order; ``column_labels`` are what a person reads.
        counts: ``counts[r][c]`` stories with rows[r] and columns[c].
        cases: ``cases[r][c]`` the ids of those stories.
        empty: How many cells are zero.
    """

    title: str
    row_field: str
    column_field: str
    rows: list[str]
    columns: list[str]
    column_labels: list[str]
    counts: list[list[int]]
    cases: list[list[list[str]]]

    @property
    def empty(self) -> int:
        return sum(1 for row in self.counts for count in row if count == 0)

    @property
    def max_count(self) -> int:
        return max((count for row in self.counts for count in row), default=0)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["empty"] = self.empty
        return out


def coverage(doc_meta: Mapping[str, Mapping[str, Any]], row_field: str, column_field: str,
             title: str | None = None) -> CoverageTable:
    """Count published stories per (row value, column value), every combination included.

    A story covers the journey stage ``stage`` when it has a section of that stage; company
    sizes follow the size bands, smallest first; other values are sorted, and a story
    without the attribute counts under "(not set)".
    """
    cases = published_cases(doc_meta)
    rows = _axis(cases, row_field)
    columns = _axis(cases, column_field)
    cells: list[list[list[str]]] = [[[] for _ in columns] for _ in rows]
    for case_id, meta in cases.items():
        for row_value in _values(meta, row_field):
            for column_value in _values(meta, column_field):
                cells[rows.index(row_value)][columns.index(column_value)].append(case_id)
    labels = [STAGES.get(c, c) if column_field == "stage" else c for c in columns]
    return CoverageTable(
        title=title or f"{_field_label(row_field)} × {_field_label(column_field)}", row_field=row_field,
        column_field=column_field, rows=rows, columns=columns, column_labels=labels,
        counts=[[len(cell) for cell in row] for row in cells], cases=cells)


def coverage_tables(doc_meta: Mapping[str, Mapping[str, Any]]) -> list[CoverageTable]:
    """The two standard tables: industry × journey stage, company size × region."""
    return [coverage(doc_meta, "industry", "stage", "Industry × journey stage"),
            coverage(doc_meta, "company_size", "region", "Company size × region")]


def _values(meta: Mapping[str, Any], name: str) -> list[str]:
    if name == "stage":
        return [s for s in meta.get("stages") or [] if s in STAGES]
    value = meta.get(name)
    values = [value] if isinstance(value, str) else list(value or [])
    values = [str(v).strip() for v in values if str(v).strip()]
    return values or [NOT_SET]


def _axis(cases: Mapping[str, Mapping[str, Any]], name: str) -> list[str]:
    seen = {value for meta in cases.values() for value in _values(meta, name)}
    if name == "stage":
        return list(STAGES)
    if name == "company_size":
        known = list(SIZE_BANDS)
        return known + sorted(seen - set(known) - {NOT_SET}) + ([NOT_SET] if NOT_SET in seen else [])
    return sorted(seen - {NOT_SET}, key=str.casefold) + ([NOT_SET] if NOT_SET in seen else [])


def _field_label(name: str) -> str:
    return {"stage": "Journey stage", "company_size": "Company size"}.get(name, name.replace("_", " ").capitalize())


# -- stale stories -----------------------------------------------------------------------


@dataclass(frozen=True)
class StaleCase:
    """A published story and how old it is."""

    id: str
    title: str
    published: str | None
    months: int | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole months from start to end (2024-01-31 to 2024-02-29 is 0, to 2024-03-01 is 1)."""
    return (end.year - start.year) * 12 + end.month - start.month - (1 if end.day < start.day else 0)


def stale_cases(doc_meta: Mapping[str, Mapping[str, Any]], months: int,
                today: dt.date) -> tuple[list[StaleCase], list[StaleCase]]:
    """Published stories published ``months`` whole months or more before today, oldest
    first; and, separately, the published stories with no (readable) date."""
    stale, undated = [], []
    for case_id, meta in published_cases(doc_meta).items():
        title = meta.get("title") or case_id
        try:
            published = dt.date.fromisoformat(str(meta.get("published"))[:10])
        except ValueError:
            undated.append(StaleCase(case_id, title, None, None))
            continue
        age = months_between(published, today)
        if age >= months:
            stale.append(StaleCase(case_id, title, published.isoformat(), age))
    stale.sort(key=lambda c: (c.published, c.id))
    return stale, undated


# -- which stories are used --------------------------------------------------------------


@dataclass(frozen=True)
class CaseActivity:
    """How often a published story was in a search's top results, and opened."""

    id: str
    title: str
    shown: int
    opened: int
    opened_from_search: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Activity:
    """Stories by use: never in any search's top results, never opened, most opened."""

    never_shown: list[CaseActivity]
    never_opened: list[CaseActivity]
    most_opened: list[CaseActivity]

    def to_dict(self) -> dict[str, Any]:
        return {name: [c.to_dict() for c in getattr(self, name)]
                for name in ("never_shown", "never_opened", "most_opened")}


def case_activity(doc_meta: Mapping[str, Mapping[str, Any]], searches: Iterable[LoggedSearch],
                  opens: Iterable[LoggedOpen], limit: int = 10) -> Activity:
    """Count, for each published story, the searches that showed it and the times it was opened."""
    shown: Counter[str] = Counter()
    for search in searches:
        shown.update({case_id for case_id, _ in search.results})
    opened: dict[str, tuple[int, int]] = {}
    for item in opens:
        count, from_search = opened.get(item.case_id, (0, 0))
        opened[item.case_id] = (count + 1, from_search + (item.search_id is not None))
    return activity(doc_meta, shown, opened, limit)


def activity(doc_meta: Mapping[str, Mapping[str, Any]], shown: Mapping[str, int],
             opened: Mapping[str, tuple[int, int]], limit: int = 10) -> Activity:
    """The use of each published story from counts (:meth:`SearchLog.shown_counts`,
    :meth:`SearchLog.open_counts`): searches that showed it; opens, and opens from a search."""
    rows = [CaseActivity(case_id, meta.get("title") or case_id, shown.get(case_id, 0), *opened.get(case_id, (0, 0)))
            for case_id, meta in published_cases(doc_meta).items()]
    most = sorted((r for r in rows if r.opened), key=lambda r: (-r.opened, -r.shown, r.id))[:limit]
    return Activity(never_shown=[r for r in rows if not r.shown],
                    never_opened=sorted((r for r in rows if not r.opened), key=lambda r: (-r.shown, r.id)),
                    most_opened=most)


# -- searches over time ------------------------------------------------------------------


@dataclass(frozen=True)
class TimeBucket:
    """Searches in one day or week (starting on ``start``, a Monday for weeks)."""

    start: str
    searches: int
    weak: int

    @property
    def strong(self) -> int:
        return self.searches - self.weak

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "searches": self.searches, "weak": self.weak, "strong": self.strong}


def timeline(searches: Iterable[LoggedSearch], today: dt.date, start: dt.date | None = None,
             bucket: str = "auto") -> tuple[str, list[TimeBucket]]:
    """Searches per day or week, weak and strong, from ``start`` (default: the first search)
    to today, empty buckets included.

    Args:
        bucket: "day", "week", or "auto" (days for up to 31 days, weeks beyond).

    Returns:
        The bucket used and the buckets, oldest first.
    """
    days: dict[dt.date, tuple[int, int]] = {}
    for search in searches:
        day = dt.datetime.fromtimestamp(search.at, dt.timezone.utc).date()
        count, weak = days.get(day, (0, 0))
        days[day] = (count + 1, weak + int(search.weak))
    return timeline_of_days(days, today, start, bucket)


def timeline_of_days(days: Mapping[dt.date, tuple[int, int]], today: dt.date, start: dt.date | None = None,
                     bucket: str = "auto") -> tuple[str, list[TimeBucket]]:
    """:func:`timeline` from (searches, weak searches) per day (:meth:`SearchLog.daily_counts`)."""
    if start is None:
        if not days:
            return ("day" if bucket == "auto" else bucket), []
        start = min(days)
    start = min(start, today)
    if bucket == "auto":
        bucket = "day" if (today - start).days <= 31 else "week"
    if bucket not in ("day", "week"):
        raise ValueError("bucket must be day, week or auto")

    def key(day: dt.date) -> dt.date:
        return day if bucket == "day" else day - dt.timedelta(days=day.weekday())

    step = dt.timedelta(days=1 if bucket == "day" else 7)
    totals: Counter[dt.date] = Counter()
    weak_totals: Counter[dt.date] = Counter()
    for day, (count, weak) in days.items():
        totals[key(day)] += count
        weak_totals[key(day)] += weak
    out = []
    current = key(start)
    while current <= key(today):
        out.append(TimeBucket(current.isoformat(), totals[current], weak_totals[current]))
        current += step
    return bucket, out


# -- everything --------------------------------------------------------------------------


@dataclass
class InsightsReport:
    """Every section of the insights page and of ``kb insights report``."""

    generated_at: str
    since: str | None
    totals: dict[str, int]
    top_searches: list[TopSearch]
    weak_groups: list[WeakGroup]
    coverage: list[CoverageTable]
    stale_months: int
    stale: list[StaleCase]
    undated: list[StaleCase]
    activity: Activity
    bucket: str
    timeline: list[TimeBucket]
    demo_rows: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at, "since": self.since, "totals": self.totals,
            "top_searches": [t.to_dict() for t in self.top_searches],
            "weak_groups": [g.to_dict() for g in self.weak_groups],
            "coverage": [c.to_dict() for c in self.coverage],
            "stale_months": self.stale_months,
            "stale": [c.to_dict() for c in self.stale], "undated": [c.to_dict() for c in self.undated],
            **self.activity.to_dict(),
            "bucket": self.bucket, "timeline": [b.to_dict() for b in self.timeline],
            "demo_rows": self.demo_rows, "notes": self.notes,
        }


def build_report(log: SearchLog, version, embedder, now: float | None = None, since_days: int | None = None,
                 months: int | None = None, top: int = 20, max_queries: int = MAX_GROUPED_QUERIES) -> InsightsReport:
    """Compute every insight over the log (optionally the last ``since_days`` days only).

    The log is counted in SQL (per query text and user, per day, per case); the wordings
    grouped are embedded through a :class:`CachedEmbedder`, so a report embeds only the
    wordings no report has embedded before, at most ``max_queries``.

    Args:
        log: The search log.
        version: The live index version (``KnowledgeBase.version``): case metadata and vectors.
        embedder: The model, to group weak searches by meaning (only used for wordings not
            cached yet); its ``name`` keys the cache.
        now: The current time in seconds (default: now).
        since_days: Only searches and opens of the last this many days.
        months: Stale after this many months (default ``KB_STALE_MONTHS``, 24).
        top: Rows in the top-searches, weak-groups and most-opened lists.
        max_queries: Most distinct weak wordings grouped (the most frequent).
    """
    now = time.time() if now is None else now
    months = stale_months() if months is None else months
    today = dt.datetime.fromtimestamp(now, dt.timezone.utc).date()
    since = None if since_days is None else now - since_days * _DAY
    tallies = log.tallies(since)
    opened = log.open_counts(since)
    stale, undated = stale_cases(version.doc_meta, months, today)
    bucket, buckets = timeline_of_days(
        log.daily_counts(since), today,
        start=None if since is None else dt.datetime.fromtimestamp(since, dt.timezone.utc).date())
    searches = sum(t.count for t in tallies)
    weak = sum(t.weak for t in tallies)
    totals = {"searches": searches, "weak": weak, "strong": searches - weak,
              "opens": sum(count for count, _ in opened.values()),
              "users": len({t.user for t in tallies if t.user}),
              "cases": len(published_cases(version.doc_meta))}
    notes = []
    if not searches:
        notes.append("no searches logged yet: they are logged as sellers search "
                      "(`kb insights seed-demo` fills the log with demo searches)")
    wordings = len({normalize_query(t.query) for t in tallies if t.weak})
    if wordings > max_queries:
        notes.append(f"stories to write next: the {max_queries} most frequent of the {wordings} different "
                     "wordings with no strong match are grouped")
    groups = weak_groups(tallies, CachedEmbedder(log, embedder), version, max_queries=max_queries, limit=top)
    return InsightsReport(
        generated_at=iso_time(now), since=None if since is None else iso_time(since), totals=totals,
        top_searches=top_searches(tallies, top), weak_groups=groups,
        coverage=coverage_tables(version.doc_meta), stale_months=months, stale=stale, undated=undated,
        activity=activity(version.doc_meta, log.shown_counts(since), opened, top), bucket=bucket,
        timeline=buckets, demo_rows=sum(t.count for t in tallies if t.user == DEMO_USER), notes=notes)


class ReportCache:
    """Finished reports, reused while nothing they count has changed.

    A report is keyed on the log's state (:meth:`SearchLog.state`: any search or open added
    or deleted changes it), the index version, the model and the question (period, stale
    months, rows); it is reused for at most ``max_age`` seconds, since the period's start and
    "today" move on. Reports are built one at a time: a second load of the same report waits
    for the first and reuses it, and loads at once cannot multiply the work. Kept in this
    process's memory, at most ``size`` reports.

    Args:
        size: Reports kept (the least recently used go first).
        max_age: Seconds a report is reused at most.
        clock: Returns the current time in seconds (injectable for tests).
    """

    def __init__(self, size: int = REPORT_CACHE_SIZE, max_age: float = REPORT_MAX_AGE, clock=time.time):
        self.size = size
        self.max_age = max_age
        self._clock = clock
        self._reports: OrderedDict[tuple, tuple[float, InsightsReport]] = OrderedDict()
        self._lock = threading.Lock()

    def report(self, log: SearchLog, version, embedder, since_days: int | None = None, months: int | None = None,
               top: int = 20) -> InsightsReport:
        """The report :func:`build_report` would return now, from the cache when it still holds."""
        months = stale_months() if months is None else months
        with self._lock:
            now = self._clock()
            key = (str(log.path), log.state(), getattr(version, "name", id(version)),
                   getattr(embedder, "name", None), since_days, months, top)
            cached = self._reports.get(key)
            if cached is not None and 0 <= now - cached[0] < self.max_age:
                self._reports.move_to_end(key)
                return cached[1]
            report = build_report(log, version, embedder, now=now, since_days=since_days, months=months, top=top)
            self._reports[key] = (now, report)
            self._reports.move_to_end(key)
            while len(self._reports) > self.size:
                self._reports.popitem(last=False)
            return report


# -- demo --------------------------------------------------------------------------------

#: Situations sellers describe, for the demo log: (weight, wordings). The first ones have
#: stories in the starter corpus; the last ones (marked) have none, so they come back weak.
DEMO_SITUATIONS: list[tuple[int, list[str]]] = [
    (8, ["regional bank losing deposits to fintech apps", "mid-size bank, deposits leaking to fintechs",
         "savings bank customers moving paychecks to neobanks"]),
    (5, ["AML alert backlog after a regulator finding", "bank with a huge backlog of anti money laundering alerts"]),
    (5, ["credit union young members leave after first loan", "credit union losing younger members"]),
    (6, ["subscriber churn at a digital publisher", "news site losing subscribers as ad revenue falls"]),
    (5, ["prepaid mobile operator churn to a cheaper rival", "telecom churn prepaid customers"]),
    (6, ["grocer fresh food waste and empty shelves", "supermarket throwing away fresh produce"]),
    (4, ["foundry scrap rate too high after failed audit", "manufacturing scrap and rework costs"]),
    (4, ["retiring scheduler knowledge in a spreadsheet", "small shop depends on one person's spreadsheet"]),
    (5, ["patients not showing up for appointments", "clinic no-shows, nurses overloaded"]),
    (4, ["hotels paying too much commission to booking sites", "win back direct bookings from OTAs"]),
    (4, ["trucks driving empty, dispatchers ignore the optimizer", "haulier empty running"]),
    (3, ["city building permit backlog", "municipality permit applications piling up"]),
    (3, ["merged insurer with duplicate claims systems"]),
    # No story covers these: most wordings come back weak, the demo's "stories to write next".
    (5, ["satellite launch insurance", "insuring a satellite launch", "space launch failure cover"]),
    (4, ["esports team sponsorship deals", "gaming team looking for sponsors"]),
    (3, ["church donations falling", "congregation donations dropping"]),
]


def seed_demo(log: SearchLog, base, count: int = 200, days: int = 60, seed: int = 7,
              now: float | None = None) -> dict[str, int]:
    """Fill the log with realistic demo searches, run for real against the current index.

    Each search is a wording from :data:`DEMO_SITUATIONS` (popular situations more often),
    sometimes with a "like you" industry, at a random time in the last ``days`` days; about
    half of the searches with a strong match open one of their top results. Rows are logged
    as user ``demo`` (remove them with ``log.remove_user("demo")``). Deterministic for a seed.

    Returns:
        How many searches (and weak ones) and opens were logged.
    """
    rng = random.Random(seed)
    now = time.time() if now is None else now
    weights = [weight for weight, _ in DEMO_SITUATIONS]
    responses: dict[str, Any] = {}
    planned = sorted(now - rng.uniform(0, days) * _DAY for _ in range(count))
    counts = {"searches": 0, "weak": 0, "opens": 0}
    for at in planned:
        _, wordings = rng.choices(DEMO_SITUATIONS, weights=weights)[0]
        text = rng.choice(wordings)
        if rng.random() < 0.15:
            text = text.capitalize()  # the same search, typed differently
        if text not in responses:
            responses[text] = base.search(text, k=10)
        response = responses[text]
        search_id = log.record_response(response, user=DEMO_USER, at=at)
        weak = response.no_strong_match
        counts["searches"] += 1
        counts["weak"] += int(weak)
        if not weak and rng.random() < 0.55:
            pick = response.results[0 if rng.random() < 0.7 else min(1, len(response.results) - 1)]
            if log.record_open(search_id, pick.id, user=DEMO_USER, at=at + rng.uniform(5, 300)) is not None:
                counts["opens"] += 1
    return counts


__all__ = [
    "Activity", "CachedEmbedder", "CaseActivity", "CoverageTable", "DEMO_SITUATIONS", "InsightsReport",
    "ReportCache", "StaleCase", "TimeBucket", "TopSearch", "WeakGroup", "activity", "build_report",
    "case_activity", "cluster_vectors", "coverage", "coverage_tables", "months_between", "normalize_query",
    "published_cases", "seed_demo", "stale_cases", "stale_months", "tally", "timeline", "timeline_of_days",
    "top_searches", "weak_groups",
]
