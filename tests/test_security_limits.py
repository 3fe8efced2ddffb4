"""Request bodies are capped before anything is read (issue #15, item 2).

Before the cap an anonymous 300 MB multipart POST to /login was spooled to a temporary file
before CSRF refused it. The same through gunicorn is in tests/test_production.py.
"""

from __future__ import annotations

import io

import pytest

from tests.web_fixtures import SECRET_KEY, add_users, login, post


class CountingStream(io.RawIOBase):
    """A request body that says how much of it was read."""

    def __init__(self, size: int):
        self.size, self.read_bytes = size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = min(len(buffer), self.size - self.read_bytes)
        buffer[:count] = b"x" * count
        self.read_bytes += count
        return count


@pytest.fixture
def app(tmp_path):
    from kb.settings import Settings
    from webui import create_app

    app = create_app({"KB_SETTINGS": Settings(cases_dir=tmp_path / "cases", data_dir=tmp_path / "data"),
                      "SECRET_KEY": SECRET_KEY, "TESTING": True})
    add_users(app)
    return app


class Answer:
    def __init__(self, status: str, headers, body: bytes):
        self.status_code, self.headers, self.body = int(status.split()[0]), headers, body

    @property
    def text(self) -> str:
        return self.body.decode()


def send(app, url: str, stream: CountingStream, length: int | None,
         content_type: str = "multipart/form-data; boundary=kb") -> Answer:
    """POST a body straight through the WSGI app, as a server hands it over."""
    from werkzeug.test import create_environ, run_wsgi_app

    environ = create_environ(url, method="POST", base_url="http://localhost/")
    environ.update({"wsgi.input": stream, "CONTENT_TYPE": content_type})
    if length is None:
        environ.pop("CONTENT_LENGTH", None)
        environ["wsgi.input_terminated"] = True  # a chunked body, as gunicorn and werkzeug pass it
    else:
        environ["CONTENT_LENGTH"] = str(length)
    app_iter, status, headers = run_wsgi_app(app, environ)
    try:
        body = b"".join(app_iter)
    finally:
        getattr(app_iter, "close", lambda: None)()
    return Answer(status, headers, body)


def claimed_upload(client, url: str, size: int, stream: CountingStream) -> Answer:
    return send(client.application, url, stream, size)


@pytest.mark.parametrize("url", ["/login", "/preview", "/cases/new", "/logout", "/admin/users"])
def test_a_huge_body_is_refused_unread(app, url):
    stream = CountingStream(300 * 1024 * 1024)
    response = claimed_upload(app.test_client(), url, 300 * 1024 * 1024, stream)
    assert response.status_code == 413
    assert stream.read_bytes == 0, "nothing of the body was read, so nothing was spooled to disk"


def test_the_refusal_says_what_the_limit_is(app):
    response = claimed_upload(app.test_client(), "/login", 2_000_000, CountingStream(2_000_000))
    assert response.status_code == 413 and "1,048,576 bytes, KB_MAX_REQUEST_BYTES" in response.text


def test_a_body_without_a_length_is_cut_at_the_limit(app):
    """Chunked bodies carry no Content-Length: reading stops at the limit (and the truncated form
    has no valid CSRF token)."""
    stream = CountingStream(50 * 1024 * 1024)
    response = send(app, "/login", stream, None, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (400, 413)
    assert stream.read_bytes <= app.config["MAX_CONTENT_LENGTH"]


def test_a_story_within_the_limit_still_saves(app):
    """The cap leaves room for a long story (the editor posts the whole Markdown)."""
    client = app.test_client()
    login(client, "mia")
    body = "## Situation\n" + ("A long paragraph about the customer's situation. " * 12_000)  # ~590 kB
    response = post(client, "/preview", {"title": "Long", "body": body}, token_from="/cases/new")
    assert response.status_code == 200


def test_the_limit_is_a_setting(tmp_path):
    from webui.config import web_config

    config = web_config(environ={"KB_MAX_REQUEST_BYTES": "4096", "KB_DATA": str(tmp_path)})
    assert config["MAX_CONTENT_LENGTH"] == 4096
    from kb.settings import Settings
    from webui import create_app

    app = create_app({"KB_SETTINGS": Settings(cases_dir=tmp_path / "cases", data_dir=tmp_path / "data"),
                      "SECRET_KEY": SECRET_KEY, "TESTING": True, "MAX_CONTENT_LENGTH": 4096})
    assert claimed_upload(app.test_client(), "/login", 5000, CountingStream(5000)).status_code == 413
    assert app.config["MAX_FORM_MEMORY_SIZE"] == 4096
