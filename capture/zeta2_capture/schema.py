"""The example: one editing moment, one JSON object per line (JSONL), used everywhere.

See docs/format.md. Reading validates every field and names the file, line and field at fault:

    train.jsonl:17: cursor 9120 is past the end of before (8011 chars)

`read_examples(..., on_error="skip")` skips bad lines instead and counts them in a `ReadStats`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

SEVERITIES = ("error", "warning", "information", "hint")


class ExampleError(ValueError):
    """A record that does not follow the schema. `str()` is `file:line: message`."""

    def __init__(self, message: str, *, source: str = "<example>", line: int | None = None):
        self.message = message
        self.source = source
        self.line = line
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class Event:
    """One edit the user made, as a unified diff (a/ b/ headers, 3 context lines, real line numbers)."""

    path: str
    diff: str
    predicted: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "diff": self.diff, "predicted": self.predicted}


@dataclass(frozen=True, slots=True)
class Related:
    """An excerpt of another place in the workspace (a definition the cursor's code uses)."""

    path: str
    start_line: int
    text: str
    source: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "start_line": self.start_line, "text": self.text, "source": self.source}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A diagnostic in the cursor file; positions are (line, column in code points), 0-based."""

    start: tuple[int, int]
    end: tuple[int, int]
    severity: str
    message: str
    source: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "start": list(self.start),
            "end": list(self.end),
            "severity": self.severity,
            "message": self.message,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class Example:
    id: str
    path: str
    language: str
    before: str
    cursor: int
    events: tuple[Event, ...] = ()
    related: tuple[Related, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    expected: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "path": self.path,
            "language": self.language,
            "before": self.before,
            "cursor": self.cursor,
            "events": [e.to_json() for e in self.events],
        }
        if self.related:
            out["related"] = [r.to_json() for r in self.related]
        if self.diagnostics:
            out["diagnostics"] = [d.to_json() for d in self.diagnostics]
        out["expected"] = self.expected
        out["meta"] = self.meta
        return out

    @property
    def is_noop(self) -> bool:
        """True when the ideal next edit is no edit at all."""
        return self.expected is not None and self.expected == self.before

    @classmethod
    def from_json(cls, obj: Any, *, source: str = "<example>", line: int | None = None) -> Example:
        return _parse_example(obj, source=source, line=line)


@dataclass(frozen=True, slots=True)
class Prediction:
    """What a model predicted for one example: the full text after its edit."""

    id: str
    predicted: str
    latency_ms: float
    model: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "predicted": self.predicted, "latency_ms": self.latency_ms, "model": self.model}

    @classmethod
    def from_json(cls, obj: Any, *, source: str = "<prediction>", line: int | None = None) -> Prediction:
        def fail(message: str) -> ExampleError:
            return ExampleError(message, source=source, line=line)

        if not isinstance(obj, dict):
            raise fail(f"expected a JSON object, got {type(obj).__name__}")
        for key, kind in (("id", str), ("predicted", str), ("model", str)):
            if not isinstance(obj.get(key), kind):
                raise fail(f"field {key!r} must be a string")
        latency = obj.get("latency_ms")
        if isinstance(latency, bool) or not isinstance(latency, (int, float)):
            raise fail("field 'latency_ms' must be a number")
        return cls(obj["id"], obj["predicted"], float(latency), obj["model"])


# ---------------------------------------------------------------------------------------------
# validation


def _parse_example(obj: Any, *, source: str, line: int | None) -> Example:
    def fail(message: str) -> ExampleError:
        return ExampleError(message, source=source, line=line)

    if not isinstance(obj, dict):
        raise fail(f"expected a JSON object, got {type(obj).__name__}")

    def string(key: str, container: dict = obj, where: str = "") -> str:
        if key not in container:
            raise fail(f"missing field {where}{key!r}")
        value = container[key]
        if not isinstance(value, str):
            raise fail(f"field {where}{key!r} must be a string, got {type(value).__name__}")
        return value

    id_ = string("id")
    path = string("path")
    if "\\" in path or path.startswith("/"):
        raise fail(f"path {path!r} must be repository-relative with '/' separators")
    language = string("language")
    before = string("before")
    if "cursor" not in obj:
        raise fail("missing field 'cursor'")
    cursor = obj["cursor"]
    if isinstance(cursor, bool) or not isinstance(cursor, int):
        raise fail(f"field 'cursor' must be an integer, got {type(cursor).__name__}")
    if cursor < 0:
        raise fail(f"cursor {cursor} is negative")
    if cursor > len(before):
        raise fail(f"cursor {cursor} is past the end of before ({len(before)} chars)")

    events = []
    raw_events = obj.get("events", [])
    if not isinstance(raw_events, list):
        raise fail("field 'events' must be a list")
    for i, ev in enumerate(raw_events):
        where = f"events[{i}]."
        if not isinstance(ev, dict):
            raise fail(f"events[{i}] must be an object")
        predicted = ev.get("predicted", False)
        if not isinstance(predicted, bool):
            raise fail(f"field {where}'predicted' must be true or false")
        events.append(Event(string("path", ev, where), string("diff", ev, where), predicted))

    related = []
    raw_related = obj.get("related") or []
    if not isinstance(raw_related, list):
        raise fail("field 'related' must be a list")
    for i, rel in enumerate(raw_related):
        where = f"related[{i}]."
        if not isinstance(rel, dict):
            raise fail(f"related[{i}] must be an object")
        start_line = rel.get("start_line")
        if isinstance(start_line, bool) or not isinstance(start_line, int) or start_line < 0:
            raise fail(f"field {where}'start_line' must be a non-negative integer")
        source_name = rel.get("source", "")
        if not isinstance(source_name, str):
            raise fail(f"field {where}'source' must be a string")
        related.append(Related(string("path", rel, where), start_line, string("text", rel, where), source_name))

    diagnostics = []
    raw_diags = obj.get("diagnostics") or []
    if not isinstance(raw_diags, list):
        raise fail("field 'diagnostics' must be a list")
    for i, diag in enumerate(raw_diags):
        where = f"diagnostics[{i}]."
        if not isinstance(diag, dict):
            raise fail(f"diagnostics[{i}] must be an object")
        positions = []
        for key in ("start", "end"):
            pos = diag.get(key)
            if (
                not isinstance(pos, list)
                or len(pos) != 2
                or not all(isinstance(p, int) and not isinstance(p, bool) and p >= 0 for p in pos)
            ):
                raise fail(f"field {where}{key!r} must be [line, column] with non-negative integers")
            positions.append((pos[0], pos[1]))
        severity = string("severity", diag, where)
        if severity not in SEVERITIES:
            raise fail(f"field {where}'severity' must be one of {', '.join(SEVERITIES)}, got {severity!r}")
        source_name = diag.get("source", "")
        if not isinstance(source_name, str):
            raise fail(f"field {where}'source' must be a string")
        diagnostics.append(
            Diagnostic(positions[0], positions[1], severity, string("message", diag, where), source_name)
        )

    expected = obj.get("expected")
    if expected is not None and not isinstance(expected, str):
        raise fail(f"field 'expected' must be a string or null, got {type(expected).__name__}")
    meta = obj.get("meta", {})
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise fail("field 'meta' must be an object")

    return Example(
        id=id_,
        path=path,
        language=language,
        before=before,
        cursor=cursor,
        events=tuple(events),
        related=tuple(related),
        diagnostics=tuple(diagnostics),
        expected=expected,
        meta=meta,
    )


# ---------------------------------------------------------------------------------------------
# JSONL reading and writing


@dataclass
class ReadStats:
    """What a reader saw: records read, and bad lines skipped with their reasons."""

    read: int = 0
    skipped: int = 0
    errors: list[ExampleError] = field(default_factory=list)

    def summary(self) -> str:
        return f"read {self.read}, skipped {self.skipped}"


def _open_text(source: str | Path | IO[str]) -> tuple[IO[str], str, bool]:
    if isinstance(source, (str, Path)):
        if str(source) == "-":
            return sys.stdin, "<stdin>", False
        return open(source, encoding="utf-8", newline=""), str(source), True
    return source, getattr(source, "name", "<stream>"), False


def read_jsonl(
    source: str | Path | IO[str],
    parse: Any,
    *,
    on_error: Literal["raise", "skip"] = "raise",
    stats: ReadStats | None = None,
) -> Iterator[Any]:
    """Streams records from a JSONL file ('-' for stdin), parsed by `parse(obj, source=, line=)`."""
    stats = stats if stats is not None else ReadStats()
    stream, name, owned = _open_text(source)
    try:
        for number, raw in enumerate(stream, start=1):
            if not raw.strip():
                continue
            try:
                try:
                    obj = json.loads(raw)
                except json.JSONDecodeError as exc:
                    raise ExampleError(f"invalid JSON: {exc.msg} at column {exc.colno}", source=name, line=number) from None
                record = parse(obj, source=name, line=number)
            except ExampleError as exc:
                if on_error == "raise":
                    raise
                stats.skipped += 1
                stats.errors.append(exc)
                continue
            stats.read += 1
            yield record
    finally:
        if owned:
            stream.close()


def read_examples(
    source: str | Path | IO[str],
    *,
    on_error: Literal["raise", "skip"] = "raise",
    stats: ReadStats | None = None,
) -> Iterator[Example]:
    """Streams validated examples; see `read_jsonl`."""
    return read_jsonl(source, Example.from_json, on_error=on_error, stats=stats)


def read_predictions(
    source: str | Path | IO[str],
    *,
    on_error: Literal["raise", "skip"] = "raise",
    stats: ReadStats | None = None,
) -> Iterator[Prediction]:
    return read_jsonl(source, Prediction.from_json, on_error=on_error, stats=stats)


def dumps(record: Example | Prediction | dict[str, Any]) -> str:
    """One JSONL line (no newline); non-ASCII is kept as is, like the shared data."""
    obj = record if isinstance(record, dict) else record.to_json()
    return json.dumps(obj, ensure_ascii=False)


class JsonlWriter:
    """Writes records one per line to a path ('-' for stdout) or a stream; flushes every record."""

    def __init__(self, target: str | Path | IO[str], *, append: bool = False):
        if isinstance(target, (str, Path)) and str(target) != "-":
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            self._stream: IO[str] = open(target, "a" if append else "w", encoding="utf-8", newline="\n")
            self._owned = True
        else:
            self._stream = sys.stdout if isinstance(target, (str, Path)) else target
            self._owned = False
        self.written = 0

    def write(self, record: Example | Prediction | dict[str, Any]) -> None:
        self._stream.write(dumps(record) + "\n")
        self._stream.flush()
        self.written += 1

    def close(self) -> None:
        if self._owned:
            self._stream.close()

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_jsonl(target: str | Path | IO[str], records: Iterable[Example | Prediction | dict[str, Any]]) -> int:
    with JsonlWriter(target) as writer:
        for record in records:
            writer.write(record)
        return writer.written


def loads_example(line: str) -> Example:
    return Example.from_json(json.loads(line))


__all__ = [
    "Diagnostic",
    "Event",
    "Example",
    "ExampleError",
    "JsonlWriter",
    "Prediction",
    "ReadStats",
    "Related",
    "dumps",
    "read_examples",
    "read_jsonl",
    "read_predictions",
    "write_jsonl",
]
