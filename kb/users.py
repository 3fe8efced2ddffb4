"""Users, roles and logins, kept in the SQLite database; passwords hashed with Argon2.

Roles: a ``seller`` searches and reads published stories; a ``marketer`` also creates,
edits, previews, publishes and unpublishes, and sees drafts; an ``admin`` also rebuilds the
index and manages users. Repeated failed logins are slowed down: after a few failures for a
name or a client, each further attempt must wait longer (up to 15 minutes).
"""

from __future__ import annotations

import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from kb.db import DatabaseStore, transaction
from kb.errors import AuthenticationError, LoginThrottledError, UserError

ROLES: tuple[str, ...] = ("seller", "marketer", "admin")

#: What each role may do.
PERMISSIONS: dict[str, frozenset[str]] = {
    "seller": frozenset({"read"}),
    "marketer": frozenset({"read", "read_drafts", "edit", "publish", "insights"}),
    "admin": frozenset({"read", "read_drafts", "edit", "publish", "insights", "reindex", "manage_users"}),
}

MIN_PASSWORD_LENGTH = 10
#: Failures allowed within WINDOW seconds before attempts are delayed.
FREE_FAILURES = 3
WINDOW = 15 * 60
MAX_DELAY = 15 * 60

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_HASHER = PasswordHasher()
# A real hash to verify against when the user does not exist, so timing does not tell.
_DUMMY_HASH = _HASHER.hash("not a real password, only for timing")


@dataclass(frozen=True)
class User:
    """A signed-in person and what their role allows."""

    name: str
    role: str

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())


class UserStore(DatabaseStore):
    """The users table and login throttling.

    Args:
        path: The SQLite database file.
        clock: Returns the current time in seconds (injectable for tests).
    """

    def __init__(self, path: Path | str, clock=time.time):
        super().__init__(path)
        self._clock = clock

    def add(self, name: str, role: str, password: str) -> User:
        """Create a user.

        Raises:
            UserError: Bad name or role, short password, or the name is taken.
        """
        check_name(name)
        if role not in ROLES:
            raise UserError(f"role '{role}' is not one of {', '.join(ROLES)}")
        check_password(password)
        try:
            self.db.execute("INSERT INTO users (name, role, password_hash) VALUES (?, ?, ?)",
                            (name, role, _HASHER.hash(password)))
        except sqlite3.IntegrityError:
            raise UserError(f"user '{name}' already exists") from None
        return User(name, role)

    def remove(self, name: str) -> None:
        """Delete a user.

        Raises:
            UserError: No such user.
        """
        if self.db.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount == 0:
            raise UserError(f"no user named '{name}'")

    def set_password(self, name: str, password: str) -> None:
        check_password(password)
        changed = self.db.execute("UPDATE users SET password_hash = ? WHERE name = ?",
                                  (_HASHER.hash(password), name)).rowcount
        if not changed:
            raise UserError(f"no user named '{name}'")

    def list(self) -> list[dict[str, str]]:
        """Every user with role and creation time, by name."""
        rows = self.db.execute("SELECT name, role, created_at FROM users ORDER BY name").fetchall()
        return [dict(row) for row in rows]

    def get(self, name: str) -> User | None:
        row = self.db.execute("SELECT name, role FROM users WHERE name = ?", (name,)).fetchone()
        return User(row["name"], row["role"]) if row else None

    def authenticate(self, name: str, password: str, client: str = "") -> User:
        """Check a login.

        Raises:
            LoginThrottledError: Too many recent failures for this name or client.
            AuthenticationError: Wrong name or password (the message never says which).
        """
        now = self._clock()
        wait = self._wait(name, client, now)
        if wait > 0:
            raise LoginThrottledError(f"too many failed logins; try again in {wait} seconds", retry_after=wait)
        row = self.db.execute("SELECT name, role, password_hash FROM users WHERE name = ?", (name,)).fetchone()
        try:
            _HASHER.verify(row["password_hash"] if row else _DUMMY_HASH, password)
            ok = row is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if not ok:
            self.db.execute("INSERT INTO login_failures (name, client, at) VALUES (?, ?, ?)", (name, client, now))
            raise AuthenticationError("wrong name or password")

        def forget(db):
            db.execute("DELETE FROM login_failures WHERE name = ?", (name,))
            db.execute("DELETE FROM login_failures WHERE at < ?", (now - WINDOW,))

        transaction(self.db, forget)
        if _HASHER.check_needs_rehash(row["password_hash"]):
            self.db.execute("UPDATE users SET password_hash = ? WHERE name = ?", (_HASHER.hash(password), name))
        return User(row["name"], row["role"])

    def _wait(self, name: str, client: str, now: float) -> int:
        """Seconds before the next attempt is allowed (0 = now)."""
        waits = []
        for column, value in (("name", name), ("client", client)):
            if column == "client" and not value:
                continue
            rows = self.db.execute(f"SELECT at FROM login_failures WHERE {column} = ? AND at >= ? ORDER BY at",
                                   (value, now - WINDOW)).fetchall()
            excess = len(rows) - FREE_FAILURES
            if excess >= 0:
                delay = min(MAX_DELAY, 2 ** (excess + 1))
                waits.append(int(rows[-1]["at"] + delay - now + 0.999))
        return max([0, *waits])

def check_name(name: str) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise UserError("a user name is 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit")


def check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
