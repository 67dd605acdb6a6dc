"""The capture store: opted-in editing moments in SQLite, on this machine only.

    store = CaptureStore(path=None)              # default: <data dir>/captures.sqlite3 (ZETA2_DATA_DIR)
    store.add(example, kind="settled") -> int    # redacts, then ONE transaction; returns its seq
    store.records(since=None, kind=None, after_seq=0) -> Iterator[(seq, Example)]
    store.counts() -> {kind: n};  store.size_bytes();  store.purge(before=None) -> n (then VACUUM)

    capturer = Capturer(policy)                  # what the daemon calls: policy + redaction + store
    capturer.capture(example, kind) -> Decision  # writes only when capture is on and every file is eligible

Through sqlite-utils, in WAL mode with synchronous=FULL: a record is either committed whole or not
at all, and a crash (even SIGKILL mid-write) loses at most the record being written. Size is bounded
(`max_store_bytes` in the config): after each insert the oldest records are evicted, in the same
transaction, until the records fit. Schema changes are named append-only migrations
(`migrations.py`). A file that is not a readable SQLite database raises `StoreError` naming the
file and how to recover; a read-only or full disk raises `StoreError` from `add` (the `Capturer`
logs it and carries on — a capture failure never fails a suggestion).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

from zeta2_capture.config import data_dir, load_config
from zeta2_capture.migrations import CAPTURE_MIGRATIONS, MigrationError, apply_migrations
from zeta2_capture.redact import redact_example
from zeta2_capture.schema import Example, dumps

log = logging.getLogger("zeta2_capture.store")

CAPTURES_FILE = "captures.sqlite3"
KINDS = ("settled", "shown", "accepted", "rejected", "manual")


class StoreError(RuntimeError):
    """The store cannot be opened or written; the message names the file and what to do."""


def open_database(path: Path, migrations, what: str) -> sqlite_utils.Database:
    """Opens (creating) a WAL SQLite database and applies its migrations; StoreError when unusable."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{path.parent}: cannot create the {what} folder: {exc.strerror}") from None
    recover = f"move it aside (mv '{path}' '{path}.corrupt') and a new, empty {what} is created on next use"
    try:
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=30, check_same_thread=False)
        db = sqlite_utils.Database(conn)
        conn.execute("PRAGMA busy_timeout = 30000")
        db.enable_wal()
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        apply_migrations(conn, migrations, str(path))
    except MigrationError as exc:
        raise StoreError(str(exc)) from None
    except sqlite3.DatabaseError as exc:
        message = str(exc)
        if "not a database" in message or "malformed" in message or "corrupt" in message:
            raise StoreError(f"{path}: the {what} is corrupted ({message}); {recover}") from None
        raise StoreError(f"{path}: cannot open the {what} ({message})") from None
    return db


def parse_example_record(record: str, where: str) -> Example:
    return Example.from_json(json.loads(record), source=where)


class CaptureStore:
    def __init__(self, path: str | Path | None = None, *, max_bytes: int | None = None):
        self.path = Path(path) if path is not None else data_dir() / CAPTURES_FILE
        self.max_bytes = max_bytes if max_bytes is not None else load_config().max_store_bytes
        self.db = open_database(self.path, CAPTURE_MIGRATIONS, "capture store")
        self.conn = self.db.conn

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> CaptureStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------------

    def add(self, example: Example, kind: str, *, created_at: float | None = None, redacted: bool = False) -> int:
        """Stores one record (redacted first unless `redacted`); returns its sequence number."""
        if kind not in KINDS:
            raise ValueError(f"capture kind must be one of {', '.join(KINDS)}, got {kind!r}")
        if not redacted:
            example = redact_example(example)
        record = dumps(example)
        size = len(record.encode("utf-8"))
        created_at = time.time() if created_at is None else created_at
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                cur = self.conn.execute(
                    "INSERT OR REPLACE INTO captures (id, kind, created_at, path, language, bytes, record)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (example.id, kind, created_at, example.path, example.language, size, record),
                )
                seq = int(cur.lastrowid)
                self._evict()
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.path}: cannot write a capture ({exc}); check free space and permissions") from None
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: the capture store is damaged ({exc}); move it aside to start a new one") from None
        return seq

    def _evict(self) -> None:
        total = self.conn.execute("SELECT coalesce(sum(bytes), 0) FROM captures").fetchone()[0]
        excess = total - self.max_bytes
        if excess <= 0:
            return
        freed, last = 0, None
        for seq, size in self.conn.execute("SELECT seq, bytes FROM captures ORDER BY seq"):
            freed += size
            last = seq
            if freed >= excess:
                break
        if last is not None:
            n = self.conn.execute("DELETE FROM captures WHERE seq <= ?", (last,)).rowcount
            log.info("capture store over %d bytes: evicted the %d oldest records", self.max_bytes, n)

    def purge(self, *, before: float | None = None) -> int:
        """Deletes records created before `before` (all when None), then VACUUMs; returns how many."""
        if before is None:
            n = self.conn.execute("DELETE FROM captures").rowcount
        else:
            n = self.conn.execute("DELETE FROM captures WHERE created_at < ?", (before,)).rowcount
        if before is None:
            self.conn.execute("DELETE FROM ship_state")  # nothing left to resume from
        self.db.vacuum()
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return n

    # -- reading ---------------------------------------------------------------------------------

    def records(
        self, *, since: float | None = None, kind: str | None = None, after_seq: int = 0, limit: int | None = None
    ) -> Iterator[tuple[int, Example]]:
        sql = "SELECT seq, record FROM captures WHERE seq > ?"
        args: list[object] = [after_seq]
        if since is not None:
            sql += " AND created_at >= ?"
            args.append(since)
        if kind is not None:
            sql += " AND kind = ?"
            args.append(kind)
        sql += " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        for seq, record in self.conn.execute(sql, args).fetchall():
            yield seq, parse_example_record(record, f"{self.path}#seq={seq}")

    def counts(self) -> dict[str, int]:
        return dict(self.conn.execute("SELECT kind, count(*) FROM captures GROUP BY kind ORDER BY kind").fetchall())

    def __len__(self) -> int:
        return self.db["captures"].count

    def size_bytes(self) -> int:
        total = 0
        for suffix in ("", "-wal", "-shm"):
            p = Path(str(self.path) + suffix)
            if p.exists():
                total += p.stat().st_size
        return total

    def daily_counts(self) -> list[tuple[str, str, int]]:
        """(day, kind, n) over time, for `zeta2-capture stats`."""
        return self.conn.execute(
            "SELECT date(created_at, 'unixepoch') AS day, kind, count(*) FROM captures GROUP BY day, kind ORDER BY day, kind"
        ).fetchall()

    def mean_kept_rate(self) -> float | None:
        row = self.conn.execute(
            "SELECT avg(json_extract(record, '$.meta.kept_rate')) FROM captures WHERE kind = 'settled'"
        ).fetchone()
        return row[0]

    # -- shipping cursor -------------------------------------------------------------------------

    def shipped_seq(self, destination: str) -> int:
        row = self.conn.execute("SELECT shipped_seq FROM ship_state WHERE destination = ?", (destination,)).fetchone()
        return int(row[0]) if row else 0

    def set_shipped_seq(self, destination: str, seq: int) -> None:
        self.conn.execute(
            "INSERT INTO ship_state (destination, shipped_seq, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT(destination) DO UPDATE SET shipped_seq = excluded.shipped_seq, updated_at = excluded.updated_at",
            (destination, seq, time.time()),
        )


class Capturer:
    """Policy, redaction and the store behind one call; the store is opened on the first write only,
    so with capture off (or nothing eligible) no capture file is ever created."""

    def __init__(self, policy, store_path: str | Path | None = None):
        self.policy = policy
        self.store_path = store_path
        self._store: CaptureStore | None = None
        self.failures = 0

    def capture(self, example: Example, kind: str):
        from zeta2_capture.policy import Decision

        if not self.policy.enabled:
            return Decision(False, ("capture is off (turn it on with `zeta2-capture enable` or the editor setting)",))
        decision = self.policy.check_example(example)
        if not decision.eligible:
            return decision
        try:
            if self._store is None:
                self._store = CaptureStore(self.store_path)
            self._store.add(example, kind)
        except StoreError as exc:
            self.failures += 1
            log.warning("capture not stored: %s", exc)
            return Decision(False, (str(exc),), decision.license)
        return decision

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
