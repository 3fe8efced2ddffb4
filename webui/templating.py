"""Template helpers: the product name and navigation, and filters for metadata values."""

from __future__ import annotations

from typing import Any

from flask import Flask

from kb.fields import FIELDS
from kb.stages import stage_label

PRODUCT_NAME = "kb · customer stories"
#: Header navigation: endpoint and label.
NAV = (("pages.search", "Search"), ("pages.browse", "Browse"))


def display_value(value: Any) -> str:
    """A metadata value as text: lists joined by commas, mappings as ``key: value`` pairs."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return "; ".join(f"{key}: {display_value(item)}" for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(display_value(item) for item in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def is_web_link(value: Any) -> bool:
    """Whether a value is an http(s) address, safe to show as a link."""
    return isinstance(value, str) and value.startswith(("https://", "http://")) and " " not in value


def plural(count: int, singular: str, many: str | None = None) -> str:
    """``1 story``, ``3 stories``."""
    return f"{count} {singular if count == 1 else (many or singular + 's')}"


def sentence(text: str) -> str:
    """Text with its first letter capitalized (the rest untouched, unlike ``capitalize``)."""
    return text[:1].upper() + text[1:]


def init_app(app: Flask) -> None:
    """Register the filters and the values every page uses."""
    app.jinja_env.filters.update(display_value=display_value, stage_label=stage_label, plural=plural,
                            sentence=sentence)
    app.jinja_env.tests["web_link"] = is_web_link
    app.jinja_env.globals["fields"] = FIELDS  # the field registry: macros imported without context see it too
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def product() -> dict[str, Any]:
        return {"product_name": PRODUCT_NAME, "nav": NAV}
