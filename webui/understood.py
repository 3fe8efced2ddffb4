"""The "Understood: Banking · 1001-5000 · Nordics" chips of the search page, each removable."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from werkzeug.datastructures import MultiDict

from kb.fields import BY_NAME
from kb.search.understanding import Understood


@dataclass(frozen=True)
class Chip:
    """One understood attribute: what it reads as, and the link that searches without it."""

    attribute: str
    label: str
    values: str
    remove_url: str


def understood_chips(understood: Understood, args: MultiDict) -> list[Chip]:
    """A chip per understood attribute; removing one repeats the search with ``ignore=attribute``."""
    chips = []
    for attribute, values in understood.attributes.items():
        params = MultiDict(args)
        params.poplist("partial")
        params.add("ignore", attribute)
        known = BY_NAME[attribute]
        shown = ", ".join(known.display(value) for value in values)
        chips.append(Chip(attribute, known.short_label, shown,
                          url_for("pages.search", **params.to_dict(flat=False))))
    return chips
