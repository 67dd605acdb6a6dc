"""The usage log: metadata about suggestions — never code, never file text.

    usage = UsageLog(path=None, enabled=None)   # <data dir>/usage.sqlite3; enabled: config `usage_log`
    usage.log("shown", id="s-17", model="zeta2-smollm2@3", variant="B", latency_ms=41.5, ...)
    usage.records(since=None) -> Iterator[dict]  # the JSONL records `zeta2-capture export --usage` writes

Separate from captures (its own SQLite file) so it works, and can be switched off, on its own:
with capture off, this is the only thing zeta2 writes. Every field is checked against `FIELDS`
(name and type); an unknown field or a string that looks like text rather than a label
(over 200 characters or containing a newline) raises `UsageError` — the log cannot carry code by
accident. It feeds `zeta2-trainer ab-report`.

Record (one JSON object per line, see docs/capture.md "Usage log"):
    {"ts": "2026-11-26T10:00:00.123Z", "event": "shown", "id": "s-17", "model": "...", ...}
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from zeta2_capture.config import data_dir, load_config
from zeta2_capture.migrations import USAGE_MIGRATIONS
from zeta2_capture.store import StoreError, open_database

USAGE_FILE = "usage.sqlite3"
EVENTS = (
    "requested", "suggested", "shown", "accepted", "partial", "rejected", "suppressed", "failed",
    "settled", "retention", "dropped", "error",
)
MAX_LABEL_CHARS = 200

# field -> allowed types. Sizes are counts; rates are 0..1; times are milliseconds or seconds.
FIELDS: dict[str, tuple[type, ...]] = {
    "id": (str,),  # suggestion id
    "request_id": (str,),
    "model": (str,),
    "variant": (str, type(None)),  # A/B arm
    "language": (str,),
    "device": (str,),
    "latency_ms": (int, float),
    "timing_ms": (dict,),  # per stage: {"prefill": 12.5, "decode": 30.1, ...}
    "installation": (str,),  # random per-installation id (A/B assignment), not a user identity
    "prompt_tokens": (int,),
    "output_tokens": (int,),
    "reason": (str,),  # rejected / dropped / error reason (a label, not a message with code)
    "accepted_length": (int,),  # partial accept: characters taken
    "inserted_chars": (int,),
    "deleted_chars": (int,),
    "edit_lines": (int,),
    "kept_rate": (int, float),
    "recall_rate": (int, float),
    "retained": (int, float),
    "seconds": (int, float),  # retention mark or settle time
    "cached_prefix_tokens": (int,),
    "draft_accepted_tokens": (int,),
}


class UsageError(ValueError):
    pass


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def check_fields(event: str, fields: dict[str, Any]) -> None:
    if event not in EVENTS:
        raise UsageError(f"usage log: unknown event {event!r}; expected one of {', '.join(EVENTS)}")
    for key, value in fields.items():
        types = FIELDS.get(key)
        if types is None:
            raise UsageError(f"usage log: unknown field {key!r} (the usage log holds metadata only: {', '.join(FIELDS)})")
        if isinstance(value, bool) or not isinstance(value, types):
            raise UsageError(f"usage log: field {key!r} must be {' or '.join(t.__name__ for t in types)}, got {type(value).__name__}")
        if isinstance(value, str) and (len(value) > MAX_LABEL_CHARS or "\n" in value):
            raise UsageError(f"usage log: field {key!r} looks like text, not a label (newline or over {MAX_LABEL_CHARS} chars)")
        if isinstance(value, dict) and not all(
            isinstance(k, str) and len(k) <= 40 and isinstance(v, (int, float)) and not isinstance(v, bool)
            for k, v in value.items()
        ):
            raise UsageError(f"usage log: field {key!r} must map short names to numbers")


class UsageLog:
    def __init__(self, path: str | Path | None = None, *, enabled: bool | None = None):
        self.path = Path(path) if path is not None else data_dir() / USAGE_FILE
        self._enabled = enabled
        self._db = None

    @property
    def enabled(self) -> bool:
        return self._enabled if self._enabled is not None else load_config().usage_log

    def _conn(self):
        if self._db is None:
            self._db = open_database(self.path, USAGE_MIGRATIONS, "usage log")
        return self._db.conn

    def log(self, event: str, *, ts: float | None = None, **fields: Any) -> bool:
        """Appends one record; False (and nothing written) when the usage log is off."""
        check_fields(event, fields)
        if not self.enabled:
            return False
        ts = time.time() if ts is None else ts
        record = json.dumps({"ts": iso(ts), "event": event, **fields}, ensure_ascii=False)
        try:
            self._conn().execute("INSERT INTO usage (ts, event, record) VALUES (?, ?, ?)", (ts, event, record))
        except StoreError:
            raise
        except Exception as exc:  # sqlite3 errors: disk full, read-only
            raise StoreError(f"{self.path}: cannot write the usage log ({exc})") from None
        return True

    def records(self, *, since: float | None = None, event: str | None = None) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        sql, args = "SELECT record FROM usage WHERE ts >= ?", [since or 0.0]
        if event is not None:
            sql += " AND event = ?"
            args.append(event)
        for (record,) in self._conn().execute(sql + " ORDER BY seq", args).fetchall():
            yield json.loads(record)

    def counts(self) -> dict[str, int]:
        if not self.path.exists():
            return {}
        return dict(self._conn().execute("SELECT event, count(*) FROM usage GROUP BY event ORDER BY event").fetchall())

    def purge(self, *, before: float | None = None) -> int:
        if not self.path.exists():
            return 0
        conn = self._conn()
        n = conn.execute("DELETE FROM usage WHERE ts < ?", (before if before is not None else float("inf"),)).rowcount
        conn.execute("VACUUM")
        return n

    def close(self) -> None:
        if self._db is not None:
            self._db.conn.close()
            self._db = None
