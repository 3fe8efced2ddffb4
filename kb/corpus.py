"""A folder of case studies: finding the files, parsing them all, checking ids are unique."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from kb.cases import Case, Problem
from kb.parser import read_case
from kb.errors import InvalidSlugError
from kb.slugs import case_file_problem, file_case_id


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

    Hidden files and folders and names starting with ``_`` are skipped in folders. Links
    met in a folder are listed too (so they are counted and reported), and links to folders
    as well, but never followed: :func:`load_corpus` refuses them.
    """
    return [path for path, folder in _listed(paths) if folder is None or not path.is_dir()]


def _listed(paths: Iterable[Path | str]) -> list[tuple[Path, Path | None]]:
    """Each case file of paths with the folder it was found in (None: named as a file)."""
    found: list[tuple[Path, Path | None]] = []
    for path in map(Path, paths):
        if path.is_dir():  # the folder itself may be a link: what is inside it may not
            found.extend((candidate, path) for candidate in _walk(path))
        else:
            found.append((path, None))
    return found


def _walk(folder: Path) -> list[Path]:
    """The ``*.md`` entries and the links to folders under folder, in path order; links are not followed."""
    found: list[Path] = []
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith((".", "_")):
                continue
            path = current / entry.name
            if entry.is_dir(follow_symlinks=False):
                pending.append(path)
            elif entry.name.endswith(".md") or entry.is_symlink() and entry.is_dir():
                found.append(path)
    return sorted(found)


def load_corpus(root: Path | str, paths: Iterable[Path | str] | None = None) -> Corpus:
    """Parse every case file under root (or the given paths), skipping the broken ones.

    A file with errors is left out and its problems recorded; so is a file found in a
    folder through a link (see :func:`kb.slugs.case_file_problem`), a file whose name is no case
    id (see :func:`kb.slugs.file_case_id`), and a second file with an id already seen
    ("duplicate id"). A file named as a path is read as given, links included.
    """
    corpus = Corpus(root=Path(root))
    origin: dict[str, str] = {}
    for path, folder in _listed(paths if paths is not None else [root]):
        name = display_path(path)
        link = case_file_problem(folder, path) if folder is not None else None
        if link is not None:
            corpus.problems.append(Problem(name, 1, f"skipped: {link}"))
            continue
        if not path.exists():
            corpus.problems.append(Problem(name, 1, "no such file or folder"))
            continue
        case, problems = read_case(path, name)
        corpus.problems.extend(problems)
        stem = path.name.removesuffix(".md")
        try:
            case_id = file_case_id(stem)
        except InvalidSlugError as exc:
            corpus.problems.append(Problem(name, 1, f"skipped: {exc}"))
            continue
        if case_id in origin:
            corpus.problems.append(Problem(name, 1, f"duplicate id '{case_id}': also used by {origin[case_id]}"))
            continue
        if case_id != stem:
            corpus.problems.append(Problem(
                name, 1, f"id '{stem}' is read as '{case_id}' (capital letters lowercased); rename the file "
                         f"to {case_id}.md", severity="warning"))
        origin[case_id] = name
        if case is not None:
            corpus.cases[case_id] = case if case.id == case_id else replace(case, id=case_id)
    return corpus


def validate(paths: Iterable[Path | str], strict: bool = False) -> list[Problem]:
    """Check case files and return their problems; with strict, warnings count as errors."""
    problems = load_corpus(Path("."), paths).problems
    if strict:
        problems = [Problem(p.path, p.line, p.message, "error") for p in problems]
    return problems
