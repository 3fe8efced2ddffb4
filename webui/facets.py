"""Facet counts as the filter panel shows them: labelled, ordered, checked when selected."""

from __future__ import annotations

from dataclasses import dataclass

from kb.cases import SIZE_BANDS
from kb.search.engine import FACET_FIELDS
from kb.stages import STAGES

#: Heading of each facet group.
FACET_LABELS: dict[str, str] = {
    "industry": "Industry",
    "company_size": "Company size",
    "region": "Region",
    "stage": "Journey stage",
    "tags": "Tags",
}
#: Tag values shown (the most frequent), besides any already selected.
TOP_TAGS = 12
#: Facets shown in a fixed order rather than by count.
_FIXED_ORDER: dict[str, tuple[str, ...]] = {"company_size": SIZE_BANDS, "stage": tuple(STAGES)}


@dataclass(frozen=True)
class FacetOption:
    """One checkbox: a value, what it reads as, how many cases have it, whether it is on."""

    value: str
    label: str
    count: int
    checked: bool


@dataclass(frozen=True)
class FacetGroup:
    """The options of one facet."""

    name: str
    label: str
    options: tuple[FacetOption, ...]

    @property
    def active(self) -> int:
        return sum(option.checked for option in self.options)


def facet_groups(facets: dict[str, dict[str, int]], selected: dict[str, tuple[str, ...]]) -> list[FacetGroup]:
    """The filter panel's groups, in display order; selected values always stay visible.

    Args:
        facets: Facet name -> value -> count (as in a search response).
        selected: Facet name -> the values the request filters on.
    """
    groups = []
    for name in FACET_FIELDS:
        counts = dict(facets.get(name, {}))
        chosen = selected.get(name, ())
        values = list(counts)
        if name in _FIXED_ORDER:
            order = {value: i for i, value in enumerate(_FIXED_ORDER[name])}
            values.sort(key=lambda v: order.get(v, len(order)))
        elif name == "tags":
            values = values[:TOP_TAGS]
        values += [value for value in chosen if value not in values]
        options = tuple(FacetOption(value=value, label=STAGES.get(value, value) if name == "stage" else value,
                                    count=counts.get(value, 0), checked=value in chosen)
                        for value in values)
        if options:
            groups.append(FacetGroup(name=name, label=FACET_LABELS[name], options=options))
    return groups


def active_filters(selected: dict[str, tuple[str, ...]]) -> int:
    """How many filter values are on."""
    return sum(len(values) for values in selected.values())
