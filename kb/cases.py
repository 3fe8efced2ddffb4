"""The case-study model: a typed case with its metadata and journey sections."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Employee bands a case's ``company_size`` may take, smallest first.
SIZE_BANDS: tuple[str, ...] = ("1-50", "51-200", "201-1000", "1001-5000", "5001+")

#: Values of ``status``.
STATUSES: tuple[str, ...] = ("published", "draft")

#: Front-matter fields kb knows; any other key is kept as extra metadata.
TEXT_FIELDS: tuple[str, ...] = ("title", "customer", "industry", "region", "summary")
LIST_FIELDS: tuple[str, ...] = ("products", "roles", "tags")
KNOWN_FIELDS: tuple[str, ...] = TEXT_FIELDS + LIST_FIELDS + ("company_size", "published", "status")


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
    """A parsed case study."""

    id: str
    path: Path
    title: str
    sections: tuple[Section, ...]
    body: str
    content_hash: str
    customer: str | None = None
    industry: str | None = None
    company_size: str | None = None
    region: str | None = None
    products: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    published: dt.date | None = None
    status: str = "published"
    summary: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

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
        return {
            "id": self.id,
            "title": self.title,
            "customer": self.customer,
            "industry": self.industry,
            "company_size": self.company_size,
            "region": self.region,
            "products": list(self.products),
            "roles": list(self.roles),
            "tags": list(self.tags),
            "published": self.published.isoformat() if self.published else None,
            "status": self.status,
            "summary": self.summary,
            "stages": list(self.stages),
            "extra": {key: json_ready(value) for key, value in self.extra.items()},
        }


def json_ready(value: Any) -> Any:
    """Convert YAML values (dates, nested lists and maps) into JSON-serializable ones."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    return value
