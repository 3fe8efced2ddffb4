"""Writing case studies from an editor: checked by the same rules as `kb validate`, saved atomically.

A save never leaves the cases folder, never overwrites another case, and notices when the
file changed since the editor opened it (a concurrent edit) instead of losing either version.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

from kb.cases import Case, Problem
from kb.errors import CaseExistsError, CaseFormatError, ConcurrentEditError, InvalidSlugError, UserError
from kb.fields import BY_NAME, EDITOR_FIELDS
from kb.files import create_file, replace_file
from kb.parser import parse_bytes
from kb.scaffold import JOURNEY_TEMPLATE, render_case
from kb.slugs import case_path, is_valid_slug, read_case_id

#: Front-matter fields the editor form shows, in order (the registry's editor fields).
FORM_FIELDS: tuple[str, ...] = EDITOR_FIELDS
#: Those typed as comma-separated lists.
LIST_FORM_FIELDS: tuple[str, ...] = tuple(name for name in EDITOR_FIELDS if BY_NAME[name].is_list)


@dataclass
class CaseForm:
    """What an editor submits: the front-matter fields, the Markdown body, extra metadata.

    List fields are comma-separated text, as typed in a form.
    """

    slug: str
    fields: dict[str, str] = field(default_factory=dict)
    body: str = JOURNEY_TEMPLATE
    extra: dict = field(default_factory=dict)

    def text(self) -> str:
        """The case file this form describes."""
        values: dict = {}
        for key in FORM_FIELDS:
            raw = (self.fields.get(key) or "").strip()
            if key in LIST_FORM_FIELDS:
                values[key] = [item.strip() for item in raw.split(",") if item.strip()]
            else:
                values[key] = raw
        title = values.pop("title")
        return render_case(title, self.body.replace("\r\n", "\n"), **values, **self.extra)

    @classmethod
    def from_case(cls, case: Case) -> CaseForm:
        return cls(slug=read_case_id(case.id), fields={name: _form_value(getattr(case, name)) for name in FORM_FIELDS},
                   body=case.body, extra=dict(case.extra))


def _form_value(value) -> str:
    """A field's value as a form shows it: lists comma-separated, dates YYYY-MM-DD, none blank."""
    if isinstance(value, (tuple, list)):
        return ", ".join(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return "" if value is None else str(value)


@dataclass(frozen=True)
class CheckedForm:
    """A form after checking: the case when valid, and its problems by field."""

    case: Case | None
    text: str
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return self.case is not None and not any(p.is_error for p in self.problems)

    def by_field(self) -> dict[str, list[str]]:
        """Problems keyed by the form field they concern ("body" or "file" otherwise)."""
        out: dict[str, list[str]] = {}
        for problem in self.problems:
            name, _, rest = problem.message.partition(": ")
            key = name if name in FORM_FIELDS and rest else ("body" if "journey" in problem.message else "file")
            out.setdefault(key, []).append(rest if key in FORM_FIELDS else problem.message)
        return out


def check_form(cases_dir: Path | str, form: CaseForm) -> CheckedForm:
    """Render a form to a case file and check it by the rules of `kb validate` (nothing written).

    A slug whose file is a link (see :func:`kb.slugs.case_file_problem`) is a problem of the form:
    the editor neither reads nor writes through links.

    Raises:
        InvalidSlugError: the slug is not ``[a-z0-9-]+``.
    """
    text = form.text()
    try:
        path = case_path(cases_dir, form.slug)
    except InvalidSlugError as exc:
        if not is_valid_slug(form.slug):
            raise
        return CheckedForm(case=None, text=text, problems=[Problem(f"{form.slug}.md", 1, str(exc))])
    case, problems = parse_bytes(text.encode("utf-8"), path, f"{form.slug}.md")
    if case is not None and case.id != form.slug:  # openAI.md, read as the case openai
        case = replace(case, id=form.slug)
    return CheckedForm(case=case, text=text, problems=problems)


def file_hash(path: Path) -> str | None:
    """SHA-256 of a file's bytes, or None when it does not exist."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def save_case(cases_dir: Path | str, form: CaseForm, *, expected_hash: str | None, create: bool) -> Case:
    """Check and write a case file atomically.

    Args:
        cases_dir: The cases folder; the file is CASES_DIR/SLUG.md (or the file read as that id,
            see :func:`kb.slugs.case_path`), never a link, never anywhere else.
        form: What the editor submitted.
        expected_hash: The file's hash when the editor opened it (ignored when creating).
        create: True for a new case: refuse if the file exists.

    Returns:
        The saved case.

    Raises:
        InvalidSlugError: bad slug.
        CaseFormatError: the form does not make a valid case (problems inside).
        CaseExistsError: creating over an existing case.
        ConcurrentEditError: the file changed (or vanished) since the editor opened it.
    """
    checked = check_form(cases_dir, form)
    if not checked.ok:
        raise CaseFormatError([p for p in checked.problems if p.is_error])
    path = case_path(cases_dir, form.slug)
    path.parent.mkdir(parents=True, exist_ok=True)
    if create:
        create_file(path, checked.text)
        return checked.case
    current = file_hash(path)
    if current is None:
        raise ConcurrentEditError(f"{form.slug} was deleted since you opened it; save it as a new case", "")
    if current != expected_hash:
        raise ConcurrentEditError(
            f"{form.slug} was changed by someone else since you opened it; your version was not saved. "
            "Compare the two, merge, and save again", path.read_text(encoding="utf-8", errors="replace"))
    replace_file(path, checked.text)
    return checked.case


def set_status(cases_dir: Path | str, slug: str, status: str, expected_hash: str | None) -> Case:
    """Publish or unpublish a case (rewrites only its status)."""
    from kb.parser import parse_case

    if status not in ("published", "draft"):
        raise UserError(f"status '{status}' is not one of published, draft")
    path = case_path(cases_dir, slug)
    form = CaseForm.from_case(parse_case(path))
    form.slug = slug
    form.fields["status"] = status
    return save_case(cases_dir, form, expected_hash=expected_hash, create=False)


__all__ = ["CaseExistsError", "CaseForm", "CheckedForm", "check_form", "file_hash", "save_case", "set_status"]
