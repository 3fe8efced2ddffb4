"""Attacks on signing in and on sessions (issue #15, items 1, 7 and 10).

Each test here failed on the code before the fix: throttling counted failures per name (so
anyone could lock the admin out from elsewhere), counted a bodiless HEAD as a failure, checked
the wait and recorded the failure with the password check between them (so parallel guesses
were all verified), and session cookies stayed valid after sign-out or a removal.
"""

from __future__ import annotations

import threading
import time

import pytest

from kb.cli import cli
from kb.errors import AuthenticationError, LoginThrottledError, UserError
from kb.users import CLIENT_FREE_FAILURES, FREE_FAILURES, UserStore
from tests.test_users import Clock
from tests.web_fixtures import PASSWORD, SECRET_KEY, add_users, csrf_token, login, post

WRONG = "certainly not the password"


@pytest.fixture
def store(tmp_path):
    users = UserStore(tmp_path / "kb.sqlite3", clock=Clock())
    users.add("ada", "admin", PASSWORD)
    return users


def make_app(tmp_path, **config):
    """An app with its own database and one user of each role (no index: none is needed)."""
    from kb.settings import Settings
    from webui import create_app

    app = create_app({"KB_SETTINGS": Settings(cases_dir=tmp_path / "cases", data_dir=tmp_path / "data"),
                      "SECRET_KEY": SECRET_KEY, "TESTING": True, **config})
    add_users(app)
    return app


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)


def login_from(client, address: str, name: str, password: str = PASSWORD):
    """Sign in through the form as a client behind a proxy that forwards its address."""
    return client.post("/login", data={"name": name, "password": password, "csrf_token": csrf_token(client)},
                       headers={"X-Forwarded-For": address})


def signed_in(response) -> bool:
    return response.status_code == 302 and not response.headers["Location"].startswith("/login")


# -- throttling --------------------------------------------------------------------------


def test_failures_from_elsewhere_do_not_lock_a_person_out(store):
    """An attacker guessing from many addresses, one guess each, cannot lock the admin out."""
    for n in range(50):
        with pytest.raises(AuthenticationError):
            store.authenticate("ada", WRONG, client=f"198.51.100.{n}")
    assert store.authenticate("ada", PASSWORD, client="192.0.2.7").name == "ada"


def test_a_locked_out_pair_still_signs_in_from_another_client(store):
    for _ in range(FREE_FAILURES):
        with pytest.raises(AuthenticationError):
            store.authenticate("ada", WRONG, client="198.51.100.1")
    with pytest.raises(LoginThrottledError):
        store.authenticate("ada", PASSWORD, client="198.51.100.1")
    assert store.authenticate("ada", PASSWORD, client="192.0.2.7").name == "ada"


def test_one_client_spraying_many_names_hits_a_ceiling(store):
    for n in range(CLIENT_FREE_FAILURES):
        with pytest.raises(AuthenticationError) as info:
            store.authenticate(f"user{n}", WRONG, client="198.51.100.1")
        assert not isinstance(info.value, LoginThrottledError), n
    with pytest.raises(LoginThrottledError):
        store.authenticate("ada", PASSWORD, client="198.51.100.1")
    assert store.authenticate("ada", PASSWORD, client="192.0.2.7").name == "ada"


def test_parallel_guesses_are_reserved_before_the_password_check(tmp_path, monkeypatch):
    """30 guesses at once: only the free ones reach the (slow) password check."""
    import kb.users

    path = tmp_path / "kb.sqlite3"
    UserStore(path).add("ada", "admin", PASSWORD)
    real, verified, lock = kb.users._HASHER, [], threading.Lock()

    class CountingHasher:
        def verify(self, hash_, password):
            with lock:
                verified.append(password)
            time.sleep(0.05)  # a slow hash: the window an unlocked check-then-record leaves open
            return real.verify(hash_, password)

        def __getattr__(self, name):
            return getattr(real, name)

    monkeypatch.setattr(kb.users, "_HASHER", CountingHasher())
    outcomes: list[str] = []
    start = threading.Barrier(30)

    def guess(n: int) -> None:
        users = UserStore(path)
        try:
            start.wait()
            users.authenticate("ada", f"{WRONG} {n}", client="198.51.100.1")
            outcomes.append("in")
        except LoginThrottledError:
            outcomes.append("throttled")
        except AuthenticationError:
            outcomes.append("wrong")
        finally:
            users.close()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) == ["throttled"] * (30 - FREE_FAILURES) + ["wrong"] * FREE_FAILURES
    assert len(verified) == FREE_FAILURES


def test_old_attempts_are_pruned(store):
    for n in range(5):
        with pytest.raises(AuthenticationError):
            store.authenticate(f"user{n}", WRONG, client=f"198.51.100.{n}")
    store._clock.now += 16 * 60
    store.authenticate("ada", PASSWORD, client="192.0.2.7")
    assert store.db.execute("SELECT count(*) FROM login_attempts").fetchone()[0] == 0


def test_head_requests_are_not_login_attempts(app):
    client = app.test_client()
    for _ in range(10):
        assert client.head("/login").status_code == 200
    assert signed_in(login(client, "mia"))


def test_an_empty_form_is_not_an_attempt(app):
    client = app.test_client()
    for _ in range(10):
        assert login(client, "", "").status_code == 401
    assert signed_in(login(client, "mia"))


def test_web_login_throttles_the_pair_not_the_person(tmp_path):
    """Behind one proxy hop, the client is the address the proxy saw (X-Forwarded-For)."""
    app = make_app(tmp_path, KB_PROXY_HOPS=1)
    attacker, person = app.test_client(), app.test_client()
    for n in range(FREE_FAILURES + 3):
        response = login_from(attacker, "198.51.100.1", "ada", WRONG)
        assert response.status_code == (401 if n < FREE_FAILURES else 429)
    assert signed_in(login_from(person, "192.0.2.7", "ada"))


def test_forwarded_addresses_are_ignored_without_proxy_hops(app):
    """With KB_PROXY_HOPS 0 (the default) a client cannot pick its address with a header."""
    client = app.test_client()
    statuses = [login_from(client, f"198.51.100.{n}", "ada", WRONG).status_code for n in range(FREE_FAILURES + 1)]
    assert statuses == [401] * FREE_FAILURES + [429]


# -- sessions ----------------------------------------------------------------------------


def copy_session(source, target) -> None:
    cookie = source.get_cookie("session")
    assert cookie is not None
    target.set_cookie("session", cookie.value)


def test_a_copied_cookie_stops_working_at_sign_out(app):
    client, thief = app.test_client(), app.test_client()
    assert signed_in(login(client, "mia"))
    copy_session(client, thief)
    assert thief.get("/cases/new").status_code == 200  # the copy works while the session lives
    post(client, "/logout")
    assert thief.get("/cases/new").status_code == 302


def test_a_removed_and_readded_user_gets_no_old_session_back(app):
    client, thief = app.test_client(), app.test_client()
    assert signed_in(login(client, "sam"))
    copy_session(client, thief)
    store = UserStore(app.config["KB_DATABASE"])
    store.remove("sam")
    store.add("sam", "marketer", PASSWORD)
    store.close()
    response = thief.get("/cases/new")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("change", ["password", "role"])
def test_a_password_or_role_change_ends_sessions(app, change):
    client = app.test_client()
    assert signed_in(login(client, "mia"))
    store = UserStore(app.config["KB_DATABASE"])
    if change == "password":
        store.set_password("mia", "a different horse battery staple")
    else:
        store.set_role("mia", "admin")
    store.close()
    assert client.get("/cases/new").status_code == 302


def test_sessions_expire_after_the_lifetime(tmp_path):
    app = make_app(tmp_path, KB_SESSION_HOURS=2)
    client = app.test_client()
    response = login(client, "mia")
    assert signed_in(response)
    assert "Expires=" in response.headers["Set-Cookie"]
    assert client.get("/cases/new").status_code == 200
    with client.session_transaction() as session:
        session["at"] -= 2 * 3600 + 1
    assert client.get("/cases/new").status_code == 302


def test_a_session_without_its_key_signs_nobody_in(app):
    client = app.test_client()
    with client.session_transaction() as session:  # a cookie forged with the old format
        session["user"] = "ada"
    assert client.get("/admin/users").status_code == 302


def test_cli_set_role_and_password_end_sessions(runner, tmp_path):
    env = {"KB_DATA": str(tmp_path)}
    assert runner.invoke(cli, ["users", "add", "dana", "--password-stdin"], input=f"{PASSWORD}\n",
                         env=env).exit_code == 0
    store = UserStore(tmp_path / "kb.sqlite3")
    key = store.get("dana").session_key
    done = runner.invoke(cli, ["users", "set-role", "dana", "--role", "marketer"], env=env)
    assert done.exit_code == 0 and done.stdout == "dana is now marketer; their sessions ended\n"
    assert store.get("dana").role == "marketer" and store.get("dana").session_key != key
    key = store.get("dana").session_key
    done = runner.invoke(cli, ["users", "set-password", "dana", "--password-stdin"],
                         input="another long horse battery\n", env=env)
    assert done.exit_code == 0 and done.stdout == "changed the password of dana; their sessions ended\n"
    assert store.get("dana").session_key != key
    assert store.authenticate("dana", "another long horse battery").name == "dana"
    missing = runner.invoke(cli, ["users", "set-role", "nobody", "--role", "admin"], env=env)
    assert missing.exit_code == 1 and missing.stderr.strip() == "Error: no user named 'nobody'"


# -- passwords ---------------------------------------------------------------------------


@pytest.mark.parametrize("password, reason", [
    ("password123", "this is a very common password"),
    ("qwertyuiop", "this is a top-100 common password"),
    ("aaaaaaaaaaaa", 'repeats like "aaa" are easy to guess'),
    ("1234567890", "common password"),
])
def test_common_and_repeated_passwords_are_refused(store, password, reason):
    with pytest.raises(UserError, match="that password is too easy to guess") as info:
        store.add("sam", "seller", password)
    assert reason in str(info.value)
    with pytest.raises(UserError, match="too easy to guess"):
        store.set_password("ada", password)


def test_overlong_passwords_are_refused(store):
    with pytest.raises(UserError, match="a password has at most 256 characters"):
        store.add("sam", "seller", "long horse battery " * 20)


def test_the_admin_page_says_why_a_password_is_refused(app):
    client = app.test_client()
    assert signed_in(login(client, "ada"))
    response = post(client, "/admin/users", {"name": "zed", "role": "seller", "password": "password123"},
                    token_from="/admin/users")
    assert response.status_code == 400
    assert "too easy to guess" in response.get_data(as_text=True)


def test_cli_refuses_a_weak_password(runner, tmp_path):
    done = runner.invoke(cli, ["users", "add", "zed", "--password-stdin"], input="aaaaaaaaaaaa\n",
                         env={"KB_DATA": str(tmp_path)})
    assert done.exit_code == 1 and "that password is too easy to guess" in done.stderr


# -- hosts, headers, the database file ---------------------------------------------------


def test_untrusted_host_headers_are_refused(app):
    client = app.test_client()
    assert client.get("/login").status_code == 200
    response = client.get("/login", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert b"evil.example" not in response.headers.get("Location", "").encode()


def test_trusted_hosts_come_from_the_environment(tmp_path):
    from webui.config import web_config

    config = web_config(environ={"KB_TRUSTED_HOSTS": "kb.example.com, .sales.example.com",
                                 "KB_DATA": str(tmp_path)})
    assert config["TRUSTED_HOSTS"] == ["kb.example.com", ".sales.example.com"]
    app = make_app(tmp_path, TRUSTED_HOSTS=config["TRUSTED_HOSTS"])
    client = app.test_client()
    assert client.get("/login", headers={"Host": "kb.example.com"}).status_code == 200
    assert client.get("/login", headers={"Host": "eu.sales.example.com"}).status_code == 200
    assert client.get("/login", headers={"Host": "localhost"}).status_code == 400
    assert web_config(environ={"KB_TRUSTED_HOSTS": "*", "KB_DATA": str(tmp_path)})["TRUSTED_HOSTS"] is None
    default = web_config(environ={"KB_DATA": str(tmp_path)}, host="10.1.2.3")["TRUSTED_HOSTS"]
    assert default == ["localhost", "127.0.0.1", "10.1.2.3"]


@pytest.mark.parametrize("name, value, message", [
    ("KB_PROXY_HOPS", "two", "KB_PROXY_HOPS must be a whole number, not 'two'"),
    ("KB_PROXY_HOPS", "-1", "KB_PROXY_HOPS must be a whole number from 0 to 10, not -1"),
    ("KB_SESSION_HOURS", "0", "KB_SESSION_HOURS must be a whole number from 1 to 8784, not 0"),
    ("KB_MAX_REQUEST_BYTES", "10", "KB_MAX_REQUEST_BYTES must be a whole number of 1024 or more, not 10"),
])
def test_bad_security_settings_are_named(tmp_path, name, value, message):
    from kb.errors import ConfigError
    from webui.config import web_config

    with pytest.raises(ConfigError) as info:
        web_config(environ={name: value, "KB_DATA": str(tmp_path)})
    assert str(info.value) == message


def test_signed_in_pages_are_not_stored(app):
    client = app.test_client()
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    login(client, "mia")
    for url in ("/browse", "/cases/new", "/api/facets"):
        response = client.get(url)
        assert response.headers.get("Cache-Control") == "no-store", url
    with client.get("/static/app.css") as asset:
        assert "no-store" not in asset.headers.get("Cache-Control", "")


def test_hsts_in_production_only(tmp_path, app):
    assert "Strict-Transport-Security" not in app.test_client().get("/login").headers
    prod = make_app(tmp_path / "prod", PROD=True)
    assert prod.test_client().get("/login").headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_database_is_private_to_its_owner(tmp_path):
    path = tmp_path / "data" / "kb.sqlite3"
    store = UserStore(path)
    store.add("ada", "admin", PASSWORD)
    assert path.stat().st_mode & 0o777 == 0o600
    wal = path.with_name("kb.sqlite3-wal")
    assert not wal.exists() or wal.stat().st_mode & 0o777 == 0o600
    store.close()
