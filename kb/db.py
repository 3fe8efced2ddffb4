"""The embedded SQLite database (users, login attempts, search log), with ordered migrations."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

#: Migrations in order; the database's user_version says how many have run.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE users (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('seller', 'marketer', 'admin')),
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    );
    CREATE TABLE login_failures (
        name TEXT NOT NULL,
        client TEXT NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX login_failures_name ON login_failures (name, at);
    CREATE INDEX login_failures_client ON login_failures (client, at);
    """,
    # The search log (kb.searchlog): what was searched, what came back, what was opened.
    # No IP addresses or user agents; the user name only when someone was signed in.
    """
    CREATE TABLE searches (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        user TEXT,
        query TEXT NOT NULL,
        filters TEXT NOT NULL DEFAULT '{}',
        profile TEXT NOT NULL DEFAULT '{}',
        mode TEXT NOT NULL DEFAULT 'hybrid',
        results TEXT NOT NULL DEFAULT '[]',
        weak INTEGER NOT NULL CHECK (weak IN (0, 1))
    );
    CREATE INDEX searches_at ON searches (at);
    CREATE TABLE opens (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        search_id INTEGER REFERENCES searches (id) ON DELETE SET NULL,
        case_id TEXT NOT NULL,
        user TEXT
    );
    CREATE INDEX opens_at ON opens (at);
    CREATE INDEX opens_search ON opens (search_id);
    """,
    # Vectors of the weak search wordings the insights group (kb.insights), so a wording is
    # embedded once per model; keyed by model and normalized wording, no user. Pruned with the log.
    """
    CREATE TABLE query_vectors (
        model TEXT NOT NULL,
        query TEXT NOT NULL,
        vector BLOB NOT NULL,
        used_at REAL NOT NULL,
        PRIMARY KEY (model, query)
    ) WITHOUT ROWID;
    CREATE INDEX query_vectors_used ON query_vectors (used_at);
    """,
    # Login attempts are reserved before the password is checked (kb.users): a row is a failed
    # or in-flight attempt of a name from a client. Each user has a session key, signed into
    # the session cookie and replaced at sign-out, password or role change: old cookies stop.
    """
    DROP TABLE login_failures;
    CREATE TABLE login_attempts (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        client TEXT NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX login_attempts_pair ON login_attempts (name, client, at);
    CREATE INDEX login_attempts_client ON login_attempts (client, at);
    CREATE INDEX login_attempts_at ON login_attempts (at);
    ALTER TABLE users ADD COLUMN session_key TEXT NOT NULL DEFAULT '';
    UPDATE users SET session_key = lower(hex(randomblob(16)));
    """,
]


def register_migration(sql: str) -> None:
    """Append a migration (used by modules that own tables, at import time)."""
    if sql not in MIGRATIONS:
        MIGRATIONS.append(sql)


def connect(path: Path | str) -> sqlite3.Connection:
    """Open the database, creating it and running pending migrations.

    Connections use WAL (readers don't block the writer), sync at checkpoints rather than
    at every commit, and wait up to 10 s for a lock.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _create_private(path)
    connection = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA journal_mode=WAL")
    # In WAL mode, NORMAL syncs at checkpoints, not at every commit: still safe from
    # corruption, and a crashed app loses nothing; only a power cut may lose the last
    # commits. Full syncing cost 7-15 ms per logged search (docs/performance.md).
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA foreign_keys=ON")
    migrate(connection)
    return connection


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only (0600) if it does not exist yet.

    It holds password hashes and what sellers searched for; SQLite gives its -wal and -shm
    files the same permissions.
    """
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def migrate(connection: sqlite3.Connection) -> None:
    """Run the migrations the database has not seen yet, each in its own transaction."""
    done = connection.execute("PRAGMA user_version").fetchone()[0]
    for number, sql in enumerate(MIGRATIONS[done:], start=done + 1):
        connection.execute("BEGIN IMMEDIATE")
        try:
            if connection.execute("PRAGMA user_version").fetchone()[0] >= number:
                connection.execute("ROLLBACK")  # another process ran it meanwhile
                continue
            for statement in sql.split(";"):
                if statement.strip():
                    connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {number}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise


class DatabaseStore:
    """Base of the classes kept in the database: one connection, opened on first use.

    A store's connection must not run two threads' statements at once: make one store per
    thread (or per request). Used in a ``with`` block, the connection closes at its end.
    """

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._connection: sqlite3.Connection | None = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._connection is None:
            self._connection = connect(self.path)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def transaction(connection: sqlite3.Connection, work: Callable[[sqlite3.Connection], object]) -> object:
    """Run work inside BEGIN IMMEDIATE ... COMMIT, rolling back on any error."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        result = work(connection)
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
    return result
