"""Exporting captures and the usage log as JSONL.

    export_captures(store, target, since=None, kind=None) -> int   # schema examples, one per line
    export_usage(usage, target, since=None) -> int                  # usage records, one per line
    parse_time("2026-11-01" | "2026-11-01T12:00:00Z" | "7d" | "12h" | "30m") -> epoch seconds

Captured examples are written as stored (already redacted), with `meta.kind` (settled, shown,
accepted, rejected, manual) and `meta.captured_at` (ISO 8601, UTC) added. Settled captures carry the
settled region as `expected` and their provenance (model, latency, kept/recall rate, settle time,
accepted) in `meta`. `target` is a path or "-" for stdout.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from zeta2_capture.schema import JsonlWriter
from zeta2_capture.usage import iso

_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class TimeFormatError(ValueError):
    pass


def parse_time(text: str, *, now: float | None = None) -> float:
    """An absolute ISO 8601 date/time (naive = UTC) or a age like '7d' (that long ago)."""
    text = text.strip()
    m = _RELATIVE.match(text)
    if m:
        return (time.time() if now is None else now) - float(m.group(1)) * _UNITS[m.group(2)]
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise TimeFormatError(
            f"invalid time {text!r}: use an ISO 8601 date or time (2026-11-01, 2026-11-01T12:00:00Z) or an age (30m, 12h, 7d)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def export_captures(store, target: str | Path | IO[str], *, since: float | None = None, kind: str | None = None) -> int:
    with JsonlWriter(target) as writer:
        for seq, example in store.records(since=since, kind=kind):
            del seq
            writer.write(example_record(store, example))
        return writer.written


def example_record(store, example) -> dict:
    obj = example.to_json()
    row = store.conn.execute("SELECT kind, created_at FROM captures WHERE id = ?", (example.id,)).fetchone()
    meta = dict(obj.get("meta") or {})
    if row is not None:
        meta.setdefault("kind", row[0])
        meta["captured_at"] = iso(row[1])
    obj["meta"] = meta
    return obj


def export_usage(usage, target: str | Path | IO[str], *, since: float | None = None) -> int:
    with JsonlWriter(target) as writer:
        for record in usage.records(since=since):
            writer.write(record)
        return writer.written
