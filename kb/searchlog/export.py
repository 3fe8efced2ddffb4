"""The search log as CSV, one row per search (``kb insights export``)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

from kb.searchlog.records import LoggedSearch, compact_json

#: Columns of :func:`write_csv`, in order.
CSV_COLUMNS = ("id", "time", "user", "query", "filters", "profile", "mode", "weak", "result_ids",
               "result_scores", "opened")


def write_csv(searches: Iterable[LoggedSearch], out: TextIO) -> int:
    """Write one CSV row per logged search (columns :data:`CSV_COLUMNS`); return the count.

    ``result_ids`` and ``result_scores`` are space-separated, best first; ``opened`` lists
    the stories opened from the search. A query starting with ``=``, ``+``, ``-``, ``@``
    or a tab gets a leading ``'`` so a spreadsheet shows it instead of running it as a formula.
    Open ``out`` with ``newline=""``.
    """
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for search in searches:
        writer.writerow([
            search.id, search.time, search.user or "", spreadsheet_safe(search.query),
            compact_json(search.filters), compact_json(search.profile), search.mode,
            "true" if search.weak else "false",
            " ".join(case_id for case_id, _ in search.results),
            " ".join(f"{score:g}" for _, score in search.results),
            " ".join(search.opened),
        ])
        count += 1
    return count


def spreadsheet_safe(text: str) -> str:
    """The text, with a leading ``'`` when a spreadsheet would run it as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
