"""The case-study model: a typed case with its metadata and journey sections."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.fields import BY_NAME, FRONT_MATTER, KNOWN_FIELDS, LIST_FIELDS, SIZE_BANDS, STATUSES

#: The field registry's names, kept importable here for the code that reads cases.
__all__ = ["KNOWN_FIELDS", "LIST_FIELDS", "SIZE_BANDS", "STATUSES", "Case", "Problem", "Section", "json_ready"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a case file, located by path and line."""

    path: str
    line: int
    message: str
    severity: str = "error"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.path}:{self.line}: {prefix}{self.message}"


@dataclass(frozen=True)
class Section:
    """A ``##`` section of a story: its heading, journey stage and Markdown text."""

    title: str | None
    stage: str | None
    text: str
    line: int


@dataclass(frozen=True)
class Case:
    """A parsed case study.

    Its metadata fields are those of the registry (:mod:`kb.fields`): ``values`` holds each one
    the file gives, and ``case.industry``, ``case.roles`` ... read them (a field the file does
    not give reads as the field's empty value: None, or ``()`` for a list).
    """

    id: str
    path: Path
    title: str
    sections: tuple[Section, ...]
    body: str
    content_hash: str
    values: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        known = BY_NAME.get(name)
        if known is None or known.source != "front_matter" or name.startswith("_"):
            raise AttributeError(f"'Case' object has no attribute '{name}'")
        value = self.__dict__.get("values", {}).get(name)
        return known.empty if value in (None, "", ()) else value

    @property
    def is_draft(self) -> bool:
        return self.status == "draft"

    @property
    def stages(self) -> tuple[str, ...]:
        """Journey stages present in the story, in the order they appear."""
        seen: list[str] = []
        for section in self.sections:
            if section.stage and section.stage not in seen:
                seen.append(section.stage)
        return tuple(seen)

    def metadata(self) -> dict[str, Any]:
        """Return the filterable and displayable metadata as JSON-ready values."""
        meta: dict[str, Any] = {"id": self.id}
        for known in FRONT_MATTER:
            value = getattr(self, known.name)
            meta[known.name] = list(value) if known.is_list else json_ready(value)
        meta["stages"] = list(self.stages)
        meta["extra"] = {key: json_ready(value) for key, value in self.extra.items()}
        return meta


def json_ready(value: Any) -> Any:
    """Convert YAML values (dates, nested lists and maps) into JSON-serializable ones."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    return value
