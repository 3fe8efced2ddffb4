"""Users, roles, Argon2 hashes and login throttling; `kb users`."""

from __future__ import annotations

import pytest

from kb.cli import cli
from kb.errors import AuthenticationError, LoginThrottledError, UserError
from kb.users import UserStore

PASSWORD = "correct horse battery"


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def store(tmp_path):
    return UserStore(tmp_path / "kb.sqlite3", clock=Clock())


def test_roles_and_permissions(store):
    seller = store.add("sam", "seller", PASSWORD)
    marketer = store.add("mia", "marketer", PASSWORD)
    admin = store.add("ada", "admin", PASSWORD)
    assert seller.can("read") and not seller.can("edit") and not seller.can("read_drafts")
    assert marketer.can("edit") and marketer.can("publish") and not marketer.can("manage_users")
    assert admin.can("reindex") and admin.can("manage_users")
    assert [u["name"] for u in store.list()] == ["ada", "mia", "sam"]


def test_passwords_are_hashed_with_argon2(store):
    store.add("sam", "seller", PASSWORD)
    stored = store.db.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert store.authenticate("sam", PASSWORD).role == "seller"


@pytest.mark.parametrize("name, role, password, message", [
    ("", "seller", PASSWORD, "a user name is 1 to 64"),
    ("../etc", "seller", PASSWORD, "a user name is 1 to 64"),
    ("ok", "root", PASSWORD, "role 'root' is not one of seller, marketer, admin"),
    ("ok", "seller", "short", "a password needs at least 10 characters"),
])
def test_bad_users_are_refused(store, name, role, password, message):
    with pytest.raises(UserError, match=message):
        store.add(name, role, password)


def test_duplicate_and_unknown_users(store):
    store.add("sam", "seller", PASSWORD)
    with pytest.raises(UserError, match="user 'sam' already exists"):
        store.add("sam", "admin", PASSWORD)
    with pytest.raises(UserError, match="no user named 'nobody'"):
        store.remove("nobody")


def test_wrong_password_and_unknown_name_say_the_same(store):
    store.add("sam", "seller", PASSWORD)
    for name, password in (("sam", "wrong password!"), ("nobody", PASSWORD)):
        with pytest.raises(AuthenticationError) as info:
            store.authenticate(name, password, client="10.0.0.1")
        assert str(info.value) == "wrong name or password"


def test_repeated_failures_are_slowed_down_then_forgiven(store):
    store.add("sam", "seller", PASSWORD)
    clock = store._clock
    for _ in range(3):  # three failures are free
        with pytest.raises(AuthenticationError) as info:
            store.authenticate("sam", "nope nope nope", client="c1")
        assert not isinstance(info.value, LoginThrottledError)
    with pytest.raises(LoginThrottledError) as info:
        store.authenticate("sam", PASSWORD, client="c1")  # even the right password must wait
    assert info.value.retry_after == 2
    clock.now += 2
    with pytest.raises(AuthenticationError):
        store.authenticate("sam", "nope nope nope", client="c1")
    with pytest.raises(LoginThrottledError) as info:
        store.authenticate("sam", PASSWORD, client="c1")
    assert info.value.retry_after == 4, "each further failure doubles the wait"
    clock.now += 4
    assert store.authenticate("sam", PASSWORD, client="c1").name == "sam"
    assert store.db.execute("SELECT count(*) FROM login_attempts WHERE name = 'sam'").fetchone()[0] == 0


def test_delay_grows_and_is_capped(store):
    clock = store._clock
    delays = []
    for _ in range(15):
        try:
            store.authenticate("ghost", "x" * 12, client="c")
        except LoginThrottledError as exc:
            delays.append(exc.retry_after)
            clock.now += exc.retry_after
        except AuthenticationError:
            pass
    assert delays == sorted(delays) and delays[-1] <= 15 * 60 and len(set(delays)) > 3


def test_cli_add_list_remove(runner, tmp_path):
    env = {"KB_DATA": str(tmp_path)}
    added = runner.invoke(cli, ["users", "add", "mia", "--role", "marketer"], input=f"{PASSWORD}\n{PASSWORD}\n", env=env)
    assert added.exit_code == 0, added.output
    assert PASSWORD not in added.output, "the password is never echoed"
    assert added.stdout.endswith("added mia (marketer)\n")
    listed = runner.invoke(cli, ["users", "list"], env=env)
    assert listed.stdout.startswith("mia") and "marketer" in listed.stdout
    again = runner.invoke(cli, ["users", "add", "mia", "--password-stdin"], input=f"{PASSWORD}\n", env=env)
    assert again.exit_code == 1 and again.stderr.strip() == "Error: user 'mia' already exists"
    removed = runner.invoke(cli, ["users", "remove", "mia"], env=env)
    assert removed.exit_code == 0 and removed.stdout == "removed mia\n"
