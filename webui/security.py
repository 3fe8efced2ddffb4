"""Security headers on every response, and CSRF protection for any form that posts."""

from __future__ import annotations

from flask import Flask, Response
from flask_wtf.csrf import CSRFProtect

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

csrf = CSRFProtect()


def add_security_headers(response: Response) -> Response:
    """Set the security headers (an after-request hook)."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    """Install the headers hook and CSRF protection (the UI's own forms are GET-only today)."""
    app.after_request(add_security_headers)
    csrf.init_app(app)
