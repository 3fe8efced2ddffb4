"""Facet counts as the filter panel shows them: labelled, ordered, checked when selected."""

from __future__ import annotations

from dataclasses import dataclass

from kb.fields import BY_NAME, FACET_FIELDS

#: Values shown of a list facet such as tags (the most frequent), besides any already selected.
TOP_TAGS = 12


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
        known = BY_NAME[name]
        counts = dict(facets.get(name, {}))
        chosen = selected.get(name, ())
        values = list(counts)
        if known.choices:  # bands and stages in their own order, not by count
            order = {value: i for i, value in enumerate(known.choices)}
            values.sort(key=lambda v: order.get(v, len(order)))
        elif known.is_list:
            values = values[:TOP_TAGS]
        values += [value for value in chosen if value not in values]
        options = tuple(FacetOption(value=value, label=known.display(value) if name == "stage" else value,
                                    count=counts.get(value, 0), checked=value in chosen)
                        for value in values)
        if options:
            groups.append(FacetGroup(name=name, label=known.label, options=options))
    return groups


def active_filters(selected: dict[str, tuple[str, ...]]) -> int:
    """How many filter values are on."""
    return sum(len(values) for values in selected.values())
