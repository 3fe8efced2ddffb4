"""Request arguments to KnowledgeBase arguments, shared by the pages and the API.

Every query parameter is declared once, as a :class:`QueryParam`: how it is read here and how
:mod:`webui.openapi` describes it to API clients come from the same declaration. The filter
and "like you" parameters are derived from the field registry (:mod:`kb.fields`), so a field
declared there with ``filter=True`` or ``profile=True`` is read and described without a
change here.

Filters are repeatable (``?industry=Banking&industry=Insurance``); a blank value is the
same as none; the "like you" profile uses ``like_industry``, ``like_size``, ``like_region``
(each field's :attr:`~kb.fields.Field.profile_param`); ``ignore`` (repeatable) removes an
attribute understood from the text (industry, company_size, region, roles).
Checking the values themselves is the knowledge base's job (:func:`kb.search.make_request`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from werkzeug.datastructures import MultiDict

from kb.errors import InvalidQueryError
from kb.fields import FIELDS, UNDERSTOOD_FIELDS, Field
from kb.search.query import MAX_QUERY_CHARS, MAX_RESULTS, check_filters

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

#: How a parameter's value is read:
#: ``situation`` the prospect's situation (stripped; kb refuses one with nothing to search);
#: ``text`` any text, stripped, blank = not given;
#: ``choice`` one of ``choices``, with whitespace around it or not, blank = not given
#: (the knowledge base refuses any other value);
#: ``name`` one of ``choices`` exactly as given (``ignore``);
#: ``whole`` a whole number from ``minimum`` to ``maximum`` (:func:`read_whole`), blank = ``default``.
ParamKind = Literal["situation", "text", "choice", "name", "whole"]


@dataclass(frozen=True)
class QueryParam:
    """One query parameter of a route: what it holds, how it is read and described.

    Attributes:
        name: The parameter (``company_size``, ``like_size``, ``k``).
        description: What it means, for the API description.
        kind: How its value is read (see :data:`ParamKind`).
        choices: The values a ``choice`` or ``name`` parameter takes.
        repeatable: Given any number of times (``?tags=a&tags=b``).
        required: The route needs it (``q``).
        minimum, maximum, default: The range and default of a ``whole`` number.
        unit: What a ``whole`` number counts, in its error message (``days``).
        field: The registry field it filters on or describes the prospect by.
        reader: Only readers who may see drafts use it (``status``); others' values are
            checked, then ignored.
    """

    name: str
    description: str
    kind: ParamKind = "text"
    choices: tuple[str, ...] = ()
    repeatable: bool = False
    required: bool = False
    minimum: int = 0
    maximum: int = 0
    default: int | None = None
    unit: str = ""
    field: str | None = None
    reader: bool = False

    def values(self, args: MultiDict) -> tuple[str, ...]:
        """The non-blank values given, stripped, each once, in order."""
        return tuple(dict.fromkeys(v.strip() for v in args.getlist(self.name) if v.strip()))

    def value(self, args: MultiDict) -> str:
        """The value given, stripped ("" when blank or not given)."""
        return (args.get(self.name) or "").strip()

    def whole(self, args: MultiDict, default: int | None = None) -> int:
        """A ``whole`` parameter's number (``default``, else the declared one, when blank).

        Raises:
            InvalidQueryError: Not a whole number in range.
        """
        fallback = self.default if default is None else default
        return read_whole(args.get(self.name), self.name, fallback, self.minimum, self.maximum, self.unit)


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


# -- the parameters, declared once ----------------------------------------------------------


def filter_param(known: Field) -> QueryParam:
    """The repeatable filter parameter of a registry field (``?industry=Banking``)."""
    label = known.label.lower()
    if known.source == "sections":
        what = f"Match only passages of this {label} (in the cases that tell it)"
    elif known.is_list:
        what = f"Only cases whose {label} include this"
    else:
        what = f"Only cases of this {label}"
    reader = (" Only readers who see drafts (marketers, admins) filter on it: another reader's value is "
              "checked, then ignored." if known.reader else "")
    return QueryParam(known.name, f"{what}: {known.help}{reader} Repeatable: any value matches; blank values "
                                  "are ignored.", kind="choice" if known.choices else "text",
                      choices=known.choices, repeatable=True, field=known.name, reader=known.reader)


def profile_param(known: Field) -> QueryParam:
    """The "like you" parameter of a registry field (``?like_size=201-1000``)."""
    return QueryParam(known.profile_param,
                      f"The prospect's {known.label.lower()} ({known.help}) Raises matching cases (\"customers "
                      "like you\") without excluding others, in place of what the situation's text says of it; "
                      "blank is ignored.", kind="choice" if known.choices else "text", choices=known.choices,
                      field=known.name)


def k_param(default: int, description: str) -> QueryParam:
    """``k``: how many results, a whole number from 1 to the most a request may ask for."""
    return QueryParam("k", description, kind="whole", minimum=1, maximum=MAX_RESULTS, default=default)


#: The prospect's situation.
SITUATION = QueryParam(
    "q", f"The prospect's situation in plain words (cut at {MAX_QUERY_CHARS} characters). It needs a character "
         "other than whitespace and ASCII control characters (those are read as spaces).",
    kind="situation", required=True)
#: Understood attributes to rank without.
IGNORE = QueryParam("ignore", "An attribute understood from the situation to rank without (repeatable).",
                    kind="name", choices=UNDERSTOOD_FIELDS, repeatable=True)
#: The filter parameters, one per registry field with ``filter=True``.
FILTERS: tuple[QueryParam, ...] = tuple(filter_param(known) for known in FIELDS if known.filter)
#: The "like you" parameters, one per registry field with ``profile=True``.
PROFILE: tuple[QueryParam, ...] = tuple(profile_param(known) for known in FIELDS if known.profile)
#: Every parameter of a search (the search page and ``GET /api/search``).
SEARCH_PARAMS: tuple[QueryParam, ...] = (
    SITUATION, k_param(DEFAULT_K, f"How many cases to return (default {DEFAULT_K})."), *FILTERS, *PROFILE, IGNORE)
#: The parameters of ``GET /api/cases/<id>/similar``.
SIMILAR_PARAMS: tuple[QueryParam, ...] = (k_param(SIMILAR_K, f"How many cases (default {SIMILAR_K})."),)

#: Filters every reader may set (``status`` is only for those who see drafts).
FILTER_PARAMS: tuple[str, ...] = tuple(param.name for param in FILTERS if not param.reader)
#: Query parameter of each "like you" profile attribute, by field.
PROFILE_PARAMS: dict[str, str] = {param.field: param.name for param in PROFILE if param.field}


# -- reading them -----------------------------------------------------------------------


def whole_number(value: str) -> int | None:
    """The whole number a parameter holds, in ASCII digits (``5``, ``005``, and ``5.0``, which
    JSON Schema's ``integer`` also allows), or None: ``+5``, `` 5``, ``5.5``, ``٥``, or more
    digits than any range here needs."""
    match = _WHOLE_NUMBER.fullmatch(value)
    digits = (match.group(1).lstrip("0") or "0") if match else ""
    return int(digits) if digits and len(digits) <= 18 else None


def read_whole(value: str | None, name: str, default: int, low: int, high: int, unit: str = "") -> int:
    """A whole number (:func:`whole_number`) from low to high; blank is the default.

    Raises:
        InvalidQueryError: Not a whole number, or out of range ("k must be a whole number from 1
            to 100", "since must be a whole number of days from 1 to 3650").
    """
    if value is None or not value.strip():
        return default
    number = whole_number(value)
    if number is None or not low <= number <= high:
        raise InvalidQueryError(f"{name} must be a whole number{f' of {unit}' if unit else ''} from {low} to {high}")
    return number


def parse_k(value: str | None, default: int = DEFAULT_K) -> int:
    """Read ``k``: a whole number (:func:`whole_number`) from 1 to the most results a request
    may ask for; blank is the default.

    Raises:
        InvalidQueryError: Not a whole number, or out of range.
    """
    return read_whole(value, "k", default, 1, MAX_RESULTS)


def filter_args(args: MultiDict, include_drafts: bool = False) -> dict[str, tuple[str, ...]]:
    """The non-blank filter values of a request, by filter name.

    A filter only readers of drafts may use (``status``) counts only with ``include_drafts``;
    for anyone else its values are checked as the knowledge base checks them (a status that
    is none is refused, as it is for a marketer) and then dropped.

    Raises:
        InvalidQueryError: A reader-only filter's value is not one of its choices.
    """
    filters: dict[str, tuple[str, ...]] = {}
    for param in FILTERS:
        values = param.values(args)
        if not values:
            continue
        if param.reader and not include_drafts:
            check_filters({param.name: values})
            continue
        filters[param.name] = values
    return filters


def profile_args(args: MultiDict) -> dict[str, str]:
    """The non-blank "like you" attributes of a request."""
    profile: dict[str, str] = {}
    for param in PROFILE:
        value = param.value(args)
        if value and param.field:
            profile[param.field] = value
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
    return SearchArgs(text=SITUATION.value(args), k=parse_k(args.get("k"), default_k),
                      filters=filter_args(args, include_drafts), profile=profile_args(args),
                      include_drafts=include_drafts, ignore=ignore_args(args))


def ignore_args(args: MultiDict) -> tuple[str, ...]:
    """The understood attributes the seller removed (``ignore``, repeatable), as given: any
    value but an attribute's name is refused by :func:`kb.search.make_request`."""
    return tuple(dict.fromkeys(args.getlist(IGNORE.name)))


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
