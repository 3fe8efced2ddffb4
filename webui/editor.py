"""The editor's form: request values to a :class:`kb.editing.CaseForm`, problems by field, the preview.

Checking is :func:`kb.editing.check_form`'s job (the rules of ``kb validate``); this module
only reads what the browser sent: the id, the front-matter fields, the body, and extra
metadata written as YAML (``key: value`` lines).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from werkzeug.datastructures import MultiDict

from kb.editing import FORM_FIELDS, LIST_FORM_FIELDS, CaseForm, check_form
from kb.fields import BY_NAME, KNOWN_FIELDS
from kb.parser import RefusedYAMLError, load_yaml, split_sections
from kb.scaffold import JOURNEY_TEMPLATE
from kb.slugs import is_valid_slug
from webui.stories import StorySection, render_sections

#: Labels of the form's fields, in order (a unit in brackets: "Company size (employees)").
FIELD_LABELS: dict[str, str] = {name: BY_NAME[name].form_label for name in FORM_FIELDS}
#: Fields with a fixed set of values (shown as selects).
CHOICES: dict[str, tuple[str, ...]] = {name: BY_NAME[name].choices for name in FORM_FIELDS if BY_NAME[name].choices}
#: Hint under each field.
HINTS: dict[str, str] = {name: BY_NAME[name].hint for name in FORM_FIELDS if BY_NAME[name].hint}
#: Longest body accepted from the form (a story is a few pages).
MAX_BODY_CHARS = 200_000
SLUG_HINT = "Lowercase letters, digits and hyphens, e.g. regional-bank-deposits. It becomes the file name."
PREVIEW_SLUG = "preview"


@dataclass
class EditorState:
    """Everything the editor page shows.

    Attributes:
        form: The case as typed.
        extra_text: The extra metadata as typed (YAML).
        problems: Field name (``slug``, ``extra``, ``body``, ``file`` or a front-matter field) -> messages.
        file_hash: The file's hash when the editor opened it (None for a new case).
        creating: True for a new case.
        other_version: What the file holds now, after a concurrent edit (None otherwise).
    """

    form: CaseForm
    extra_text: str = ""
    problems: dict[str, list[str]] = field(default_factory=dict)
    file_hash: str | None = None
    creating: bool = True
    other_version: str | None = None

    @property
    def fields(self) -> dict[str, str]:
        return self.form.fields


def blank_state() -> EditorState:
    """A new case: the journey template as body, a draft dated today."""
    fields = {"status": "draft", "published": dt.date.today().isoformat()}
    return EditorState(form=CaseForm(slug="", fields=fields, body=JOURNEY_TEMPLATE))


def state_from_case(form: CaseForm, file_hash: str | None) -> EditorState:
    """The editor over an existing case."""
    return EditorState(form=form, extra_text=dump_extra(form.extra), file_hash=file_hash, creating=False)


def read_form(values: MultiDict, slug: str | None = None) -> EditorState:
    """What the browser sent, with the problems found before checking (id and extra metadata).

    Args:
        values: The form values.
        slug: The case id of an existing case (from the URL); None to read it from the form.
    """
    problems: dict[str, list[str]] = {}
    fields = {name: (values.get(name) or "").strip() for name in FORM_FIELDS}
    for name in LIST_FORM_FIELDS:
        fields[name] = ", ".join(item.strip() for item in fields[name].split(",") if item.strip())
    body = (values.get("body") or "").replace("\r\n", "\n")
    if len(body) > MAX_BODY_CHARS:
        problems["body"] = [f"the story is longer than {MAX_BODY_CHARS:,} characters; shorten it"]
        body = body[:MAX_BODY_CHARS]
    creating = slug is None
    if creating:
        slug = (values.get("slug") or "").strip()
        if not slug:
            problems["slug"] = ["required: " + SLUG_HINT]
        elif not is_valid_slug(slug):
            problems["slug"] = ["not a valid id. " + SLUG_HINT]
    extra_text = (values.get("extra") or "").replace("\r\n", "\n")
    extra, extra_problem = parse_extra(extra_text)
    if extra_problem:
        problems["extra"] = [extra_problem]
    form = CaseForm(slug=slug or "", fields=fields, body=body, extra=extra)
    return EditorState(form=form, extra_text=extra_text, problems=problems,
                       file_hash=(values.get("file_hash") or None), creating=creating)


def check(state: EditorState, cases_dir: Path) -> tuple[dict[str, list[str]], bool]:
    """Every problem of the form, by field (the form's own and those of `kb validate`'s rules),
    and whether the form can be saved (warnings, such as a story without journey headings, do
    not stop a save)."""
    form = state.form
    if not is_valid_slug(form.slug):
        form = CaseForm(slug=PREVIEW_SLUG, fields=form.fields, body=form.body, extra=form.extra)
    problems = {key: list(messages) for key, messages in state.problems.items()}
    checked = check_form(cases_dir, form)
    for key, messages in checked.by_field().items():
        problems.setdefault(key, []).extend(messages)
    return problems, checked.ok and not any(state.problems.values())


def parse_extra(text: str) -> tuple[dict[str, Any], str | None]:
    """Extra metadata typed as YAML ``key: value`` lines; an error message when it is not that.

    Read as the case file will be read (:func:`kb.parser.load_yaml`): aliases, deep nesting and
    huge numbers are refused before anything is built, since the preview shows every value.
    """
    if not text.strip():
        return {}, None
    try:
        data = load_yaml(text)
    except RefusedYAMLError as exc:
        return {}, f"line {exc.problem_mark.line + 1}: this metadata {exc.problem}"
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" on line {mark.line + 1}" if mark else ""
        return {}, f"not valid YAML{where}: write one 'key: value' per line"
    if data is None:
        return {}, None
    if not isinstance(data, dict):
        return {}, "write one 'key: value' per line"
    clashes = [str(key) for key in data if str(key) in KNOWN_FIELDS]
    if clashes:
        return {}, f"{', '.join(clashes)} {'has' if len(clashes) == 1 else 'have'} its own field above"
    return {str(key): value for key, value in data.items()}, None


def dump_extra(extra: dict[str, Any]) -> str:
    """Extra metadata as the YAML the form shows."""
    if not extra:
        return ""
    return yaml.safe_dump(extra, sort_keys=False, allow_unicode=True, width=1000)


@dataclass(frozen=True)
class Preview:
    """The story as it will read: metadata as typed and sections as sanitized HTML."""

    meta: dict[str, Any]
    sections: tuple[StorySection, ...]
    problems: dict[str, list[str]]


def preview(state: EditorState, cases_dir: Path) -> Preview:
    """Render the form as the story page will show it (nothing is written)."""
    meta: dict[str, Any] = dict(state.form.fields)
    for name in LIST_FORM_FIELDS:
        meta[name] = [item.strip() for item in meta.get(name, "").split(",") if item.strip()]
    meta["extra"] = state.form.extra
    sections = render_sections(split_sections(state.form.body))
    return Preview(meta=meta, sections=sections, problems=check(state, cases_dir)[0])
