"""Finished reports, reused while nothing they count has changed."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from kb.insights.report import InsightsReport, build_report
from kb.insights.staleness import DEFAULT_STALE_MONTHS
from kb.searchlog import SearchLog

#: Finished reports a :class:`ReportCache` keeps, and for how many seconds at most (the
#: period's start and "today" move on; a new search or index version replaces it at once).
REPORT_CACHE_SIZE = 16
REPORT_MAX_AGE = 300.0


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

    def report(self, log: SearchLog, version, embedder, since_days: int | None = None,
               months: int = DEFAULT_STALE_MONTHS, top: int = 20) -> InsightsReport:
        """The report :func:`build_report` would return now, from the cache when it still holds."""
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
