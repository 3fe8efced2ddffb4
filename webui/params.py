"""Request arguments to KnowledgeBase arguments, shared by the pages and the API.

Filters are repeatable (``?industry=Banking&industry=Insurance``); a blank value is the
same as none; the "like you" profile uses ``like_industry``, ``like_size`` and ``like_region``;
``ignore`` (repeatable) removes an attribute understood from the text (industry, company_size,
region, roles).
Checking the values themselves is the knowledge base's job (:func:`kb.search.make_request`);
:mod:`webui.openapi` describes the same rules to API clients.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from kb.errors import InvalidQueryError
from kb.search.query import FILTER_FIELDS, MAX_RESULTS

#: Filters a reader may set: every search filter but ``status`` (only those who see drafts may).
FILTER_PARAMS: tuple[str, ...] = tuple(name for name in FILTER_FIELDS if name != "status")
#: Query parameter of each "like you" profile attribute.
PROFILE_PARAMS: dict[str, str] = {
    "industry": "like_industry",
    "company_size": "like_size",
    "region": "like_region",
}
#: Results on a page when ``k`` is not given.
DEFAULT_K = 10
#: Similar cases returned when ``k`` is not given.
SIMILAR_K = 5
#: Orders of the browse page.
SORTS: tuple[str, ...] = ("date", "title")
#: The characters ``str.strip()`` removes (Unicode whitespace), as the inside of a regular
#: expression's character class, written the same way in Python, ECMA-262 and Rust: a value
#: of only these is blank.
WHITESPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"

_WHOLE_NUMBER = re.compile(r"([0-9]+)(?:\.0+)?")


@dataclass(frozen=True)
class SearchArgs:
    """A search as the request asked for it.

    Attributes:
        text: The prospect's situation, stripped ("" when not given).
        k: How many results.
        filters: Filter name -> values (only non-blank ones).
        profile: Profile attribute -> value (only non-blank ones).
        include_drafts: Whether drafts are shown (only to those who may read them).
        ignore: Attributes understood from the text that the seller removed (``ignore=industry``).
    """

    text: str
    k: int = DEFAULT_K
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    profile: dict[str, str] = field(default_factory=dict)
    include_drafts: bool = False
    ignore: tuple[str, ...] = ()

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :meth:`KnowledgeBase.search`."""
        return {"text": self.text, "k": self.k, "filters": self.filters, "profile": self.profile,
                "include_drafts": self.include_drafts, "ignore": self.ignore}

    def selected(self, name: str) -> tuple[str, ...]:
        """The values chosen for a filter."""
        return self.filters.get(name, ())


def whole_number(value: str) -> int | None:
    """The whole number a parameter holds, in ASCII digits (``5``, ``005``, and ``5.0``, which
    JSON Schema's ``integer`` also allows), or None: ``+5``, `` 5``, ``5.5``, ``٥``, or more
    digits than any range here needs."""
    match = _WHOLE_NUMBER.fullmatch(value)
    digits = (match.group(1).lstrip("0") or "0") if match else ""
    return int(digits) if digits and len(digits) <= 18 else None


def parse_k(value: str | None, default: int = DEFAULT_K) -> int:
    """Read ``k``: a whole number (:func:`whole_number`) from 1 to the most results a request
    may ask for; blank is the default.

    Raises:
        InvalidQueryError: Not a whole number, or out of range.
    """
    if value is None or not value.strip():
        return default
    k = whole_number(value)
    if k is None or not 1 <= k <= MAX_RESULTS:
        raise InvalidQueryError(f"k must be a whole number from 1 to {MAX_RESULTS}")
    return k


def filter_args(args: MultiDict, include_drafts: bool = False) -> dict[str, tuple[str, ...]]:
    """The non-blank filter values of a request, by filter name (``status`` only with drafts)."""
    filters: dict[str, tuple[str, ...]] = {}
    for name in FILTER_PARAMS + (("status",) if include_drafts else ()):
        values = tuple(dict.fromkeys(v.strip() for v in args.getlist(name) if v.strip()))
        if values:
            filters[name] = values
    return filters


def profile_args(args: MultiDict) -> dict[str, str]:
    """The non-blank "like you" attributes of a request."""
    profile: dict[str, str] = {}
    for key, param in PROFILE_PARAMS.items():
        value = (args.get(param) or "").strip()
        if value:
            profile[key] = value
    return profile


def search_args(args: MultiDict, default_k: int = DEFAULT_K, include_drafts: bool = False) -> SearchArgs:
    """Everything a search request carries.

    Args:
        args: The query parameters.
        default_k: Results when ``k`` is not given.
        include_drafts: Whether the reader may see drafts (then ``status`` filters too).

    Raises:
        InvalidQueryError: ``k`` is unusable.
    """
    return SearchArgs(text=(args.get("q") or "").strip(), k=parse_k(args.get("k"), default_k),
                      filters=filter_args(args, include_drafts), profile=profile_args(args),
                      include_drafts=include_drafts, ignore=ignore_args(args))


def ignore_args(args: MultiDict) -> tuple[str, ...]:
    """The understood attributes the seller removed (``ignore``, repeatable), as given: any
    value but an attribute's name is refused by :func:`kb.search.make_request`."""
    return tuple(dict.fromkeys(args.getlist("ignore")))


def sort_arg(args: MultiDict) -> str:
    """The browse order: ``date`` (newest first, the default) or ``title``.

    Raises:
        InvalidQueryError: Another value.
    """
    sort = (args.get("sort") or SORTS[0]).strip()
    if sort not in SORTS:
        raise InvalidQueryError(f"sort must be one of {', '.join(SORTS)}")
    return sort


def is_partial(args: MultiDict) -> bool:
    """Whether the page was asked for its results fragment only (``partial=1``)."""
    return args.get("partial") == "1"

