"""Signing in and out. Failed logins are slowed down by :class:`kb.users.UserStore` (429 + Retry-After),
per name and client address and per client address overall."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for

from kb.errors import AuthenticationError, LoginThrottledError
from webui.auth import current_user, safe_next, sign_in, sign_out, users

bp = Blueprint("sessions", __name__)

WRONG_LOGIN = "Wrong name or password."


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; on success a fresh session and a redirect to where the person was going."""
    target = safe_next(request.values.get("next"), url_for("pages.search"))
    if request.method != "POST":  # GET, or HEAD: only a posted form is a login attempt
        if current_user() is not None:
            return redirect(target)
        return render_template("login.html", next=target, name="", error=None)
    name = (request.form.get("name") or "").strip()
    password = request.form.get("password") or ""
    if not name or not password:  # nobody to check: not an attempt
        return render_template("login.html", next=target, name=name, error=WRONG_LOGIN), 401
    try:
        # The client is the address in front of kb's proxies (KB_PROXY_HOPS, werkzeug's ProxyFix).
        user = users().authenticate(name, password, client=request.remote_addr or "")
    except LoginThrottledError as exc:
        response = make_response(render_template(
            "login.html", next=target, name=name,
            error=f"Too many failed attempts. Wait {exc.retry_after} seconds, then try again."), 429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except AuthenticationError:
        return render_template("login.html", next=target, name=name, error=WRONG_LOGIN), 401
    sign_in(user)
    return redirect(target)


@bp.post("/logout")
def logout():
    """End the session, and the user's sessions elsewhere (a POST with its CSRF token, so no other
    site can sign a person out)."""
    sign_out()
    flash("You are signed out.")
    return redirect(url_for("sessions.login"))
