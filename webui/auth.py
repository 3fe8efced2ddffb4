"""Who is asking: the signed-in user, what an anonymous reader may do, and the login gate.

The session cookie (signed by Flask) holds the user name, the user's session key and when
they signed in. The user is loaded from the database on every request, so a removed user or
a changed role takes effect at once; a cookie whose key is no longer the user's (they signed
out, changed password or role, or were removed and re-added) or that is older than
``KB_SESSION_HOURS`` signs nobody in. When ``KB_REQUIRE_LOGIN`` is off, an anonymous visitor
reads as a seller; writing always needs a signed-in marketer or admin.
"""

from __future__ import annotations

import functools
import hmac
import re
import time
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, redirect, request, session, url_for

from kb.errors import UserError
from kb.users import User, UserStore
from webui.stores import assembly, thread_store

#: What an anonymous visitor may do when reading needs no login.
ANONYMOUS_READER = User(name="", role="seller")
#: Endpoints open to everyone, even when reading needs a login.
PUBLIC_ENDPOINTS = frozenset({"sessions.login", "static", "api.health", "api.openapi"})
SIGN_IN_FIRST = "sign in first: this kb requires a login"

_UNSAFE_NEXT = re.compile(r"[\x00-\x1f\x7f\\]")


def users() -> UserStore:
    """This thread's user store (see :mod:`webui.stores`)."""
    return thread_store("users", assembly().users)


def _login_required() -> bool:
    """Whether reading needs a login (``KB_REQUIRE_LOGIN``)."""
    return assembly().settings.require_login


def current_user() -> User | None:
    """The signed-in user, or None."""
    return g.get("user")


def reader() -> User | None:
    """Whoever reads: the signed-in user, else an anonymous seller when no login is required."""
    user = current_user()
    if user is None and not _login_required():
        return ANONYMOUS_READER
    return user


def can(permission: str) -> bool:
    """Whether the request may do something (``read``, ``read_drafts``, ``edit``, ...)."""
    user = reader()
    return user is not None and user.can(permission)


def include_drafts() -> bool:
    """Whether this request sees drafts (marketers and admins)."""
    return can("read_drafts")


def sign_in(user: User) -> None:
    """Start a fresh session for a user (nothing from the previous session survives)."""
    session.clear()
    session.permanent = True  # the cookie expires with the sign-in (KB_SESSION_HOURS)
    session.update(user=user.name, key=user.session_key, at=int(time.time()))
    g.user = user


def sign_out() -> None:
    """End the session, and every other session of the same user (their cookies stop working)."""
    user = current_user()
    if user is not None:
        try:
            users().end_sessions(user.name)
        except UserError:
            pass  # removed meanwhile: no session of theirs works anyway
    session.clear()
    g.user = None


def _session_user() -> User | None:
    """The user the session cookie names, if the cookie is still valid for them."""
    name = session.get("user")
    if not name:
        return None
    user = users().get(name)
    key = session.get("key")
    signed_in_at = session.get("at")
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    if (user is None or not isinstance(key, str) or not hmac.compare_digest(key, user.session_key)
            or not isinstance(signed_in_at, int) or not 0 <= time.time() - signed_in_at <= lifetime):
        return None
    return user


def safe_next(target: str | None, default: str = "/") -> str:
    """Where to go after signing in: a path on this site only, never another host."""
    if not target or _UNSAFE_NEXT.search(target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def login_url() -> str:
    """The login page, coming back here afterwards (for a GET; a form post cannot be replayed)."""
    here = request.full_path.rstrip("?") if request.method == "GET" else None
    return url_for("sessions.login", next=here)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def requires(permission: str):
    """A view decorator: anonymous visitors go to the login page (401 for the API); a signed-in
    user without the permission gets 403."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            user = current_user()
            if user is None and (permission != "read" or _login_required()):
                if _wants_json():
                    abort(401, description=SIGN_IN_FIRST)
                return redirect(login_url())
            if not (user or ANONYMOUS_READER).can(permission):
                abort(403, description=f"your role ({(user or ANONYMOUS_READER).role}) cannot do this; "
                                       "ask an administrator if you need it")
            return view(*args, **kwargs)

        return wrapped

    return decorator


def load_user() -> None:
    """Before each request: load the session's user; enforce the login when reading needs one."""
    g.user = _session_user()
    if g.user is None and "user" in session:
        session.clear()  # removed, signed out elsewhere, changed, or expired
    if g.user is None and _login_required() and request.endpoint not in PUBLIC_ENDPOINTS:
        if _wants_json():
            abort(401, description=SIGN_IN_FIRST)
        return redirect(login_url())
    return None


def init_app(app: Flask) -> None:
    app.before_request(load_user)

    @app.context_processor
    def user_context():
        return {"current_user": current_user(), "can": can}
