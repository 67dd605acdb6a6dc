"""A persistent response cache keyed by (model, prompt), in SQLite, so reruns cost nothing.

WAL mode and a busy timeout let several shards share one cache file. Each reply is committed as soon
as it arrives, so a killed run keeps every answer it paid for.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path

from .base import Reply

SCHEMA = """
CREATE TABLE IF NOT EXISTS replies (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    text TEXT NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    stop_reason TEXT NOT NULL,
    created REAL NOT NULL
)
"""


def cache_key(model: str, prompt: str) -> str:
    return hashlib.sha256(f"{model}\x00{prompt}".encode()).hexdigest()


class ResponseCache:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(SCHEMA)

    def get(self, model: str, prompt: str) -> Reply | None:
        row = self._db.execute(
            "SELECT text, input_tokens, output_tokens, stop_reason FROM replies WHERE key = ?",
            (cache_key(model, prompt),),
        ).fetchone()
        if row is None:
            return None
        return Reply(text=row[0], input_tokens=row[1], output_tokens=row[2], stop_reason=row[3], cached=True)

    def put(self, model: str, prompt: str, reply: Reply) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO replies VALUES (?, ?, ?, ?, ?, ?, ?)",
            (cache_key(model, prompt), model, reply.text, reply.input_tokens, reply.output_tokens, reply.stop_reason, time.time()),
        )

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM replies").fetchone()[0]

    def close(self) -> None:
        self._db.close()
