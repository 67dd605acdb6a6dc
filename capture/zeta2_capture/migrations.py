"""Named, append-only schema migrations of the capture store and the usage log.

Each migration has a permanent name and runs once, in order, inside its own transaction, recording
its name in `_migrations`. Never edit or reorder a released migration: add a new one at the end.
A database that has applied a migration this version does not know was written by a newer
zeta2-capture; opening it fails with a message instead of guessing.
"""

from __future__ import annotations

import sqlite3
import time

CAPTURE_MIGRATIONS: tuple[tuple[str, str], ...] = (
    (
        "0001_captures",
        """
        CREATE TABLE captures (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            created_at REAL NOT NULL,
            path TEXT NOT NULL,
            language TEXT NOT NULL,
            bytes INTEGER NOT NULL,
            record TEXT NOT NULL
        );
        CREATE INDEX captures_created ON captures(created_at);
        CREATE INDEX captures_kind ON captures(kind, created_at);
        """,
    ),
    (
        "0002_ship_state",
        """
        CREATE TABLE ship_state (
            destination TEXT PRIMARY KEY,
            shipped_seq INTEGER NOT NULL,
            updated_at REAL NOT NULL
        );
        """,
    ),
)

USAGE_MIGRATIONS: tuple[tuple[str, str], ...] = (
    (
        "0001_usage",
        """
        CREATE TABLE usage (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            ts REAL NOT NULL,
            event TEXT NOT NULL,
            record TEXT NOT NULL
        );
        CREATE INDEX usage_ts ON usage(ts);
        """,
    ),
)


class MigrationError(RuntimeError):
    pass


def apply_migrations(conn: sqlite3.Connection, migrations: tuple[tuple[str, str], ...], where: str) -> list[str]:
    """Applies the missing migrations in order; returns the names applied now."""
    conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
    done = [row[0] for row in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]
    known = [name for name, _ in migrations]
    unknown = [name for name in done if name not in known]
    if unknown:
        raise MigrationError(
            f"{where}: written by a newer zeta2-capture (unknown migrations: {', '.join(unknown)}); upgrade zeta2-capture"
        )
    applied = []
    for name, sql in migrations:
        if name in done:
            continue
        # executescript commits first, so run the statements one by one in an explicit transaction;
        # IMMEDIATE takes the write lock, so two processes opening a new store cannot both apply it
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone():
                conn.execute("COMMIT")
                continue
            for statement in (s.strip() for s in sql.split(";")):
                if statement:
                    conn.execute(statement)
            conn.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", (name, time.time()))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied
