"""Ranking settings in a TOML file: reading them with checks, and writing them back.

A ranking file holds any of :class:`~kb.search.settings.RankingSettings`' fields at the top
level, and the "like you" boosts in a ``[boosts]`` table; what it leaves out keeps its
built-in value::

    fusion = "zscore"
    dense_weight = 0.6
    lexical_weight = 0.4
    second_passage_weight = 0.0

    [boosts]
    industry = 0.5

``kb eval --tune --write FILE`` writes one; ``--ranking FILE`` or ``KB_RANKING`` makes
``kb search``, ``kb eval`` and ``kb serve`` use it.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from kb.errors import ConfigError
from kb.fields import PROFILE_FIELDS, UNDERSTOOD_FIELDS
from kb.search.settings import FUSION_METHODS, RankingSettings

#: Fields a boost may be given for: the profile's, and roles (understood from the query only).
BOOSTED_FIELDS = tuple(dict.fromkeys(PROFILE_FIELDS + UNDERSTOOD_FIELDS))

#: Fields that hold a number of at least 0, and those that must be whole numbers.
_WEIGHTS = ("dense_weight", "lexical_weight", "second_passage_weight", "document_bm25_weight",
            "document_vector_weight", "understood_weight", "weak_coverage_weight")
_WHOLE = ("candidates",)
#: Fields in the order a written file lists them.
_ORDER = ("fusion", "dense_weight", "lexical_weight", "rrf_k", "second_passage_weight", "document_bm25_weight",
          "document_vector_weight", "understood_weight", "candidates", "weak_threshold", "weak_coverage_weight")


def load_ranking(path: Path | str) -> RankingSettings:
    """Read ranking settings from a TOML file, over the built-in ones.

    Raises:
        ConfigError: the file cannot be read, is not TOML (the message gives the line), or
            holds an unknown setting or a value kb cannot use (the message names it).
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the ranking file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return ranking_from_dict(data, source=str(path))


def ranking_from_dict(data: dict[str, Any], source: str = "ranking settings") -> RankingSettings:
    """Ranking settings from parsed values, checked (see :func:`load_ranking`)."""
    known = {f.name for f in fields(RankingSettings)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{source}: unknown setting {unknown[0]!r}; known: {', '.join(sorted(known))}")
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name == "boosts":
            values[name] = _boosts(value, source)
        elif name == "fusion":
            if value not in FUSION_METHODS:
                raise ConfigError(f"{source}: fusion must be one of {', '.join(FUSION_METHODS)}, not {value!r}")
            values[name] = value
        else:
            values[name] = _number(name, value, source)
    settings = replace(RankingSettings(), **values)
    if settings.dense_weight + settings.lexical_weight <= 0:
        raise ConfigError(f"{source}: dense_weight and lexical_weight cannot both be 0")
    if settings.document_bm25_weight + settings.document_vector_weight >= 1:
        raise ConfigError(f"{source}: document_bm25_weight and document_vector_weight must add up to less than 1 "
                          "(the rest is the passages' share)")
    return settings


def ranking_toml(settings: RankingSettings, comment: str = "") -> str:
    """The TOML text of ranking settings (every field), which :func:`load_ranking` reads back."""
    lines = [f"# {line}".rstrip() for line in comment.splitlines()] if comment else []
    for name in _ORDER:
        value = getattr(settings, name)
        lines.append(f'{name} = "{value}"' if isinstance(value, str) else f"{name} = {_toml_number(value)}")
    lines += ["", "[boosts]"]
    lines += [f"{key} = {_toml_number(value)}" for key, value in settings.boosts.items()]
    return "\n".join(lines) + "\n"


def _number(name: str, value: Any, source: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{source}: {name} must be a number, not {value!r}")
    if name in _WHOLE:
        if value != int(value) or value < 1:
            raise ConfigError(f"{source}: {name} must be a whole number of at least 1, not {value!r}")
        return int(value)
    if name in _WEIGHTS and value < 0:
        raise ConfigError(f"{source}: {name} must be 0 or more, not {value!r}")
    if name == "rrf_k" and value <= 0:
        raise ConfigError(f"{source}: rrf_k must be more than 0, not {value!r}")
    if name == "weak_threshold" and not -1 <= value <= 2:
        raise ConfigError(f"{source}: weak_threshold is a match strength from -1 to 2, not {value!r}")
    return float(value)


def _boosts(value: Any, source: str) -> dict[str, float]:
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: boosts must be a table ([boosts]) of {', '.join(BOOSTED_FIELDS)}")
    unknown = sorted(set(value) - set(BOOSTED_FIELDS))
    if unknown:
        raise ConfigError(f"{source}: boosts.{unknown[0]} is not a profile field; "
                          f"known: {', '.join(BOOSTED_FIELDS)}")
    out = dict(RankingSettings().boosts)
    for key, size in value.items():
        if isinstance(size, bool) or not isinstance(size, (int, float)) or not math.isfinite(size) or size < 0:
            raise ConfigError(f"{source}: boosts.{key} must be a number of 0 or more, not {size!r}")
        out[key] = float(size)
    return out


def _toml_number(value: float | int) -> str:
    return str(value) if isinstance(value, int) else repr(float(value))
