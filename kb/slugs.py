"""Case ids (slugs): what they may contain and where their files live."""

from __future__ import annotations

import re
from pathlib import Path

from kb.errors import InvalidSlugError

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_SLUG_LENGTH = 100


def is_valid_slug(slug: str) -> bool:
    """True when slug is lowercase letters and digits, joined by single hyphens."""
    return isinstance(slug, str) and len(slug) <= MAX_SLUG_LENGTH and _SLUG.fullmatch(slug) is not None


def case_path(cases_dir: Path | str, slug: str) -> Path:
    """Return the file of a case id inside cases_dir, refusing anything that could leave it.

    Raises:
        InvalidSlugError: slug is not ``[a-z0-9-]+`` (so no separators, dots or encodings).
    """
    if not is_valid_slug(slug):
        shown = slug if len(slug) <= 60 else slug[:57] + "..."
        raise InvalidSlugError(
            f"invalid case id {shown!r}: use lowercase letters, digits and single hyphens "
            f"(at most {MAX_SLUG_LENGTH} characters), e.g. 'regional-bank-deposits'")
    root = Path(cases_dir).resolve()
    path = (root / f"{slug}.md").resolve()
    if path.parent != root:  # defence in depth: the pattern already rules this out
        raise InvalidSlugError(f"invalid case id {slug!r}: it would leave the cases folder")
    return path
