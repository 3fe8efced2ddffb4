"""A folder of case studies: finding the files, parsing them all, checking ids are unique."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kb.cases import Case, Problem
from kb.parser import read_case
from kb.slugs import is_valid_slug


@dataclass
class Corpus:
    """The parsed cases of a folder and the problems met while reading it."""

    root: Path
    cases: dict[str, Case] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    def published(self) -> list[Case]:
        return [case for case in self.cases.values() if not case.is_draft]


def display_path(path: Path) -> str:
    """Name a file the way a person typed it: relative to the working directory when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def case_files(paths: Iterable[Path | str]) -> list[Path]:
    """List the case files named by paths: files as given, folders searched recursively.

    Hidden files and folders and names starting with ``_`` are skipped in folders.
    """
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            for candidate in sorted(path.rglob("*.md")):
                parts = candidate.relative_to(path).parts
                if any(part.startswith((".", "_")) for part in parts):
                    continue
                if candidate.is_file() or candidate.is_symlink():
                    found.append(candidate)
        else:
            found.append(path)
    return found


def load_corpus(root: Path | str, paths: Iterable[Path | str] | None = None) -> Corpus:
    """Parse every case file under root (or the given paths), skipping the broken ones.

    A file with errors is left out and its problems recorded; a second file with an id
    already seen is left out with a "duplicate id" error.
    """
    corpus = Corpus(root=Path(root))
    origin: dict[str, str] = {}
    for path in case_files(paths if paths is not None else [root]):
        name = display_path(path)
        if not path.exists():
            corpus.problems.append(Problem(name, 1, "no such file or folder"))
            continue
        case, problems = read_case(path, name)
        corpus.problems.extend(problems)
        case_id = path.name.removesuffix(".md")
        if case_id in origin:
            corpus.problems.append(Problem(name, 1, f"duplicate id '{case_id}': also used by {origin[case_id]}"))
            continue
        if not is_valid_slug(case_id):
            corpus.problems.append(Problem(
                name, 1, f"id '{case_id}' is not made of lowercase letters, digits and hyphens; rename the file",
                severity="warning"))
        origin[case_id] = name
        if case is not None:
            corpus.cases[case.id] = case
    return corpus


def validate(paths: Iterable[Path | str], strict: bool = False) -> list[Problem]:
    """Check case files and return their problems; with strict, warnings count as errors."""
    problems = load_corpus(Path("."), paths).problems
    if strict:
        problems = [Problem(p.path, p.line, p.message, "error") for p in problems]
    return problems
