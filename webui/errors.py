"""One error handler: domain errors become HTTP answers, in JSON for the API and HTML for pages.

The message a person reads is the error's own (it says what to do); unexpected errors are
logged and answered with a generic 500, never a stack trace.
"""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, SecurityError

from kb.errors import (
    CaseFormatError,
    CaseNotFoundError,
    IndexCorruptError,
    IndexFormatError,
    IndexNotFoundError,
    InvalidQueryError,
    ModelError,
)

#: Domain errors and the status each one answers with.
STATUS_OF: tuple[tuple[type[Exception], int], ...] = (
    (InvalidQueryError, 400),
    (CaseNotFoundError, 404),
    (IndexNotFoundError, 503),
    (IndexCorruptError, 503),
    (IndexFormatError, 503),
    (ModelError, 503),
)

TITLES = {
    400: "That request can't be run",
    401: "Sign in first",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Someone else changed this",
    413: "Too large",
    422: "Not saved yet",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "The knowledge base is not ready",
}
NOT_FOUND = "There is no page at this address. Search the stories or browse them all."
API_NOT_FOUND = "no such API route: the routes are described at /api/openapi.json"
INTERNAL = "Something went wrong on our side. Try again; if it keeps happening, tell the kb administrator."


def wants_json() -> bool:
    """Whether the request is for the JSON API (and so is its error)."""
    return request.path.startswith("/api/") or request.path == "/healthz"


def describe(exc: Exception) -> tuple[int, str]:
    """The status and the message a person reads for an error."""
    for kind, status in STATUS_OF:
        if isinstance(exc, kind):
            return status, str(exc)
    if isinstance(exc, CaseFormatError):
        first = exc.problems[0].message if exc.problems else "unreadable"
        return 503, (f"this story's file changed since it was indexed and cannot be read ({first}): "
                     "fix it and run `kb index`")
    if isinstance(exc, HTTPException):
        status = exc.code or 500
        if status == 404:
            return 404, API_NOT_FOUND if wants_json() else NOT_FOUND
        if isinstance(exc, RequestEntityTooLarge):
            limit = current_app.config.get("MAX_CONTENT_LENGTH")
            return 413, (f"this request is larger than kb accepts ({limit:,} bytes, KB_MAX_REQUEST_BYTES); "
                         "nothing was saved" if limit else "this request is larger than kb accepts")
        return status, exc.description or TITLES.get(status, "error")
    current_app.logger.exception("unexpected error on %s %s", request.method, request.path)
    return 500, INTERNAL


def handle_error(exc: Exception):
    """Answer an error in the format the request asked for."""
    status, message = describe(exc)
    if isinstance(exc, SecurityError):  # an untrusted Host: no page, no URL built from it
        return current_app.response_class(f"{status} {message}\n", status=status, mimetype="text/plain")
    if wants_json():
        response = jsonify(error={"status": status, "message": message})
    else:
        response = current_app.make_response(render_template(
            "error.html", status=status, title=TITLES.get(status, "Error"), message=message))
    response.status_code = status
    if isinstance(exc, HTTPException) and "Allow" in exc.get_response().headers:
        response.headers["Allow"] = exc.get_response().headers["Allow"]  # 405 says what is allowed
    return response


def init_app(app: Flask) -> None:
    """Route every error through :func:`handle_error`."""
    app.register_error_handler(Exception, handle_error)
