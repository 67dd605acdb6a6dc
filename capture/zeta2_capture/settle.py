"""Settled edits: what the user's text around a suggestion looked like once they stopped editing it.

    tracker = SettleTracker(clock=time.monotonic)
    tracker.on_shown(id, path, text, region_start, region_end, predicted_region, model=..., latency_ms=...,
                     example=snapshot_example)       # the suggestion the user saw
    tracker.on_edit(path, old_text, new_text)        # every document change
    tracker.on_accepted(id)                          # the user took it (before the edit applying it)
    tracker.on_rejected(id, reason)                  # dismissed; keeps watching (a rejection still settles)
    tracker.on_closed(path)                          # document closed: its suggestions are dropped
    tracker.tick(now) -> list[Settled | Dropped | Retention]

Rules (Zed's, brief §5): the suggestion's editable region (code points into the document) moves with
edits before it and grows over edits that overlap it; it is *settled* once `settle_seconds` (10)
pass with no overlapping edit; it is *dropped* when it has not settled `max_age_seconds` (300)
after being shown or when the region grows past `max_region_bytes` (4 KiB). Accepted suggestions
also get `Retention` outcomes at 15/30/60/120/300 s after acceptance: the kept rate of the
accepted change against the region's text at that moment.

No sleeping: outcomes appear only when `tick` is called with a time past their deadline; the daemon
calls it from a timer, tests call it with the times they choose.

`settled_example(outcome)` turns a `Settled` with its snapshot example into a capture record:
`expected` = the example's text with the region replaced by the settled region.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from zeta2_capture.history import changed_span
from zeta2_capture.metrics import kept_rate, recall_rate
from zeta2_capture.schema import Example

SETTLE_SECONDS = 10.0
MAX_AGE_SECONDS = 300.0
MAX_REGION_BYTES = 4096
RETENTION_MARKS = (15.0, 30.0, 60.0, 120.0, 300.0)


@dataclass(frozen=True, slots=True)
class Settled:
    id: str
    path: str
    region_before: str  # the region when the suggestion was shown
    predicted_region: str  # the region as the suggestion would have left it
    settled_region: str  # the region once the user stopped editing it
    kept_rate: float  # of the suggestion's change, the share the settled region agrees with
    recall_rate: float  # of the user's settled change, the share the suggestion had
    accepted: bool
    rejected_reason: str | None
    model: str
    latency_ms: float
    shown_at: float
    settled_at: float
    region_start: int = 0  # where the region started in the text at show time (the example's `before`)
    example: Example | None = None


@dataclass(frozen=True, slots=True)
class Dropped:
    id: str
    path: str
    reason: str  # "timeout" | "too large" | "closed"


@dataclass(frozen=True, slots=True)
class Retention:
    id: str
    path: str
    seconds: float  # since acceptance
    retained: float  # kept rate of the accepted change against the region now (0..1)
    model: str


@dataclass
class _Watch:
    id: str
    path: str
    text: str  # the document now
    start: int
    end: int
    region_before: str
    predicted_region: str
    model: str
    latency_ms: float
    shown_at: float
    last_overlap: float
    example: Example | None
    shown_start: int = 0
    accepted_at: float | None = None
    rejected_reason: str | None = None
    settled: bool = False
    marks_left: list[float] = field(default_factory=list)


class SettleTracker:
    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        settle_seconds: float = SETTLE_SECONDS,
        max_age_seconds: float = MAX_AGE_SECONDS,
        max_region_bytes: int = MAX_REGION_BYTES,
        retention_marks: tuple[float, ...] = RETENTION_MARKS,
    ):
        self.clock = clock
        self.settle_seconds = settle_seconds
        self.max_age_seconds = max_age_seconds
        self.max_region_bytes = max_region_bytes
        self.retention_marks = retention_marks
        self._watches: dict[str, _Watch] = {}
        self._pending: list[Settled | Dropped | Retention] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._watches)

    def on_shown(
        self,
        id: str,
        path: str,
        text: str,
        region_start: int,
        region_end: int,
        predicted_region: str,
        *,
        model: str = "",
        latency_ms: float = 0.0,
        example: Example | None = None,
        now: float | None = None,
    ) -> None:
        """A suggestion was shown: `text[region_start:region_end]` would become `predicted_region`."""
        if not 0 <= region_start <= region_end <= len(text):
            raise ValueError(f"region {region_start}..{region_end} is outside the document ({len(text)} chars)")
        now = self.clock() if now is None else now
        region = text[region_start:region_end]
        with self._lock:
            if len(region.encode("utf-8")) > self.max_region_bytes:
                self._pending.append(Dropped(id, path, "too large"))
                return
            self._watches[id] = _Watch(
                id, path, text, region_start, region_end, region, predicted_region, model, latency_ms,
                now, now, example, region_start,
            )

    def on_edit(self, path: str, old_text: str, new_text: str, now: float | None = None) -> None:
        if old_text == new_text:
            return
        now = self.clock() if now is None else now
        start, old_end, new_end = changed_span(old_text, new_text)
        delta = new_end - old_end
        with self._lock:
            for w in list(self._watches.values()):
                if w.path != path:
                    continue
                w.text = new_text
                if old_end < w.start:
                    w.start += delta
                    w.end += delta
                elif start > w.end:
                    pass
                else:  # overlaps or touches the region: it grows to cover the edit
                    w.start = min(w.start, start)
                    w.end = max(w.end + delta, new_end)
                    if not w.settled:
                        w.last_overlap = now
                w.start = max(0, min(w.start, len(new_text)))
                w.end = max(w.start, min(w.end, len(new_text)))
                if not w.settled and len(new_text[w.start : w.end].encode("utf-8")) > self.max_region_bytes:
                    del self._watches[w.id]
                    self._pending.append(Dropped(w.id, w.path, "too large"))

    def on_accepted(self, id: str, now: float | None = None) -> bool:
        now = self.clock() if now is None else now
        with self._lock:
            w = self._watches.get(id)
            if w is None:
                return False
            w.accepted_at = now
            w.marks_left = list(self.retention_marks)
            return True

    def on_rejected(self, id: str, reason: str = "rejected") -> bool:
        with self._lock:
            w = self._watches.get(id)
            if w is None:
                return False
            w.rejected_reason = reason
            return True

    def on_closed(self, path: str) -> None:
        with self._lock:
            for w in [w for w in self._watches.values() if w.path == path]:
                del self._watches[w.id]
                if not w.settled:
                    self._pending.append(Dropped(w.id, w.path, "closed"))

    def next_deadline(self) -> float | None:
        """When `tick` next has something to report (for the daemon's timer)."""
        with self._lock:
            times = []
            for w in self._watches.values():
                if not w.settled:
                    times.append(min(w.last_overlap + self.settle_seconds, w.shown_at + self.max_age_seconds))
                if w.accepted_at is not None and w.marks_left:
                    times.append(w.accepted_at + w.marks_left[0])
            return min(times) if times else None

    def tick(self, now: float | None = None) -> list[Settled | Dropped | Retention]:
        now = self.clock() if now is None else now
        with self._lock:
            out, self._pending = self._pending, []
            for w in list(self._watches.values()):
                region = w.text[w.start : w.end]
                if not w.settled:
                    if now - w.last_overlap >= self.settle_seconds:
                        w.settled = True
                        out.append(
                            Settled(
                                w.id, w.path, w.region_before, w.predicted_region, region,
                                kept_rate(w.region_before, w.predicted_region, region),
                                recall_rate(w.region_before, w.predicted_region, region),
                                w.accepted_at is not None, w.rejected_reason, w.model, w.latency_ms,
                                w.shown_at, now, w.shown_start, w.example,
                            )
                        )
                    elif now - w.shown_at >= self.max_age_seconds:
                        del self._watches[w.id]
                        out.append(Dropped(w.id, w.path, "timeout"))
                        continue
                if w.accepted_at is not None:
                    while w.marks_left and now - w.accepted_at >= w.marks_left[0]:
                        mark = w.marks_left.pop(0)
                        out.append(
                            Retention(w.id, w.path, mark, kept_rate(w.region_before, w.predicted_region, region), w.model)
                        )
                if w.settled and not w.marks_left:
                    del self._watches[w.id]
            return out


def settled_example(outcome: Settled, **meta: Any) -> Example | None:
    """The capture record of a settled suggestion: its snapshot with the settled region as `expected`."""
    ex = outcome.example
    if ex is None:
        return None
    start = outcome.region_start
    if ex.before[start : start + len(outcome.region_before)] != outcome.region_before:
        return None  # the example is not the text the suggestion was shown on
    expected = ex.before[:start] + outcome.settled_region + ex.before[start + len(outcome.region_before) :]
    provenance = {
        **ex.meta,
        "kind": "settled",
        "model": outcome.model,
        "latency_ms": outcome.latency_ms,
        "accepted": outcome.accepted,
        "rejected_reason": outcome.rejected_reason,
        "kept_rate": round(outcome.kept_rate, 4),
        "recall_rate": round(outcome.recall_rate, 4),
        "settle_seconds": round(outcome.settled_at - outcome.shown_at, 3),
        "predicted_region": outcome.predicted_region,
        **meta,
    }
    return replace(ex, expected=expected, meta=provenance)
