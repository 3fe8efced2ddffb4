"""Security headers on every response, and CSRF protection for any form that posts.

Pages shown to a signed-in user are never stored by browsers or proxies (``Cache-Control:
no-store``: they hold drafts, insights and user lists); with ``--prod`` (TLS at the proxy)
browsers are told to use HTTPS only (HSTS).
"""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import SecurityError

#: No inline script or style anywhere: scripts and styles come from /static only.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
])

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

#: With --prod: HTTPS only, for a year (sent only over HTTPS matters to browsers).
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"

csrf = CSRFProtect()


def add_security_headers(response: Response) -> Response:
    """Set the security headers (an after-request hook)."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if g.get("user") is not None and request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    if current_app.config.get("PROD"):
        response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    return response


def refuse_untrusted_host() -> None:
    """First of all: a Host header not in TRUSTED_HOSTS stops the request (400) before any hook
    reads the session or builds a URL from it."""
    if isinstance(request.routing_exception, SecurityError):
        raise request.routing_exception


def init_app(app: Flask) -> None:
    """Install the host check, the headers hook and CSRF protection."""
    app.before_request(refuse_untrusted_host)
    app.after_request(add_security_headers)
    csrf.init_app(app)
