"""The daemon's side of capture (docs/capture.md "How the daemon is meant to use it").

What the daemon hands to `zeta2_capture`:
- every document change -> the workspace `EditHistory` (its events are what the model sees) and
  the `SettleTracker`; buffers reach the `WorkspaceIndex` lazily, at the next request, so didChange
  stays cheap while a prediction runs;
- every suggestion request -> `snapshot(...)`, the Example the model sees;
- with capture opted in, every *shown* suggestion -> a `shown` capture record (snapshot, prediction
  in meta), accepted/rejected ones likewise, and `settled` records when the tracker settles them;
  with capture off, the `Capturer` never opens its store: no code or text is written anywhere;
- every outcome (suggested, shown, accepted, partial, rejected, suppressed, failed, settled,
  retention, dropped) -> the `UsageLog`, metadata only (it refuses anything that looks like text);
- with capture on, each retention mark of an accepted suggestion is attached to its `accepted`
  record (`meta.retention`, seconds -> retained share), rewritten under the same id;
- with capture on and `capture.shipTo` set, every `settled` record (and every retention update)
  is followed by `zeta2_capture.ship.ship(store, shipTo)`: all records not yet delivered there, in
  order, to a directory or an http(s) URL. Shipping runs on its own thread with its own store
  connection (an unreachable URL must not hold up capture writes or the `zeta2/ping` barrier); a
  failed ship is retried on the settle timer after 2, 4, 8, ... up to 300 s (the module resumes at
  the first undelivered batch); the count shipped and the last error are in `zeta2/status` (`ship`).

Records are written on one capture I/O thread (SQLite commits with fsync would otherwise add
milliseconds to every response); `flush()` waits for them (`zeta2/ping` calls it, so a ping is a
barrier for clients and tests). A capture or usage-log failure (full disk, damaged file) is logged
and never fails a suggestion.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from zeta2_capture.diagnostics import DiagnosticsStore, from_lsp
from zeta2_capture.history import EditHistory
from zeta2_capture.schema import Example
from zeta2_capture.settle import Dropped, Retention, Settled, SettleTracker, settled_example
from zeta2_capture.snapshot import snapshot

from .documents import Document, TextEdit

log = logging.getLogger(__name__)

SHIP_RETRY_S = (2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 300.0)  # after 1, 2, 3, ... failures in a row


class CaptureWiring:
    def __init__(self, data_dir: Path | None = None, clock=time.monotonic, *, index: bool = True):
        self._data_dir = Path(data_dir) if data_dir is not None else None
        self.clock = clock
        self.use_index = index
        self.root: Path | None = None
        self.history = EditHistory(clock=clock)
        self.diagnostics = DiagnosticsStore()
        self.tracker = SettleTracker(clock=clock)
        self.index: Any = None
        self.policy: Any = None
        self.capturer: Any = None
        self.usage_log: Any = None
        self.usage_wanted = True
        self.ship_to: str | None = None
        self._installation_id: str | None = None
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zeta2-capture-io")
        self._outbox: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []  # for the I/O thread, next loop turn
        self._handover: asyncio.TimerHandle | None = None
        self._dirty: dict[str, tuple[str, str | None]] = {}  # path -> (text, language) not yet indexed
        self._accepting: dict[str, str] = {}  # path -> text once an accepted suggestion is applied
        self._variants: dict[str, str] = {}  # suggestion id -> variant, for settle/retention records
        self._captured_ids: set[str] = set()  # shown while capture was on: only these get settled records
        self.records: dict[str, int] = {}  # capture kind -> records written this session (for status/tests)
        self._accepted_records: dict[str, Example] = {}  # suggestion id -> its accepted record (retention goes there)
        # Shipping (see the module docstring): its own thread and store connection.
        self._ship_io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zeta2-capture-ship")
        self._ship_store: Any = None
        self._ship_queued = False
        self._ship_failures = 0
        self._ship_retry_at: float | None = None
        self.ship_state: dict[str, Any] = {"to": None, "shipped": 0, "batches": 0, "lastError": None, "lastShippedAt": None}
        self.on_ship_state: Callable[[dict[str, Any]], None] | None = None  # called on the ship thread

    # ------------------------------------------------------------------ setup

    @property
    def data_dir(self) -> Path:
        if self._data_dir is None:
            from zeta2_capture.config import data_dir

            self._data_dir = Path(data_dir())
        return self._data_dir

    def set_root(self, root: Path | None) -> None:
        self.root = root
        if root is not None and self.use_index and root.is_dir():
            try:
                from zeta2_capture.index import WorkspaceIndex

                self.index = WorkspaceIndex(root)
            except Exception as exc:  # an unreadable workspace: serve without related context
                log.warning("workspace index for %s not available: %s", root, exc)
                self.index = None

    def configure(self, settings: Any) -> None:
        from zeta2_capture.policy import CapturePolicy
        from zeta2_capture.store import Capturer
        from zeta2_capture.usage import UsageLog

        if self.capturer is not None:
            self._submit(self.capturer.close)  # after the records already queued for it
        self.policy = CapturePolicy(self.root or Path.cwd(), session_enabled=settings.capture_enabled)
        self.capturer = Capturer(self.policy)
        if settings.capture_ship_to != self.ship_to:
            self._ship_failures, self._ship_retry_at = 0, None
            self.ship_state = {**self.ship_state, "to": settings.capture_ship_to, "lastError": None}
        self.ship_to = settings.capture_ship_to
        self.usage_wanted = settings.usage_log
        if self.usage_log is None:
            self.usage_log = UsageLog(enabled=None)  # None: the user's config (`usage_log`) decides
        self.usage_log._enabled = None if settings.usage_log else False

    @property
    def enabled(self) -> bool:
        try:
            return bool(self.policy is not None and self.policy.enabled)
        except Exception as exc:  # unreadable config: capture stays off
            log.warning("capture config unreadable, capture is off: %s", exc)
            return False

    @property
    def usage_enabled(self) -> bool:
        try:
            return bool(self.usage_log is not None and self.usage_log.enabled)
        except Exception:
            return False

    def installation_id(self, settings: Any) -> str:
        if settings.installation_id:
            return settings.installation_id
        if self._installation_id is None:
            from .ab import installation_id

            try:
                self._installation_id = installation_id(self.data_dir)
            except OSError as exc:
                log.warning("cannot keep an installation id in %s (%s); using a per-process one", self.data_dir, exc)
                self._installation_id = uuid.uuid4().hex
        return self._installation_id

    def close(self) -> None:
        def close_all() -> None:
            for obj in (self.capturer, self.usage_log, self.index):
                if obj is not None:
                    try:
                        obj.close()
                    except Exception:
                        log.exception("closing %s failed", type(obj).__name__)

        self._submit(close_all)
        self._hand_over()
        self._io.shutdown(wait=True)
        self._ship_io.shutdown(wait=True)
        if self._ship_store is not None:
            self._ship_store.close()

    # ------------------------------------------------------------------ documents

    def on_open(self, doc: Document, path: str) -> None:
        self._dirty[path] = (doc.text, doc.language)

    def on_change(self, doc: Document, path: str, edits: list[TextEdit]) -> None:
        if not edits:
            return
        after = doc.text
        before = after
        for e in reversed(edits):  # undo the batch to get the text before it
            before = before[: e.start] + e.old_text + before[e.start + len(e.new_text) :]
        predicted = self._accepting.get(path) == after
        if predicted:
            del self._accepting[path]
        self.history.record(path, before, after, predicted=predicted)
        self.tracker.on_edit(path, before, after)
        self._dirty[path] = (after, doc.language)

    def on_close(self, uri: str, path: str) -> None:
        self.tracker.on_closed(path)
        self.diagnostics.clear(path)
        self._dirty.pop(path, None)
        if self.index is not None:
            try:
                self.index.close_buffer(path)
            except Exception:
                log.exception("index close_buffer(%s) failed", path)

    def set_diagnostics(self, path: str, text: str, items: list[Any], encoding: str) -> int:
        """Stores the editor's diagnostics for `path`; malformed ones are skipped. Returns how many were kept."""
        kept = []
        for i, item in enumerate(items):
            try:
                kept.append(from_lsp(item, text, encoding=encoding, where=f"diagnostics[{i}]"))
            except Exception as exc:
                log.warning("zeta2/diagnostics for %s: skipped %s", path, exc)
        self.diagnostics.set(path, kept)
        return len(kept)

    def snapshot(self, path: str, language: str | None, text: str, cursor: int, version: int) -> Example:
        if self.index is not None and path in self._dirty:
            buffered, lang = self._dirty.pop(path)
            try:
                self.index.update_buffer(path, buffered, lang)
            except Exception:
                log.exception("index update_buffer(%s) failed", path)
        return snapshot(
            path,
            language,
            text,
            cursor,
            self.history,
            self.diagnostics,
            self.index,
            id=f"{path}@{version}",
            meta={"source": "zeta2-daemon"},
        )

    # ------------------------------------------------------------------ usage log (metadata only)

    def _submit(self, fn, *args: Any) -> None:
        """Runs `fn` on the capture I/O thread: SQLite commits (fsync) never delay a response.

        On the event loop, the work is handed over one loop turn later (call_later(0) runs after the
        callbacks already queued, among them the response of the request that caused it): the I/O
        thread's Python work would otherwise compete for the GIL with the loop while it answers.
        """
        self._outbox.append((fn, args))
        if self._handover is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on the loop (tests, shutdown): hand over now
            self._hand_over()
            return
        self._handover = loop.call_later(0, self._hand_over)

    def _hand_over(self) -> None:
        if self._handover is not None:
            self._handover.cancel()
            self._handover = None
        work, self._outbox = self._outbox, []
        for fn, args in work:
            try:
                self._io.submit(fn, *args)
            except RuntimeError:  # shut down
                log.debug("capture I/O is closed; %s dropped", getattr(fn, "__name__", fn))

    def flush(self, timeout: float = 30.0) -> None:
        """Waits until every record submitted so far is written (clients' barrier: zeta2/ping)."""
        self._hand_over()
        try:
            self._io.submit(lambda: None).result(timeout)
        except RuntimeError:
            pass

    def _usage(self, event: str, **fields: Any) -> None:
        if self.usage_log is None:
            return
        fields = {k: v for k, v in fields.items() if v is not None}
        self._submit(self._write_usage, self.usage_log, event, fields)

    @staticmethod
    def _write_usage(usage_log: Any, event: str, fields: dict[str, Any]) -> None:
        try:
            usage_log.log(event, **fields)
        except Exception as exc:  # UsageError is a bug in what we log; StoreError a disk problem
            log.warning("usage log: %s record not written: %s", event, exc)

    def _capture(self, example: Example | None, kind: str) -> None:
        if example is None or self.capturer is None:
            return
        self._submit(self._write_capture, self.capturer, example, kind)

    def _write_capture(self, capturer: Any, example: Example, kind: str) -> None:
        try:
            decision = capturer.capture(example, kind)
        except Exception:
            log.exception("capture of a %s record failed", kind)
            return
        if getattr(decision, "eligible", False):
            self.records[kind] = self.records.get(kind, 0) + 1
            if kind == "settled" or (kind == "accepted" and "retention" in example.meta):
                self.request_ship()
        else:
            log.debug("%s record not captured: %s", kind, "; ".join(getattr(decision, "reasons", ()) or ()))

    # ------------------------------------------------------------------ suggestion outcomes

    def on_suggested(self, s: Any, path: str) -> None:
        self._variants[s.id] = s.variant
        while len(self._variants) > 4096:  # settle outcomes come within 5 minutes; older ids are done
            self._variants.pop(next(iter(self._variants)))
        self._usage(
            "suggested",
            id=s.id,
            model=s.model,
            variant=s.variant,
            language=s.example.language if s.example is not None else None,
            latency_ms=s.latency_ms.get("daemon"),
            timing_ms={k: v for k, v in s.latency_ms.items() if isinstance(v, (int, float))},
            inserted_chars=len(s.edit.new_text),
            deleted_chars=s.edit.end - s.edit.start,
            edit_lines=s.edit.new_text.count("\n") + 1,
        )

    def on_shown(self, s: Any, path: str, region: tuple[int, int] | None) -> None:
        self._usage("shown", id=s.id, model=s.model, variant=s.variant, latency_ms=s.latency_ms.get("daemon"))
        start, end = region if region is not None else (s.edit.start, s.edit.end)
        start, end = min(start, s.edit.start), max(end, s.edit.end)
        predicted_region = s.before[start : s.edit.start] + s.edit.new_text + s.before[s.edit.end : end]
        try:
            self.tracker.on_shown(
                s.id, path, s.before, start, end, predicted_region,
                model=s.model, latency_ms=float(s.latency_ms.get("daemon", 0.0)), example=s.example,
            )
        except ValueError as exc:
            log.warning("settle tracking of %s skipped: %s", s.id, exc)
        if self.enabled:
            self._captured_ids.add(s.id)
            self._capture(self._with_prediction(s, "shown"), "shown")

    def _with_prediction(self, s: Any, kind: str) -> Example | None:
        if s.example is None:
            return None
        meta = {
            **s.example.meta,
            "kind": kind,
            "suggestion_id": s.id,
            "model": s.model,
            "variant": s.variant,
            "prediction": {"start": s.edit.start, "end": s.edit.end, "new_text": s.edit.new_text},
        }
        # One record per (suggestion, kind): the store replaces records with the same id.
        return replace(s.example, id=f"{s.id}/{kind}", meta=meta)

    def on_accept(self, s: Any, path: str) -> None:
        self.tracker.on_accepted(s.id)
        self._accepting[path] = s.predicted
        self._usage("accepted", id=s.id, model=s.model, variant=s.variant)
        if self.enabled:
            record = self._with_prediction(s, "accepted")
            if record is not None and s.id in self._captured_ids:
                self._accepted_records[s.id] = record
                while len(self._accepted_records) > 1024:  # retention ends 300 s after acceptance
                    self._accepted_records.pop(next(iter(self._accepted_records)))
            self._capture(record, "accepted")

    def on_partial(self, s: Any, accepted_length: int) -> None:
        self._usage("partial", id=s.id, model=s.model, variant=s.variant, accepted_length=accepted_length)

    def on_reject(self, s: Any, reason: str) -> None:
        self.tracker.on_rejected(s.id, reason)
        self._usage("rejected", id=s.id, model=s.model, variant=s.variant, reason=_label(reason))
        if self.enabled:
            self._capture(self._with_prediction(s, "rejected"), "rejected")

    def on_suppressed(self, variant: str, outcome: Any, reason: str) -> None:
        self._usage("suppressed", model=outcome.model, variant=variant, reason=_label(reason),
                    latency_ms=outcome.timing_ms.get("daemon"))

    def on_no_suggestion(self, variant: str, outcome: Any) -> None:
        self._usage("failed", model=outcome.model, variant=variant, reason=_label(outcome.failure),
                    latency_ms=outcome.timing_ms.get("daemon"))

    def tick(self, now: float | None = None) -> list[Any]:
        """Settle and retention outcomes due by `now`: captured (when on) and logged."""
        outcomes = self.tracker.tick(now)
        for o in outcomes:
            variant = self._variants.get(o.id)
            if isinstance(o, Settled):
                self._usage("settled", id=o.id, model=o.model, variant=variant,
                            kept_rate=round(o.kept_rate, 4), recall_rate=round(o.recall_rate, 4))
                if self.enabled and o.id in self._captured_ids:
                    record = settled_example(o, variant=variant, suggestion_id=o.id)
                    self._capture(replace(record, id=f"{o.id}/settled") if record is not None else None, "settled")
            elif isinstance(o, Retention):
                self._usage("retention", id=o.id, model=o.model, variant=variant, seconds=o.seconds,
                            retained=round(o.retained, 4))
                self._attach_retention(o)
            elif isinstance(o, Dropped):
                self._usage("dropped", id=o.id, variant=variant, reason=_label(o.reason))
        if self._ship_retry_at is not None and self.clock() >= self._ship_retry_at:
            self._ship_retry_at = None
            self.request_ship()
        return outcomes

    def _attach_retention(self, o: Retention) -> None:
        """The retention mark goes into the accepted record's meta; the record is rewritten (same id)."""
        record = self._accepted_records.get(o.id)
        if record is None or not self.enabled:
            return
        retention = {**record.meta.get("retention", {}), f"{o.seconds:g}": round(o.retained, 4)}
        record = replace(record, meta={**record.meta, "retention": retention})
        if o.seconds >= max(self.tracker.retention_marks):
            del self._accepted_records[o.id]
        else:
            self._accepted_records[o.id] = record
        self._capture(record, "accepted")

    # ------------------------------------------------------------------ shipping

    @property
    def ship_due(self) -> bool:
        """A failed ship waits for its retry time (the settle timer must keep ticking for it)."""
        return self._ship_retry_at is not None

    def request_ship(self) -> None:
        """Ships what is not yet delivered, on the ship thread; at most one ship queued at a time."""
        if not self.ship_to or not self.enabled or self._ship_queued:
            return
        self._ship_queued = True
        try:
            self._ship_io.submit(self._ship, self.ship_to)
        except RuntimeError:  # shut down
            self._ship_queued = False

    def _ship(self, destination: str) -> None:
        from zeta2_capture.ship import ship
        from zeta2_capture.store import CaptureStore

        self._ship_queued = False
        state = dict(self.ship_state, to=destination)
        try:
            if self._ship_store is None:
                path = getattr(self.capturer, "store_path", None)
                self._ship_store = CaptureStore(path) if path is not None else CaptureStore()
            result = ship(self._ship_store, destination)
        except Exception as exc:  # ShipError (unreachable, HTTP error, unwritable folder) or a store problem
            self._ship_failures += 1
            wait = SHIP_RETRY_S[min(self._ship_failures, len(SHIP_RETRY_S)) - 1]
            self._ship_retry_at = self.clock() + wait
            state["lastError"] = f"{exc} (retrying in {wait:g} s)"
            log.warning("shipping captures to %s failed: %s; retrying in %g s", destination, exc, wait)
        else:
            self._ship_failures, self._ship_retry_at = 0, None
            state.update(shipped=state["shipped"] + result.records, batches=state["batches"] + result.batches,
                         lastError=None, lastShippedAt=time.time())
            if result.records:
                log.info("shipped %d captures in %d batches to %s", result.records, result.batches, destination)
        self.ship_state = state
        if self.on_ship_state is not None:
            self.on_ship_state(dict(state))


def _label(text: str) -> str:
    """A usage-log label: one line, at most 200 characters (the log refuses longer text)."""
    return " ".join(str(text).split())[:200]
