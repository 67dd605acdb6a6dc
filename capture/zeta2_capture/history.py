"""Edit history of one workspace, rendered as the schema's unified-diff events.

    history = EditHistory(clock=time.monotonic)
    history.record(path, old_text, new_text)            # every document change (now defaults to clock())
    history.record(path, old, new, predicted=True)      # the edit of an accepted suggestion
    history.events(max_events=6) -> tuple[Event, ...]   # oldest first
    history.recent_paths() -> list[str]                 # newest first, for ranking related context

Rules (Zed's, see the brief §5): consecutive edits in one file within 8 lines of the previous edit
coalesce into one event; a pause of 1 s or more, an edit in another file, a far-away edit or an
accepted suggestion starts a new event; 10 events are kept; an event whose diff exceeds 6 KiB is
dropped (a paste or a reformat says nothing about the next edit). An event that ends where it
started (typed then deleted) disappears. `predicted=True` marks events made by accepting a
suggestion, so the model can learn not to undo its own accepted edits.

The clock is injectable so tests drive time instead of sleeping. Thread-safe.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from zeta2_capture.schema import Event

COALESCE_LINES = 8
PAUSE_SECONDS = 1.0
MAX_EVENTS = 10
MAX_EVENT_BYTES = 6 * 1024


def changed_span(old: str, new: str) -> tuple[int, int, int]:
    """(start, old_end, new_end): code-point offsets of the one region where `old` and `new` differ."""
    n = min(len(old), len(new))
    lo, hi = 0, n  # longest common prefix by bisection on C-speed slice comparisons
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if old[:mid] == new[:mid]:
            lo = mid
        else:
            hi = mid - 1
    start = lo
    lo, hi = 0, n - start
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if old[len(old) - mid :] == new[len(new) - mid :]:
            lo = mid
        else:
            hi = mid - 1
    return start, len(old) - lo, len(new) - lo


WINDOW_MARGIN_LINES = 24
_HUNK_HEADER = re.compile(r"^@@ -(\d+)((?:,\d+)?) \+(\d+)((?:,\d+)?) @@", re.MULTILINE)


def windowed_diff(old: str, new: str, path: str, margin: int = WINDOW_MARGIN_LINES) -> str:
    """`diffs.make_diff(old, new, path)`, computed on the changed lines plus `margin` lines either side.

    An edit event touches a few lines of a file of hundreds; diffing only the window (then shifting
    the hunk headers' line numbers) keeps rendering the history to a fraction of a millisecond. The
    margin exceeds the 3 context lines and git's slider compaction (which only slides a change
    along identical neighbouring lines) by far, so the text equals the whole-file diff.
    """
    from zeta2_capture.diffs import make_diff

    start, old_end, new_end = changed_span(old, new)
    first = old.count("\n", 0, start)  # lines before this one are common to both
    lo_line = max(0, first - margin)
    lo = 0
    for _ in range(lo_line):
        lo = old.index("\n", lo) + 1
    # common suffix: whole lines after the change, then keep `margin` of them
    tail_old = old[old_end:]
    nl = tail_old.find("\n")
    suffix_start = old_end + nl + 1 if nl >= 0 else len(old)
    cut = suffix_start
    for _ in range(margin):
        nxt = old.find("\n", cut)
        if nxt < 0:
            cut = len(old)
            break
        cut = nxt + 1
    if cut >= len(old):
        old_hi, new_hi = len(old), len(new)
    else:
        old_hi, new_hi = cut, cut + (len(new) - len(old))
    if lo == 0 and old_hi == len(old):
        return make_diff(old, new, path)
    diff = make_diff(old[lo:old_hi], new[lo:new_hi], path)

    def shift(m: re.Match) -> str:
        return f"@@ -{int(m.group(1)) + lo_line}{m.group(2)} +{int(m.group(3)) + lo_line}{m.group(4)} @@"

    return _HUNK_HEADER.sub(shift, diff)


@dataclass
class _Open:
    """The event being built: the file before its first edit, the file now, the lines last touched."""

    path: str
    base: str
    current: str
    last_time: float
    first_line: int
    last_line: int
    predicted: bool
    rendered: tuple[str, Event | None] | None = None  # (current text it was rendered for, event)


class EditHistory:
    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_events: int = MAX_EVENTS,
        max_event_bytes: int = MAX_EVENT_BYTES,
        coalesce_lines: int = COALESCE_LINES,
        pause_seconds: float = PAUSE_SECONDS,
    ):
        self.clock = clock
        self.max_events = max_events
        self.max_event_bytes = max_event_bytes
        self.coalesce_lines = coalesce_lines
        self.pause_seconds = pause_seconds
        self._closed: list[Event] = []
        self._open: _Open | None = None
        self._lock = threading.Lock()

    def record(
        self, path: str, old_text: str, new_text: str, now: float | None = None, *, predicted: bool = False
    ) -> None:
        """One change of `path` from `old_text` to `new_text` (full texts)."""
        if old_text == new_text:
            return
        now = self.clock() if now is None else now
        start, old_end, new_end = changed_span(old_text, new_text)
        first = old_text.count("\n", 0, start)
        last_old = first + old_text.count("\n", start, old_end)
        last_new = first + new_text.count("\n", start, new_end)
        with self._lock:
            current = self._open
            if (
                current is not None
                and not predicted
                and not current.predicted
                and current.path == path
                and current.current == old_text
                and now - current.last_time < self.pause_seconds
                and first <= current.last_line + self.coalesce_lines
                and last_old >= current.first_line - self.coalesce_lines
            ):
                current.current = new_text
                current.last_time = now
                current.first_line, current.last_line = first, last_new
                return
            self._close_open()
            self._open = _Open(path, old_text, new_text, now, first, last_new, predicted)
            if predicted:
                self._close_open()  # an accepted suggestion is one whole event of its own

    # kept as the name the daemon may prefer
    on_change = record

    def flush(self) -> None:
        """Closes the event being built (e.g. when the user switches files)."""
        with self._lock:
            self._close_open()

    def _close_open(self) -> None:
        current, self._open = self._open, None
        if current is None:
            return
        event = self._render(current)
        if event is not None:
            self._closed.append(event)
            del self._closed[: -self.max_events]

    def _render(self, current: _Open) -> Event | None:
        diff = windowed_diff(current.base, current.current, current.path)
        if not diff or len(diff.encode("utf-8")) > self.max_event_bytes:
            return None
        return Event(current.path, diff, current.predicted)

    def events(self, max_events: int | None = None) -> tuple[Event, ...]:
        """The last `max_events` events, oldest first, the one still being built included."""
        with self._lock:
            events = list(self._closed)
            current = self._open
            if current is not None:
                if current.rendered is None or current.rendered[0] is not current.current:
                    current.rendered = (current.current, self._render(current))
                event = current.rendered[1]
                if event is not None:
                    events.append(event)
        events = events[-self.max_events :]
        if max_events is not None:
            events = events[-max_events:] if max_events > 0 else []
        return tuple(events)

    def recent_paths(self) -> list[str]:
        """Files edited recently, newest first."""
        with self._lock:
            paths = [e.path for e in self._closed]
            if self._open is not None:
                paths.append(self._open.path)
        return list(dict.fromkeys(reversed(paths)))

    def last_edit(self) -> Event | None:
        events = self.events(1)
        return events[0] if events else None

    def clear(self) -> None:
        with self._lock:
            self._closed.clear()
            self._open = None
