"""Which stories exist: published stories per combination of two attributes, every
combination listed, so an empty cell (a story nobody has written) is an explicit zero."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from kb.cases import SIZE_BANDS
from kb.insights.published import published_cases
from kb.stages import STAGES

#: Label of a missing attribute in the coverage tables.
NOT_SET = "(not set)"


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
