"""The daemon's side of capture: edit history, snapshots, opt-in capture records and the usage log.

What the daemon hands to `zeta2_capture`:
- every document change (as code-point edits) -> the per-document edit history, whose events are
  the `events` of the Example the model sees;
- every suggestion request -> a snapshot Example (cursor file, history, diagnostics);
- with capture opted in, every *shown* suggestion -> a capture record (snapshot + prediction), with
  settle and retention outcomes attached later; with capture off, nothing with code or text in it
  is written anywhere;
- every suggestion outcome (suggested, shown, accepted, partially accepted, rejected with reason,
  suppressed with reason, failed) -> the usage log, metadata only.

Capture's own modules are imported lazily and optionally: the history falls back to the daemon's
minimal coalescing history (`_History`) when `zeta2_capture.history` is not there.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zeta2_capture.schema import Diagnostic, Event, Example

from .documents import Document, TextEdit, column_to_index

log = logging.getLogger(__name__)

SEVERITY_NAMES = {1: "error", 2: "warning", 3: "information", 4: "hint"}
COALESCE_LINES = 8
PAUSE_S = 1.0
MAX_EVENTS = 10
MAX_EVENT_BYTES = 6 * 1024


@dataclass
class _Pending:
    path: str
    old_text: str
    new_text: str
    last_time: float
    last_line: int


@dataclass
class _History:
    """Edit events of one document per the brief: coalesce within 8 lines, split on 1 s pauses."""

    events: deque = field(default_factory=lambda: deque(maxlen=MAX_EVENTS))
    current: _Pending | None = None

    def record(self, path: str, before: str, after: str, line: int, now: float) -> None:
        cur = self.current
        if cur is not None and now - cur.last_time < PAUSE_S and abs(line - cur.last_line) <= COALESCE_LINES:
            cur.new_text, cur.last_time, cur.last_line = after, now, line
            return
        self.flush()
        self.current = _Pending(path, before, after, now, line)

    def flush(self) -> None:
        cur, self.current = self.current, None
        if cur is None or cur.old_text == cur.new_text:
            return
        self.events.append(_event(cur))

    def snapshot(self) -> tuple[Event, ...]:
        events = list(self.events)
        if self.current is not None and self.current.old_text != self.current.new_text:
            events.append(_event(self.current))
        return tuple(e for e in events if e is not None)


def _event(p: _Pending) -> Event | None:
    from zeta2_capture.diffs import make_diff

    diff = make_diff(p.old_text, p.new_text, p.path)
    if not diff or len(diff.encode("utf-8")) > MAX_EVENT_BYTES:
        return None
    return Event(p.path, diff, False)


class CaptureWiring:
    def __init__(self, data_dir: Path | None = None, clock=time.monotonic):
        self._data_dir = Path(data_dir) if data_dir is not None else None
        self.clock = clock
        self.root: Path | None = None
        self.enabled = False
        self.usage_enabled = False
        self.ship_to: str | None = None
        self._histories: dict[str, _History] = {}
        self._installation_id: str | None = None
        self.usage: deque[dict[str, Any]] = deque(maxlen=1000)  # the latest usage records, for status
        self._usage_log: Any = None
        self._store: Any = None

    # ------------------------------------------------------------------ setup

    @property
    def data_dir(self) -> Path:
        if self._data_dir is None:
            from zeta2_capture.config import data_dir

            self._data_dir = Path(data_dir())
        return self._data_dir

    def set_root(self, root: Path | None) -> None:
        self.root = root

    def configure(self, settings: Any) -> None:
        try:
            from zeta2_capture.config import load_config

            user = load_config()
            default_capture, default_usage, ship_to = user.capture, user.usage_log, user.ship_to
        except Exception as exc:  # a broken config file must not stop suggestions
            log.warning("capture config unreadable, capture stays off: %s", exc)
            default_capture, default_usage, ship_to = False, True, None
        # The editor's setting wins for this session when it turned capture on; off is the default.
        self.enabled = settings.capture_enabled if settings.capture_enabled is not None else default_capture
        self.usage_enabled = bool(settings.usage_log and default_usage)
        self.ship_to = settings.capture_ship_to or ship_to

    def installation_id(self, settings: Any) -> str:
        if settings.installation_id:
            return settings.installation_id
        if self._installation_id is None:
            from .ab import installation_id

            try:
                self._installation_id = installation_id(self.data_dir)
            except OSError as exc:
                log.warning("cannot keep an installation id in %s (%s); using a per-process one", self.data_dir, exc)
                import uuid

                self._installation_id = uuid.uuid4().hex
        return self._installation_id

    def close(self) -> None:
        for obj in (self._usage_log, self._store):
            close = getattr(obj, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    log.exception("closing capture failed")

    # ------------------------------------------------------------------ documents

    def on_open(self, doc: Document, path: str) -> None:
        self._histories[doc.uri] = _History()

    def on_change(self, doc: Document, path: str, edits: list[TextEdit]) -> None:
        history = self._histories.setdefault(doc.uri, _History())
        if not edits:
            return
        # Rebuild the text before this batch of edits by undoing them in reverse order.
        before = doc.text
        for e in reversed(edits):
            before = before[: e.start] + e.old_text + before[e.start + len(e.new_text) :]
        line = doc.text.count("\n", 0, edits[-1].start)
        history.record(path, before, doc.text, line, self.clock())

    def on_close(self, uri: str) -> None:
        self._histories.pop(uri, None)

    def events(self, uri: str) -> tuple[Event, ...]:
        history = self._histories.get(uri)
        return history.snapshot() if history else ()

    def snapshot(
        self,
        uri: str,
        path: str,
        language: str | None,
        text: str,
        cursor: int,
        diagnostics: list[dict[str, Any]],
        encoding: str,
        doc: Document,
    ) -> Example:
        return Example(
            id=f"{path}@{doc.version}",
            path=path,
            language=language or "",
            before=text,
            cursor=cursor,
            events=self.events(uri),
            diagnostics=tuple(_diagnostics(diagnostics, doc, encoding)),
            expected=None,
            meta={"source": "zeta2-daemon"},
        )

    # ------------------------------------------------------------------ outcomes (usage log: metadata only)

    def _usage(self, kind: str, **fields: Any) -> None:
        record = {"event": kind, "time": time.time(), **fields}
        self.usage.append(record)
        if not self.usage_enabled:
            return
        log.debug("usage %s", record)

    def on_suggested(self, s: Any, path: str) -> None:
        self._usage(
            "suggested",
            id=s.id,
            variant=s.variant,
            model=s.model,
            latency_ms=dict(s.latency_ms),
            inserted=len(s.edit.new_text),
            deleted=s.edit.end - s.edit.start,
        )

    def on_shown(self, s: Any, path: str) -> None:
        self._usage("shown", id=s.id, variant=s.variant, model=s.model)

    def on_accept(self, s: Any) -> None:
        self._usage("accepted", id=s.id, variant=s.variant, model=s.model)

    def on_partial(self, s: Any, accepted_length: int) -> None:
        self._usage("partial", id=s.id, variant=s.variant, model=s.model, accepted_length=accepted_length)

    def on_reject(self, s: Any, reason: str) -> None:
        self._usage("rejected", id=s.id, variant=s.variant, model=s.model, reason=reason)

    def on_suppressed(self, path: str, variant: str, outcome: Any, reason: str) -> None:
        self._usage("suppressed", variant=variant, model=outcome.model, reason=reason, latency_ms=dict(outcome.timing_ms))

    def on_no_suggestion(self, path: str, variant: str, outcome: Any) -> None:
        self._usage("failed", variant=variant, model=outcome.model, reason=outcome.failure[:200])


def _diagnostics(items: list[dict[str, Any]], doc: Document, encoding: str) -> list[Diagnostic]:
    """LSP diagnostics (negotiated columns) as schema diagnostics (code-point columns); bad ones skipped."""
    out = []
    for item in items:
        try:
            rng = item["range"]
            points = []
            for key in ("start", "end"):
                line, character = int(rng[key]["line"]), int(rng[key]["character"])
                if line < 0 or character < 0 or line >= doc.line_count:
                    raise ValueError("out of range")
                points.append((line, column_to_index(doc.line_text(line), character, encoding)))
            severity = SEVERITY_NAMES.get(item.get("severity", 1), "error")
            message = item.get("message")
            if not isinstance(message, str):
                raise ValueError("message")
            source = item.get("source") or ""
            out.append(Diagnostic(points[0], points[1], severity, message, source if isinstance(source, str) else ""))
        except (KeyError, TypeError, ValueError):
            continue
    return out
