"""Writing stories: create, edit, live preview, publish and unpublish (marketers and admins).

Every save is one call, :meth:`kb.assembly.Assembly.save_case`: :func:`kb.editing.save_case`
(atomic, inside the cases folder, never over another case, concurrent edits noticed), then
the background indexer is asked to update the index, so the story is searchable within
seconds. Publishing and unpublishing likewise (:meth:`~kb.assembly.Assembly.set_status`).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from kb.editing import CaseForm, file_hash
from kb.errors import CaseExistsError, CaseFormatError, ConcurrentEditError, InvalidSlugError
from kb.parser import parse_case
from kb.slugs import case_path
from webui.auth import requires
from webui.editor import (
    CHOICES,
    FIELD_LABELS,
    HINTS,
    SLUG_HINT,
    EditorState,
    blank_state,
    check,
    preview,
    read_form,
    state_from_case,
)
from webui.index_status import index_status
from webui.views import assembly

bp = Blueprint("editor", __name__)


def _cases_dir():
    return assembly().settings.cases_dir


def _render(state: EditorState, status: int = 200, show_preview: bool = False):
    context = {
        "state": state, "labels": FIELD_LABELS, "choices": CHOICES, "hints": HINTS, "slug_hint": SLUG_HINT,
        "preview": preview(state, _cases_dir()) if show_preview or state.problems else None,
        "index_status": index_status(),
    }
    return render_template("editor.html", **context), status


def _existing(case_id: str):
    """The file of an existing case (404 when the id is bad or there is no such file)."""
    try:
        path = case_path(_cases_dir(), case_id)
    except InvalidSlugError:
        abort(404)
    if not path.is_file():
        abort(404)
    return path


@bp.get("/cases/new")
@requires("edit")
def new():
    """An empty editor, the body pre-filled with the journey template."""
    return _render(blank_state())


@bp.post("/cases/new")
@requires("edit")
def create():
    """Save a new case (never over an existing one)."""
    state = read_form(request.form)
    return _save(state, create=True)


@bp.get("/cases/<case_id>/edit")
@requires("edit")
def edit(case_id: str):
    """The editor over a case file, remembering the file's hash to notice concurrent edits."""
    path = _existing(case_id)
    try:
        case = parse_case(path)
    except CaseFormatError as exc:
        first = exc.problems[0] if exc.problems else "it is not a valid story"
        abort(422, description=f"{case_id}.md cannot be opened in the editor ({first}); fix the file in the cases folder")
    return _render(state_from_case(CaseForm.from_case(case), file_hash(path)))


@bp.post("/cases/<case_id>/edit")
@requires("edit")
def update(case_id: str):
    """Save an edit; a file changed meanwhile is shown beside the person's version, nothing lost."""
    _existing(case_id)
    state = read_form(request.form, slug=case_id)
    return _save(state, create=False)


@bp.post("/preview")
@requires("edit")
def preview_fragment():
    """The live preview: the form rendered as sanitized HTML, with its problems (nothing saved)."""
    state = read_form(request.form, slug=request.form.get("case_id") or None)
    return render_template("_preview.html", preview=preview(state, _cases_dir()), labels=FIELD_LABELS)


@bp.post("/cases/<case_id>/publish")
@requires("publish")
def publish(case_id: str):
    return _set_status(case_id, "published")


@bp.post("/cases/<case_id>/unpublish")
@requires("publish")
def unpublish(case_id: str):
    return _set_status(case_id, "draft")


def _save(state: EditorState, create: bool):
    if request.form.get("action") == "preview":  # the no-JavaScript preview button
        return _render(state, show_preview=True)
    problems, ok = check(state, _cases_dir())
    if not ok:
        state.problems = problems
        return _render(state, status=422)
    try:
        case = assembly().save_case(state.form, expected_hash=state.file_hash, create=create)
    except CaseExistsError:
        state.problems = {"slug": ["a story with this id already exists; choose another id"]}
        return _render(state, status=409)
    except ConcurrentEditError as exc:
        state.other_version = exc.current_text
        state.file_hash = file_hash(case_path(_cases_dir(), state.form.slug))
        state.problems = {"file": [str(exc)]}
        return _render(state, status=409)
    except CaseFormatError as exc:
        state.problems = {"file": [p.message for p in exc.problems]}
        return _render(state, status=422)
    flash(f"Saved “{case.title}” as {'a draft' if case.is_draft else 'published'}. "
          "It is searchable as soon as the index is updated.")
    return redirect(url_for("editor.edit", case_id=case.id))


def _set_status(case_id: str, status: str):
    path = _existing(case_id)
    expected = request.form.get("file_hash") or file_hash(path)
    try:
        case = assembly().set_status(case_id, status, expected)
    except ConcurrentEditError:
        abort(409, description="the story changed since you opened it: reload the page and try again")
    except CaseFormatError as exc:
        first = exc.problems[0].message if exc.problems else "it is not a valid story"
        abort(422, description=f"fix the story before publishing it: {first}")
    flash(f"“{case.title}” is {'published' if status == 'published' else 'a draft again'}; "
          "the search index is being updated.")
    return redirect(url_for("editor.edit", case_id=case_id))
