"""Administration: users (list, add, remove) and rebuilding the index (admins only)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from kb.errors import UserError
from kb.users import ROLES
from webui.auth import current_user, requires, users
from webui.index_status import index_status
from webui.stores import assembly

bp = Blueprint("admin", __name__)


def _page(error: str | None = None, form: dict[str, str] | None = None, status: int = 200):
    return render_template("admin_users.html", users=users().list(), roles=ROLES, error=error,
                           form=form or {"role": "seller"}, index_status=index_status()), status


@bp.get("/admin/users")
@requires("manage_users")
def user_list():
    """Every user and their role; a form to add one."""
    return _page()


@bp.post("/admin/users")
@requires("manage_users")
def add_user():
    name = (request.form.get("name") or "").strip()
    role = request.form.get("role") or ""
    try:
        users().add(name, role, request.form.get("password") or "")
    except UserError as exc:
        return _page(error=str(exc).capitalize(), form={"name": name, "role": role}, status=400)
    flash(f"Added {name} ({role}).")
    return redirect(url_for("admin.user_list"))


@bp.post("/admin/users/<name>/remove")
@requires("manage_users")
def remove_user(name: str):
    if name == current_user().name:
        return _page(error="You cannot remove yourself; ask another administrator.", status=400)
    try:
        users().remove(name)
    except UserError as exc:
        return _page(error=str(exc).capitalize(), status=404)
    flash(f"Removed {name}.")
    return redirect(url_for("admin.user_list"))


@bp.post("/admin/reindex")
@requires("reindex")
def reindex():
    """Ask the background indexer to bring the index up to date with the cases folder."""
    assembly().update_index(f"requested by {current_user().name}")
    flash("The search index is being updated.")
    return redirect(url_for("admin.user_list"))
