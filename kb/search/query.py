"""A search request: the prospect's situation, filters and "like you" profile, checked.

Which fields are filters and profile attributes, and which values they may take, is the
field registry's (:mod:`kb.fields`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kb.errors import InvalidQueryError
from kb.fields import BY_NAME, FILTER_FIELDS, PROFILE_FIELDS, UNDERSTOOD_FIELDS
from kb.search.settings import MODES

#: Longest query kept; longer ones are cut at a word boundary with a notice.
MAX_QUERY_CHARS = 2000
#: Most results one request may ask for.
MAX_RESULTS = 100

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class SearchRequest:
    """What a seller asks for.

    Attributes:
        text: The prospect's situation in plain words.
        k: How many cases to return.
        filters: Field -> accepted values (any of them); fields are ANDed.
        profile: "Like you" attributes that raise matching cases without excluding others.
        mode: "hybrid", or "dense" / "lexical" alone (for evaluation).
        include_drafts: Show draft cases too (marketers).
        understand: Read industry, size, region and roles from the text as soft boosts.
        ignore: Understood attributes the seller removed (see :mod:`kb.search.understanding`).
    """

    text: str
    k: int = 10
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    profile: dict[str, str] = field(default_factory=dict)
    mode: str = "hybrid"
    include_drafts: bool = False
    understand: bool = True
    ignore: tuple[str, ...] = ()


def make_request(text: str | None, k: int = 10, filters: dict | None = None, profile: dict | None = None,
                 mode: str = "hybrid", include_drafts: bool = False, understand: bool = True,
                 ignore: Iterable[str] = ()) -> tuple[SearchRequest, list[str]]:
    """Check and normalize a request.

    Returns:
        The request and notices for the person (e.g. that a long query was cut).

    Raises:
        InvalidQueryError: The query is blank, or a filter, profile value, k or mode is unusable.
    """
    notices: list[str] = []
    cleaned = unicodedata.normalize("NFC", _CONTROL.sub(" ", text or "")).strip()
    if not cleaned:
        raise InvalidQueryError("the query is empty: describe the prospect's situation in a few words")
    if len(cleaned) > MAX_QUERY_CHARS:
        cut = cleaned[:MAX_QUERY_CHARS]
        space = cut.rfind(" ")
        cleaned = cut[:space] if space > MAX_QUERY_CHARS // 2 else cut
        notices.append(f"the query was cut to its first {len(cleaned):,} characters "
                       f"(the limit is {MAX_QUERY_CHARS:,})")
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_RESULTS:
        raise InvalidQueryError(f"k must be a whole number from 1 to {MAX_RESULTS}")
    if mode not in MODES:
        raise InvalidQueryError(f"mode must be one of {', '.join(MODES)}")

    clean_filters = check_filters(filters)

    clean_profile: dict[str, str] = {}
    for key, value in (profile or {}).items():
        if key not in PROFILE_FIELDS:
            raise InvalidQueryError(f"unknown profile attribute '{key}'; use one of {', '.join(PROFILE_FIELDS)}")
        if isinstance(value, str) and value.strip():
            _check_choice(key, (value.strip(),))
            clean_profile[key] = value.strip()
    ignored = tuple(dict.fromkeys(ignore or ()))
    for name in ignored:
        if name not in UNDERSTOOD_FIELDS:
            raise InvalidQueryError(f"cannot ignore '{name}': understood attributes are {', '.join(UNDERSTOOD_FIELDS)}")
    return SearchRequest(text=cleaned, k=k, filters=clean_filters, profile=clean_profile, mode=mode,
                         include_drafts=include_drafts, understand=bool(understand), ignore=ignored), notices


def filters_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """The filters of one JSON line of queries, as ``kb search --batch`` and ``kb eval`` read it:
    its ``"filters"`` object, and any top-level key named after a filter field (the older
    batch form); checked later by :func:`check_filters`.

    Raises:
        InvalidQueryError: ``"filters"`` is not an object.
    """
    given = row.get("filters") or {}
    if not isinstance(given, Mapping):
        raise InvalidQueryError('"filters" must be an object of field: value(s)')
    top_level = {name: row[name] for name in FILTER_FIELDS if row.get(name)}
    return {**top_level, **given}


def check_filters(filters: dict | None) -> dict[str, tuple[str, ...]]:
    """Check and normalize filters: field -> the non-blank values accepted (any of them).

    Raises:
        InvalidQueryError: An unknown field, or a value outside a fixed set (size, stage, status).
    """
    clean: dict[str, tuple[str, ...]] = {}
    for key, values in (filters or {}).items():
        if key not in FILTER_FIELDS:
            raise InvalidQueryError(f"unknown filter '{key}'; use one of {', '.join(FILTER_FIELDS)}")
        values = (values,) if isinstance(values, str) else tuple(values or ())
        values = tuple(v.strip() for v in values if isinstance(v, str) and v.strip())
        if not values:
            continue
        _check_choice(key, values)
        clean[key] = values
    return clean


def _check_choice(name: str, values: tuple[str, ...]) -> None:
    """Values of a field with fixed choices (a band, a stage, a status) must be among them."""
    choices = BY_NAME[name].choices
    for value in values:
        if choices and value not in choices:
            raise InvalidQueryError(f"{name} '{value}' is not one of {', '.join(choices)}")
