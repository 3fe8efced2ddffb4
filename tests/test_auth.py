"""Logins, sessions and roles in the web UI: who may read, who may write, who sees drafts."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.inert import assert_inert
from tests.web_fixtures import (  # noqa: F401
    DRAFT_ID,
    PASSWORD,
    SECRET_KEY,
    add_users,
    client,
    csrf_token,
    kb_app,
    kb_users,
    login,
    post,
    sign_in,
    web_app,
    web_kb,
    web_settings,
)
from webui.auth import safe_next

pytestmark = pytest.mark.slow

DRAFT_TEXT = "merged insurer duplicate claims platforms cost synergies promised to investors"
#: Every route that writes, with its method: none is open to a seller.
WRITE_ROUTES = [
    ("GET", "/cases/new"), ("POST", "/cases/new"), ("GET", "/cases/andes-cargo/edit"),
    ("POST", "/cases/andes-cargo/edit"), ("POST", "/preview"), ("POST", "/cases/andes-cargo/publish"),
    ("POST", "/cases/andes-cargo/unpublish"), ("GET", "/admin/users"), ("POST", "/admin/users"),
    ("POST", "/admin/users/sam/remove"), ("POST", "/admin/reindex"),
]
OPEN_REDIRECTS = ["//evil.example", "https://evil.example/", "http:evil.example", "/\\evil.example",
                  "\\\\evil.example", "javascript:alert(1)", "/\t/evil.example", " //evil.example",
                  "//evil.example/%2f..", "https:/evil.example", "\x00//evil.example"]


@pytest.fixture(scope="module")
def locked_app(web_settings, web_kb, kb_users):
    """The session's knowledge base behind a login (KB_REQUIRE_LOGIN on)."""
    return web_app(web_settings, web_kb, require_login=True)


@pytest.fixture
def fresh_app(tmp_path):
    """An app with its own user database (so failed logins here slow no other test down)."""
    from kb.settings import Settings

    app = web_app(Settings(cases_dir=tmp_path / "cases", data_dir=tmp_path / "data"))
    add_users(app)
    return app


def _location(response) -> str:
    return response.headers.get("Location", "")


# -- login and logout --------------------------------------------------------------------


def test_login_page_has_a_csrf_protected_form(client):
    response = client.get("/login")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="csrf_token"' in html and 'type="password"' in html and 'autocomplete="current-password"' in html
    assert_inert(html, "login page")


def test_login_without_csrf_token_is_refused(fresh_app):
    response = fresh_app.test_client().post("/login", data={"name": "mia", "password": PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_login_goes_where_the_person_was_going_with_a_fresh_session(fresh_app):
    client = fresh_app.test_client()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    response = login(client, "mia", next="/browse?industry=Banking")
    assert response.status_code == 302 and _location(response) == "/browse?industry=Banking"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    with client.session_transaction() as session:
        assert session["user"] == "mia" and "planted" not in session
    assert "mia" in client.get("/login", follow_redirects=True).get_data(as_text=True)


def test_session_cookie_is_secure_in_production(tmp_path):
    from kb.assembly import Assembly
    from kb.settings import Settings
    from webui import create_app

    app = create_app(Assembly(Settings(cases_dir=tmp_path, data_dir=tmp_path / "data", secret_key=SECRET_KEY,
                                       prod=True)))
    add_users(app)
    response = login(app.test_client(), "mia")
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


@pytest.mark.parametrize("name, password", [("mia", "wrong password!"), ("nobody", PASSWORD), ("", "")])
def test_wrong_login_says_so_without_saying_which(fresh_app, name, password):
    client = fresh_app.test_client()
    response = login(client, name, password)
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert "Wrong name or password." in html
    with client.session_transaction() as session:
        assert "user" not in session


def test_repeated_failures_are_slowed_down_with_429(fresh_app):
    client = fresh_app.test_client()
    from kb.users import FREE_FAILURES

    statuses = [login(client, "mia", "not the password").status_code for _ in range(FREE_FAILURES)]
    assert statuses == [401] * FREE_FAILURES
    response = login(client, "mia", PASSWORD)  # even the right password must wait now
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert "Too many failed attempts" in response.get_data(as_text=True)


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_login_never_redirects_to_another_site(fresh_app, target):
    response = login(fresh_app.test_client(), "mia", next=target)
    assert response.status_code == 302
    location = _location(response)
    assert location == "/", f"{target!r} -> {location!r}"


def test_safe_next_keeps_local_paths_only():
    assert safe_next("/cases/andes-cargo?q=x#y") == "/cases/andes-cargo?q=x#y"
    for target in OPEN_REDIRECTS + [None, "", "cases", "evil.example"]:
        assert safe_next(target) == "/"


def test_logout_is_a_csrf_protected_post(fresh_app):
    client = fresh_app.test_client()
    login(client, "mia")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no token
    response = post(client, "/logout")
    assert response.status_code == 302 and _location(response) == "/login"
    with client.session_transaction() as session:
        assert "user" not in session
    assert client.get("/cases/new").status_code == 302


def test_a_removed_user_is_signed_out_at_once(fresh_app):
    client = fresh_app.test_client()
    login(client, "mia")
    assert client.get("/cases/new").status_code == 200
    with fresh_app.extensions["kb_assembly"].users() as store:
        store.remove("mia")
    response = client.get("/cases/new")
    assert response.status_code == 302 and _location(response).startswith("/login")


def test_a_changed_role_takes_effect_at_once(fresh_app):
    client = fresh_app.test_client()
    login(client, "mia")
    with fresh_app.extensions["kb_assembly"].users() as store:
        store.db.execute("UPDATE users SET role = 'seller' WHERE name = 'mia'")
    assert client.get("/cases/new").status_code == 403


# -- who may write -----------------------------------------------------------------------


@pytest.mark.parametrize("method, url", WRITE_ROUTES)
def test_a_seller_reaches_no_write_route(sign_in, method, url):
    client = sign_in("sam")
    if method == "GET":
        response = client.get(url)
    else:
        response = post(client, url, {"name": "x", "role": "admin", "password": PASSWORD})
    assert response.status_code == 403, f"{method} {url}"
    assert "your role (seller) cannot do this" in response.get_data(as_text=True)


def test_a_marketer_manages_no_users(sign_in):
    client = sign_in("mia")
    assert client.get("/cases/new").status_code == 200
    assert client.get("/admin/users").status_code == 403
    assert post(client, "/admin/reindex").status_code == 403


@pytest.mark.parametrize("method, url", WRITE_ROUTES)
def test_anonymous_writers_are_sent_to_the_login_page(client, method, url):
    if method == "GET":
        response = client.get(url)
        assert response.status_code == 302
        location = urlsplit(_location(response))
        assert location.path == "/login" and parse_qs(location.query)["next"] == [url]
    else:
        response = post(client, url)
        assert response.status_code == 302 and _location(response) == "/login"


def test_the_index_status_api_needs_a_marketer(client, sign_in):
    response = client.get("/api/index/status")
    assert response.status_code == 401
    assert response.get_json()["error"]["message"].startswith("sign in first")
    assert sign_in("sam").get("/api/index/status").status_code == 403
    status = sign_in("mia").get("/api/index/status").get_json()
    assert {"state", "message", "busy"} <= set(status)


def test_forms_need_their_csrf_token(sign_in):
    client = sign_in("mia")
    assert client.post("/preview", data={"title": "x", "body": "y"}).status_code == 400
    assert client.post("/cases/new", data={"slug": "x", "title": "x"}).status_code == 400


# -- when reading needs a login ----------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/?q=bank", "/browse", "/cases/andes-cargo", "/no-such-page"])
def test_login_required_sends_anonymous_readers_to_the_login_page(locked_app, url):
    response = locked_app.test_client().get(url)
    assert response.status_code == 302
    location = urlsplit(_location(response))
    assert location.path == "/login" and parse_qs(location.query)["next"] == [url]


@pytest.mark.parametrize("url", ["/api/search?q=bank", "/api/facets", "/api/cases/andes-cargo",
                                 "/api/cases/andes-cargo/similar"])
def test_login_required_api_answers_401(locked_app, url):
    response = locked_app.test_client().get(url)
    assert response.status_code == 401
    assert response.get_json()["error"] == {"status": 401, "message": "sign in first: this kb requires a login"}


def test_login_required_leaves_login_health_and_assets_open(locked_app):
    client = locked_app.test_client()
    assert client.get("/login").status_code == 200
    assert client.get("/healthz").status_code == 200
    with client.get("/static/app.css") as response:
        assert response.status_code == 200


def test_login_required_lets_a_signed_in_seller_read(locked_app, sign_in):
    client = sign_in("sam", app=locked_app)
    assert client.get("/?q=bank").status_code == 200
    assert client.get("/cases/andes-cargo").status_code == 200
    assert client.get("/api/search?q=bank").status_code == 200


# -- drafts ------------------------------------------------------------------------------


def _draft_visible(client) -> dict[str, bool]:
    search = client.get("/", query_string={"q": DRAFT_TEXT, "k": 100}).get_data(as_text=True)
    browse = client.get("/browse").get_data(as_text=True)
    drafts = client.get("/browse", query_string={"status": "draft"}).get_data(as_text=True)
    api = client.get("/api/search", query_string={"q": DRAFT_TEXT, "k": 100}).get_json()
    similar = client.get("/api/cases/clearview-dental-partners/similar", query_string={"k": 100}).get_json()
    return {
        "search page": f"/cases/{DRAFT_ID}" in search,
        "browse": f"/cases/{DRAFT_ID}" in browse,
        "drafts list": f"/cases/{DRAFT_ID}" in drafts,
        "story page": client.get(f"/cases/{DRAFT_ID}").status_code == 200,
        "api case": client.get(f"/api/cases/{DRAFT_ID}").status_code == 200,
        "api search": DRAFT_ID in {r["id"] for r in api["results"]},
        "api similar": DRAFT_ID in {r["id"] for r in similar["results"]},
        "api facets": client.get("/api/facets").get_json()["facets"]["industry"].get("Insurance") == 2,
    }


def test_drafts_are_invisible_to_sellers_and_anonymous_readers(client, sign_in):
    assert not any(_draft_visible(client).values()), _draft_visible(client)
    seller = sign_in("sam")
    assert not any(_draft_visible(seller).values()), _draft_visible(seller)


def test_marketers_and_admins_see_drafts_everywhere(sign_in):
    for name in ("mia", "ada"):
        visible = _draft_visible(sign_in(name))
        assert all(visible.values()), (name, visible)


def test_the_drafts_list_shows_only_drafts(sign_in):
    response = sign_in("mia").get("/browse", query_string={"status": "draft"})
    html = response.get_data(as_text=True)
    links = set(re.findall(r'<h3 class="card-title"><a href="/cases/([a-z0-9-]+)"', html))
    assert links == {DRAFT_ID}
    assert "<h1>Drafts</h1>" in html and 'name="status" value="draft"' in html
    assert "Draft" in html and 'class="badge badge-draft"' in html


# -- navigation --------------------------------------------------------------------------


def test_navigation_follows_the_role(client, sign_in):
    anonymous = client.get("/browse").get_data(as_text=True)
    assert "Sign in" in anonymous and "New story" not in anonymous and "Sign out" not in anonymous
    seller = sign_in("sam").get("/browse").get_data(as_text=True)
    assert "Sign out" in seller and "sam" in seller and "New story" not in seller and "Drafts" not in seller
    marketer = sign_in("mia").get("/browse").get_data(as_text=True)
    assert "New story" in marketer and "Drafts" in marketer and "Users" not in marketer
    assert 'action="/logout"' in marketer
    admin = sign_in("ada").get("/browse").get_data(as_text=True)
    assert "Users" in admin
    assert_inert(admin, "admin's browse page")
