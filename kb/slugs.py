"""Case ids (slugs): what they may contain, and where their files live.

One rule, used by the indexer, ``kb validate``, ``kb new`` and the editor: a case id is
lowercase ASCII letters and digits joined by single hyphens (:func:`is_valid_slug`), and a
case is the file ``ID.md`` (:func:`file_case_id`):

* a file name whose only fault is ASCII capitals (``openAI.md``) is read as its lowercase
  id (``openai``), with a warning: lowercasing ASCII is unambiguous, and two names it would
  merge are caught as a duplicate id;
* every other name (accents, spaces, underscores, other scripts) is refused, with a valid
  name to rename the file to: NFC and NFD "café" look alike yet are two different names.

A case file is read or written only when it is a regular file reached through no link:
a symbolic link, to a file or a folder, inside the cases folder or out of it, is refused
(:func:`case_file_problem`), so nothing outside the folder is ever indexed, shown or overwritten.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

from kb.errors import InvalidSlugError

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
MAX_SLUG_LENGTH = 100


def is_valid_slug(slug: str) -> bool:
    """True when slug is lowercase letters and digits, joined by single hyphens."""
    return isinstance(slug, str) and len(slug) <= MAX_SLUG_LENGTH and _SLUG.fullmatch(slug) is not None


def suggest_slug(name: str) -> str:
    """A valid id close to a name: accents dropped, lowercase, every other run of characters a hyphen.

    ``suggest_slug("Café") == "cafe"``; a name with nothing usable gives ``"case"``.
    """
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")
    return slug[:MAX_SLUG_LENGTH].rstrip("-") or "case"


def lowercased_id(name: str) -> str | None:
    """The id a name of ASCII capitals stands for ("openAI" -> "openai"); None for any other name.

    Also what a judged query's case id is read as, so judgments written against the file
    name keep finding the case.
    """
    lowered = name.lower()
    return lowered if name.isascii() and lowered != name and is_valid_slug(lowered) else None


def read_case_id(name: str) -> str:
    """The case id a name written elsewhere stands for (a judged query's ``openAI``).

    Read as a file of that name would be; unchanged when no id can be read from it, so a
    typo is still reported as an unknown id.
    """
    return lowercased_id(name) or name


def file_case_id(stem: str) -> str:
    """The case id of the file ``STEM.md`` (see the module's rule).

    Raises:
        InvalidSlugError: no id can be read from the name; the message says what to rename it to.
    """
    if is_valid_slug(stem):
        return stem
    lowered = lowercased_id(stem)
    if lowered is not None:
        return lowered
    shown = stem if len(stem) <= 60 else stem[:57] + "..."
    raise InvalidSlugError(
        f"{shown!r} is not a valid case id; rename the file to lowercase letters, digits and '-' "
        f"(e.g. {suggest_slug(stem)}.md)")


def case_file_problem(cases_dir: Path | str, path: Path | str) -> str | None:
    """Why path is not a case file of cases_dir that kb may read or write (None when it is).

    Refused: a path outside the folder, and a path reached through a symbolic link (the
    file itself, or any folder between the cases folder and it). The cases folder itself
    may be, or lie under, a link. ``path`` is either under ``cases_dir`` as written or
    under its resolved form (as the index records it).
    """
    root, path = Path(cases_dir), Path(path)
    try:
        real_root = root.resolve()
        if path.is_relative_to(root):
            expected = real_root / path.relative_to(root)
        elif path.is_absolute() and path.is_relative_to(real_root):
            expected = path
        else:
            return "a file outside the cases folder"
        if not path.is_symlink() and path.resolve() == expected:
            return None
        real = path.resolve()
    except (OSError, RuntimeError):  # a loop of links (RuntimeError before Python 3.13)
        return "a link that cannot be followed"
    if not real.exists():
        return "a link to nothing (its target does not exist)"
    kind = "folder" if real.is_dir() else "file"
    if not real.is_relative_to(real_root):
        return f"a link to a {kind} outside the cases folder" + (
            "; kb does not follow it (copy the stories in, or rename the link with a leading '_')"
            if kind == "folder" else "")
    return (f"a link to the {kind} {real.relative_to(real_root).as_posix()} in the cases folder, which is read "
            "under its own name; kb does not follow links")


def case_path(cases_dir: Path | str, slug: str) -> Path:
    """Return the file of a case id inside cases_dir, refusing anything that could leave it.

    The file is ``CASES_DIR/SLUG.md``, or the existing file whose name is read as that id
    (``openAI.md`` for ``openai``), so a new case never doubles an existing one.

    Raises:
        InvalidSlugError: slug is not ``[a-z0-9-]+`` (so no separators, dots or encodings), or
            its file is a link.
    """
    if not is_valid_slug(slug):
        shown = slug if len(slug) <= 60 else slug[:57] + "..."
        raise InvalidSlugError(
            f"invalid case id {shown!r}: use lowercase letters, digits and single hyphens "
            f"(at most {MAX_SLUG_LENGTH} characters), e.g. 'regional-bank-deposits'")
    root = Path(cases_dir).resolve()
    path = root / f"{slug}.md"
    if not os.path.lexists(path):
        path = _file_read_as(root, slug) or path
    problem = case_file_problem(root, path)
    if problem is not None:
        raise InvalidSlugError(f"case {slug!r} cannot be opened here: {path.name} is {problem}")
    if path.parent != root:  # defence in depth: the pattern already rules this out
        raise InvalidSlugError(f"invalid case id {slug!r}: it would leave the cases folder")
    return path


def _file_read_as(root: Path, slug: str) -> Path | None:
    """The existing file of root whose name is read as slug by :func:`lowercased_id`, if any."""
    wanted = f"{slug}.md"
    try:
        names = sorted(name for name in os.listdir(root) if len(name) == len(wanted) and name.lower() == wanted)
    except OSError:
        return None
    return next((root / name for name in names if lowercased_id(name.removesuffix(".md")) == slug), None)
