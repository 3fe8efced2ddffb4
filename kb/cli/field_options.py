"""CLI options derived from the field registry: a filter option and a "like you" option per field.

``kb search --help`` lists one ``--OPTION`` per filter field and one ``--like-OPTION`` per profile
attribute of :mod:`kb.fields`; a field with fixed choices (a band, a stage) gets a choice type.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from kb.fields import FIELDS, Field

#: Filter fields a command line may set (``status`` is for readers of drafts: ``--drafts``).
CLI_FILTERS: tuple[Field, ...] = tuple(f for f in FIELDS if f.filter and not f.reader)
#: Attributes of the "like you" profile.
CLI_PROFILE: tuple[Field, ...] = tuple(f for f in FIELDS if f.profile)


def _type(known: Field) -> click.ParamType | None:
    return click.Choice(known.choices) if known.choices else None


def _filter_help(known: Field) -> str:
    what = known.label.lower()
    if known.source == "sections":
        return f"Match only passages of this {what} (repeatable)."
    if known.is_list:
        return f"Only stories with this among their {what} (repeatable)."
    return f"Only stories whose {what} is this (repeatable)."


def filter_options(command: Callable) -> Callable:
    """Add ``--OPTION`` (repeatable) for each filter field; the command receives ``filter_NAME``."""
    for known in reversed(CLI_FILTERS):
        command = click.option(f"--{known.option}", f"filter_{known.name}", multiple=True, type=_type(known),
                               help=_filter_help(known))(command)
    return command


def profile_options(command: Callable) -> Callable:
    """Add ``--like-OPTION`` for each profile attribute; the command receives ``like_NAME``."""
    for known in reversed(CLI_PROFILE):
        command = click.option(f"--like-{known.option}", f"like_{known.name}", type=_type(known),
                               help=f"Raise stories of the prospect's {known.label.lower()} "
                                    "(without excluding others).")(command)
    return command


def take_filters(values: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """Remove the filter options from a command's arguments: field -> the values given."""
    filters = {}
    for known in CLI_FILTERS:
        given = values.pop(f"filter_{known.name}", ())
        if given:
            filters[known.name] = tuple(given)
    return filters


def take_profile(values: dict[str, Any]) -> dict[str, str]:
    """Remove the profile options from a command's arguments: attribute -> the value given."""
    profile = {}
    for known in CLI_PROFILE:
        given = values.pop(f"like_{known.name}", None)
        if given:
            profile[known.name] = given
    return profile
