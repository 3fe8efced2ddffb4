"""The embedded SQLite database (users, login attempts, search log), with ordered migrations."""

from __future__ import annotations

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
]


def register_migration(sql: str) -> None:
    """Append a migration (used by modules that own tables, at import time)."""
    if sql not in MIGRATIONS:
        MIGRATIONS.append(sql)


def connect(path: Path | str) -> sqlite3.Connection:
    """Open the database, creating it and running pending migrations.

    Connections use WAL (readers don't block the writer) and wait up to 10 s for a lock.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA foreign_keys=ON")
    migrate(connection)
    return connection


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
