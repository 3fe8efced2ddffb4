"""Users, roles and logins, kept in the SQLite database; passwords hashed with Argon2.

Roles: a ``seller`` searches and reads published stories; a ``marketer`` also creates,
edits, previews, publishes and unpublishes, and sees drafts; an ``admin`` also rebuilds the
index and manages users.

Failed logins are throttled per (name, client) pair, so an attacker elsewhere cannot lock a
person out, plus a ceiling per client across all names, so one client cannot spray guesses
over many accounts. Each attempt is reserved (recorded) atomically *before* the password is
checked, so parallel guesses are counted one by one and only the allowed ones are verified.

Each user has a random session key that the web layer signs into the session cookie; it is
replaced when the user signs out, changes password or role, and a removed and re-added user
gets a new one, so a copied cookie stops working.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
import time
from dataclasses import dataclass, field
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
#: Longer passwords are refused (hashing stays bounded; no one types more).
MAX_PASSWORD_LENGTH = 256
#: Failures of one name from one client allowed within WINDOW seconds before attempts wait.
FREE_FAILURES = 3
#: Failures from one client, whatever the names, allowed within WINDOW before attempts wait.
CLIENT_FREE_FAILURES = 20
WINDOW = 15 * 60
MAX_DELAY = 15 * 60

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_HASHER = PasswordHasher()
# A real hash to verify against when the user does not exist, so timing does not tell.
_DUMMY_HASH = _HASHER.hash("not a real password, only for timing")


@dataclass(frozen=True)
class User:
    """A signed-in person and what their role allows.

    ``session_key`` is the secret the web layer keeps in the session cookie (see the module
    docstring); it is never shown.
    """

    name: str
    role: str
    session_key: str = field(default="", repr=False, compare=False)

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
            UserError: Bad name or role, a weak password, or the name is taken.
        """
        check_name(name)
        check_role(role)
        check_password(password, name)
        key = new_session_key()
        try:
            self.db.execute("INSERT INTO users (name, role, password_hash, session_key) VALUES (?, ?, ?, ?)",
                            (name, role, _HASHER.hash(password), key))
        except sqlite3.IntegrityError:
            raise UserError(f"user '{name}' already exists") from None
        return User(name, role, key)

    def remove(self, name: str) -> None:
        """Delete a user (their sessions end with the row).

        Raises:
            UserError: No such user.
        """
        if self.db.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount == 0:
            raise UserError(f"no user named '{name}'")

    def set_password(self, name: str, password: str) -> None:
        """Change a password; every session of the user ends.

        Raises:
            UserError: A weak password, or no such user.
        """
        check_password(password, name)
        self._update(name, "password_hash = ?", _HASHER.hash(password))

    def set_role(self, name: str, role: str) -> None:
        """Change a role; every session of the user ends (they sign in again with the new role).

        Raises:
            UserError: A bad role, or no such user.
        """
        check_role(role)
        self._update(name, "role = ?", role)

    def end_sessions(self, name: str) -> None:
        """Sign a user out everywhere: the session key changes, so every cookie holding it stops.

        Raises:
            UserError: No such user.
        """
        self._update(name)

    def _update(self, name: str, assignment: str = "", value: object = None) -> None:
        sets = f"{assignment}, session_key = ?" if assignment else "session_key = ?"
        values = ([value] if assignment else []) + [new_session_key(), name]
        if not self.db.execute(f"UPDATE users SET {sets} WHERE name = ?", values).rowcount:
            raise UserError(f"no user named '{name}'")

    def list(self) -> list[dict[str, str]]:
        """Every user with role and creation time, by name."""
        rows = self.db.execute("SELECT name, role, created_at FROM users ORDER BY name").fetchall()
        return [dict(row) for row in rows]

    def get(self, name: str) -> User | None:
        row = self.db.execute("SELECT name, role, session_key FROM users WHERE name = ?", (name,)).fetchone()
        return User(row["name"], row["role"], row["session_key"]) if row else None

    def authenticate(self, name: str, password: str, client: str = "") -> User:
        """Check a login from a client (its address, or any stable name for the caller).

        The attempt is reserved before the password is checked; it stays recorded as a
        failure unless the password is right.

        Raises:
            LoginThrottledError: Too many recent failures of this name from this client, or
                from this client overall.
            AuthenticationError: Wrong name or password (the message never says which).
        """
        now = self._clock()
        wait = transaction(self.db, lambda db: self._reserve(db, name, client, now))
        if wait > 0:
            raise LoginThrottledError(f"too many failed logins; try again in {wait} seconds", retry_after=wait)
        row = self.db.execute("SELECT name, role, password_hash, session_key FROM users WHERE name = ?",
                              (name,)).fetchone()
        try:
            _HASHER.verify(row["password_hash"] if row else _DUMMY_HASH, password[:MAX_PASSWORD_LENGTH])
            ok = row is not None and len(password) <= MAX_PASSWORD_LENGTH
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if not ok:
            raise AuthenticationError("wrong name or password")
        # Signed in: this client's failures for this name (the reservation among them) are forgiven.
        self.db.execute("DELETE FROM login_attempts WHERE name = ? AND client = ?", (name, client))
        if _HASHER.check_needs_rehash(row["password_hash"]):
            self.db.execute("UPDATE users SET password_hash = ? WHERE name = ?", (_HASHER.hash(password), name))
        return User(row["name"], row["role"], row["session_key"])

    def _reserve(self, db: sqlite3.Connection, name: str, client: str, now: float) -> int:
        """Inside one write transaction: the seconds to wait, or 0 after recording a new attempt."""
        db.execute("DELETE FROM login_attempts WHERE at < ?", (now - WINDOW,))
        wait = max(self._wait(db, "name = ? AND client = ?", (name, client), FREE_FAILURES, now),
                   self._wait(db, "client = ?", (client,), CLIENT_FREE_FAILURES, now) if client else 0)
        if wait == 0:
            db.execute("INSERT INTO login_attempts (name, client, at) VALUES (?, ?, ?)", (name, client, now))
        return wait

    @staticmethod
    def _wait(db: sqlite3.Connection, where: str, values: tuple, free: int, now: float) -> int:
        """Seconds before the next attempt matching ``where`` is allowed (0 = now): after ``free``
        recent failures, each further one waits twice as long (2, 4, 8 s ... up to MAX_DELAY)."""
        count, last = db.execute(f"SELECT count(*), max(at) FROM login_attempts WHERE {where} AND at >= ?",
                                 (*values, now - WINDOW)).fetchone()
        excess = count - free
        if excess < 0:
            return 0
        delay = min(MAX_DELAY, 2 ** min(excess + 1, 20))
        return max(0, int(last + delay - now + 0.999))


def new_session_key() -> str:
    return secrets.token_hex(16)


def check_name(name: str) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise UserError("a user name is 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit")


def check_role(role: str) -> None:
    if role not in ROLES:
        raise UserError(f"role '{role}' is not one of {', '.join(ROLES)}")


def check_password(password: str, name: str = "") -> None:
    """Refuse short, overlong and easily guessed passwords.

    Guessability is zxcvbn's estimate (common-password and word lists, keyboard patterns,
    repeats, sequences, dates, the user's own name): fewer than a million guesses (its
    score 0 or 1) is refused, with its advice.

    Raises:
        UserError: The password is refused; the message says why.
    """
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(f"a password has at most {MAX_PASSWORD_LENGTH} characters")
    from zxcvbn import zxcvbn

    verdict = zxcvbn(password, user_inputs=[name] if name else None)
    if verdict["score"] < 2:
        feedback = verdict["feedback"]
        reason = (feedback.get("warning") or "it is easy to guess").rstrip(".")
        hint = " ".join(feedback.get("suggestions") or ["Use a few uncommon words together."])
        raise UserError(f"that password is too easy to guess ({reason[:1].lower() + reason[1:]}). {hint}")
