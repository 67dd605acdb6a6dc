"""The language server: its state and the suggestion pipeline of BRIEF section 4, on top of pygls 2.

Requests flow: copilotInlineEdit / inlineCompletion -> document and position checked -> suggestion
cache (typing through a shown suggestion) -> scheduler (debounce, bounded pending, newer cancels
older) -> snapshot (capture) -> A/B variant -> prediction on the model thread -> guardrails ->
minimal edit -> response. Every failure becomes an error response or an empty answer, a log line
and a `zeta2/status` lastError; no request can stop the server.

The wire protocol is in protocol.py, the LSP handlers in handlers/, the test clock in testclock.py.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer

from . import __version__, guardrails
from .ab import assign
from .capture_wiring import CaptureWiring
from .config import Settings, Variant, parse_settings
from .documents import DocumentError, DocumentStore
from .methods import ACCEPT_COMMAND, COPILOT_INLINE_EDIT
from .models import Models, Outcome
from .params import field, require_int
from .protocol import Zeta2Protocol
from .scheduler import Scheduler
from .status import STATUS_METHOD, StatusBoard
from .suggestions import Suggestion, SuggestionCache, inline_insertion, minimal_edit, new_suggestion_id
from .testclock import ManualClock, register_test_clock
from .transport import CHUNK, MessageReader, serve

log = logging.getLogger("zeta2_daemon")

STALE = "stale: the document changed before the model ran"
BUSY_AFTER_S = 0.15


class Zeta2Server(LanguageServer):
    def __init__(
        self,
        *,
        default_pack: str | None = None,
        ab_variants: tuple[Variant, ...] = (),
        data_dir: Path | None = None,
        clock=time.monotonic,
        index: bool = True,
    ):
        super().__init__("zeta2-daemon", __version__, protocol_cls=Zeta2Protocol)
        self.default_pack = default_pack
        self.cli_variants = tuple(ab_variants)
        self.settings = Settings()
        self.docs = DocumentStore()
        self.scheduler = Scheduler(self.settings.debounce_ms / 1000, self.settings.max_pending, clock=clock)
        self.cache = SuggestionCache()
        self.syntax_trees = guardrails.SyntaxTrees()  # the guardrail's incremental parses, per document
        self.status = StatusBoard(lambda state: self.protocol.notify(STATUS_METHOD, state))
        self.clock = clock
        self.capture = CaptureWiring(data_dir=data_dir, clock=clock, index=index)
        self._ticker: asyncio.Task | None = None
        self.models: Models | None = None
        self.root: Path | None = None
        self.cursors: dict[str, int] = {}
        self.focused: str | None = None
        self.rejected: set[tuple[str, str]] = set()
        self.prefetch: dict[str, tuple[str, int]] = {}  # uri -> (expected text after accept, cursor)
        self.counters = {"requests": 0, "cache_hits": 0, "suppressed": 0, "errors": 0, "stale": 0, "bad_messages": 0}
        # didChange handling times (ms), the latest 4096: the loop must stay responsive during predictions.
        self.change_ms: deque[float] = deque(maxlen=4096)
        self.last_timing: dict[str, float] = {}  # the latest prediction's timing (bench/daemon reads it)
        self._started = self._request_started = 0.0  # perf_counter() when the latest suggest() began
        self._status_info: dict[str, Any] = {}  # the model slot's info last put in zeta2/status

    # ------------------------------------------------------------------ configuration

    def apply_settings(self, raw: Any, *, initial: bool = False) -> None:
        settings, problems = parse_settings(raw, self.settings)
        for problem in problems:
            log.warning("%s", problem.message())
            self.window_show_message(types.ShowMessageParams(types.MessageType.Warning, problem.message()))
        old = self.settings
        self.settings = settings
        self.scheduler.configure(settings.debounce_ms / 1000, settings.max_pending)
        reload_keys = ("ab_variants", "model", "device", "max_output_tokens")
        if initial or any(getattr(settings, k) != getattr(old, k) for k in reload_keys):
            self._load_models()
        self.capture.configure(settings)
        self.status.update(capture=self.capture.enabled, usageLog=self.capture.usage_enabled,
                           ship=dict(self.capture.ship_state) if self.capture.ship_to else None)

    def variants(self) -> list[Variant]:
        if self.settings.ab_variants:
            return list(self.settings.ab_variants)
        if self.cli_variants:
            return list(self.cli_variants)
        pack = self.settings.model or self.default_pack
        if pack is None:
            from .models import resolve_default_pack

            pack = str(resolve_default_pack())
        return [Variant(pack, 1.0, Path(pack).name)]

    def _load_models(self) -> None:
        if self.models is not None:
            self.models.shutdown()
        self._status_info = {}
        variants = self.variants()
        self.models = Models(variants, self.settings.device, self.settings.max_output_tokens)
        missing = [v.pack for v in variants if not (Path(v.pack).expanduser() / "manifest.json").exists()]
        self.status.update(
            model=variants[0].label if len(variants) == 1 else None,
            variants=[{"name": v.label, "pack": v.pack, "share": v.share} for v in variants],
        )
        if missing:
            from .models import bootstrap_hint

            self.status.error(bootstrap_hint(missing[0]))

    # ------------------------------------------------------------------ transport

    def start_io(self, stdin: Any = None, stdout: Any = None) -> None:
        """Serves over stdio with transport.py's reader (pygls' drops malformed messages unanswered)."""
        self._stop_event = threading.Event()
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        try:
            asyncio.run(self._serve_pipe(stdin or sys.stdin.buffer))
        except BrokenPipeError:
            log.error("the connection to the client is lost; shutting down")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()

    async def _serve_pipe(self, stdin: Any) -> None:
        loop = asyncio.get_running_loop()
        try:
            stream = asyncio.StreamReader()
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), stdin)
            reader = MessageReader(lambda: stream.read(CHUNK))
        except (ValueError, OSError):  # a regular file: no asyncio pipe; read it in a thread
            read = getattr(stdin, "read1", stdin.read)
            reader = MessageReader(lambda: loop.run_in_executor(self.thread_pool, read, CHUNK), can_stall=False)
        await self._serve(reader)

    def start_tcp(self, host: str, port: int) -> None:
        log.info("listening on %s:%s", host, port)
        self._stop_event = threading.Event()

        async def connection(stream: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.protocol.set_writer(writer)
            await self._serve(MessageReader(lambda: stream.read(CHUNK)))
            self.shutdown()

        async def listen() -> None:
            self._server = await asyncio.start_server(connection, host, port)
            async with self._server:
                await self._server.serve_forever()

        try:
            asyncio.run(listen())
        except (asyncio.CancelledError, KeyboardInterrupt):
            pass

    async def _serve(self, reader: MessageReader) -> None:
        assert self._stop_event is not None
        await serve(reader, self.protocol.receive, self.protocol.answer_malformed, self._stop_event.is_set)

    def note_response(self, method: str, ms: float) -> None:
        """A request was answered `ms` after its last byte arrived: the daemon's whole share of the round trip."""
        if method == COPILOT_INLINE_EDIT and "daemon" in self.last_timing:
            self.last_timing["server"] = round(ms, 3)
            self.last_timing["queue"] = round(ms - (time.perf_counter() - self._request_started) * 1000, 3)

    def note_bad_message(self, what: str) -> None:
        """A malformed message or bad params: counted, and the latest shown in `zeta2/status`."""
        self.counters["bad_messages"] += 1
        self.status.update(lastBadMessage={"message": what[:500], "time": time.time()})

    # ------------------------------------------------------------------ paths

    def relative_path(self, uri: str) -> str:
        parsed = urlparse(uri)
        path = Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(parsed.path or uri)
        if self.root is not None:
            try:
                return path.relative_to(self.root).as_posix()
            except ValueError:
                pass
        return path.name or "untitled"

    # ------------------------------------------------------------------ the suggestion pipeline

    def document_for(self, uri: Any, version: Any = None):
        if not isinstance(uri, str):
            raise JsonRpcInvalidParams(message=f"textDocument.uri must be a string, got {uri!r:.80}")
        try:
            doc = self.docs.get(uri)
        except DocumentError as exc:
            raise JsonRpcInvalidParams(message=str(exc)) from None
        return doc

    def cursor_offset(self, doc, position: Any) -> int:
        line = require_int(field(position, "line"), "position.line")
        character = require_int(field(position, "character"), "position.character")
        try:
            return doc.offset_at(line, character, self.docs.encoding)
        except DocumentError as exc:
            raise JsonRpcInvalidParams(message=str(exc)) from None

    def servable(self, doc) -> str:
        """Why a document cannot get suggestions ("" when it can)."""
        size = len(doc.text.encode("utf-8", "surrogatepass")) if len(doc.text) * 4 > self.settings.max_document_bytes else len(doc.text)
        if size > self.settings.max_document_bytes:
            return f"{doc.uri} is too large for suggestions ({size} bytes > maxDocumentBytes {self.settings.max_document_bytes})"
        if doc.is_binary:
            return f"{doc.uri} looks binary (it contains NUL characters); no suggestions"
        return ""

    async def suggest(self, uri: Any, version: Any, position: Any) -> Suggestion | None:
        self._started = time.perf_counter()
        self.counters["requests"] += 1
        doc = self.document_for(uri)
        cursor = self.cursor_offset(doc, position)
        if isinstance(version, int) and not isinstance(version, bool) and version != doc.version:
            self.counters["stale"] += 1
            log.info("stale request for %s version %s (document is at %s): dropped", uri, version, doc.version)
            self._outcome(uri, "dropped", f"stale: version {version}, the document is at {doc.version}")
            return None
        why = self.servable(doc)
        if why:
            log.info("%s", why)
            self.status.error(why)
            self._outcome(uri, "failed", why)
            return None
        self.cursors[uri] = cursor
        cached = self.cache.lookup(uri, doc.version, doc.text, cursor)
        if cached is not None:
            self.counters["cache_hits"] += 1
            log.debug("suggestion %s answered from cache for %s v%s", cached.id, uri, doc.version)
            return cached

        ticket = await self.scheduler.admit(uri)
        try:
            if ticket.cancelled:
                log.info("request for %s cancelled: %s", uri, ticket.reason)
                self._outcome(uri, "dropped", ticket.reason)
                return None
            if doc is not self.docs._docs.get(uri) or doc.version != (version if isinstance(version, int) else doc.version):
                self.counters["stale"] += 1
                self._outcome(uri, "dropped", "stale: the document changed while the request waited")
                return None
            text, doc_version = doc.text, doc.version
            return await self._predict(doc, text, doc_version, cursor, ticket)
        finally:
            self.scheduler.done(ticket)

    def _outcome(self, uri: str, result: str, reason: str) -> None:
        self.status.update(push=False, lastOutcome={"uri": uri, "result": result, "reason": reason})

    async def _predict(self, doc, text: str, doc_version: int, cursor: int, ticket=None) -> Suggestion | None:
        uri = doc.uri
        path = self.relative_path(uri)
        t0 = time.perf_counter()
        example = self.capture.snapshot(path, doc.language_id or doc.language, text, cursor, doc_version)
        snapshot_ms = (time.perf_counter() - t0) * 1000
        assert self.models is not None
        variants = self.models.variants
        variant = variants[0] if len(variants) == 1 else assign(self.capture.installation_id(self.settings), path, variants)
        slot = self.models.slot(variant.label)
        loop = asyncio.get_running_loop()
        # "busy" is pushed only when a prediction takes noticeable time: two notifications per request
        # would cost more than the rest of the LSP work together.
        busy = loop.call_later(BUSY_AFTER_S, lambda: self.status.update(busy=True))
        requested = time.perf_counter()
        thread_times = [0.0, 0.0]  # when the model thread started and finished this request
        try:
            deadline_s = self.settings.deadline_ms / 1000

            def run() -> Outcome:
                thread_times[0] = time.perf_counter()
                try:
                    # Runs when the model thread is free: a request the user typed past (or that a newer
                    # one displaced) while it waited is dropped here, before it costs a prediction.
                    if doc.version != doc_version or (ticket is not None and ticket.cancelled):
                        return Outcome(None, STALE, model=variant.label)
                    return slot.predict(example, deadline_s, uri)
                finally:
                    thread_times[1] = time.perf_counter()

            outcome: Outcome = await loop.run_in_executor(self.models.executor, run)
            resumed = time.perf_counter()
        finally:
            busy.cancel()
            if self.status.get("busy"):
                self.status.update(busy=False)
        # The model's own total is "total"; "daemon" adds the hop to the worker thread and back.
        outcome.timing_ms["daemon"] = round((time.perf_counter() - requested) * 1000, 3)
        outcome.timing_ms["snapshot"] = round(snapshot_ms, 3)
        # Where the daemon's own time goes (bench/daemon/latency.py): handler start after the message
        # arrived ("queue", filled in by note_response), the hop to the model thread and back, the reply.
        outcome.timing_ms["to_thread"] = round((thread_times[0] - requested) * 1000, 3)
        outcome.timing_ms["from_thread"] = round((resumed - thread_times[1]) * 1000, 3)
        outcome.timing_ms["before_snapshot"] = round((t0 - self._started) * 1000, 3)
        self._request_started = self._started
        self.last_timing = outcome.timing_ms
        if len(variants) == 1 and slot.info != self._status_info:  # the pack's name/device, once loaded
            self._status_info = dict(slot.info)
            if status_fields := {k: v for k, v in slot.info.items() if v is not None}:
                self.status.update(**status_fields)
        if outcome.failure == STALE:
            self.counters["stale"] += 1
            self._outcome(uri, "dropped", STALE)
            return None
        if not outcome.ok:
            self.counters["errors"] += 1
            self.status.update(push=False, lastOutcome={"uri": uri, "result": "failed", "reason": outcome.failure})
            if not outcome.failure.startswith("no edit"):
                self.status.error(outcome.failure)
            self.capture.on_no_suggestion(variant.label, outcome)
            return None
        if self.status.get("lastError"):
            self.status.clear_error()
        t0 = time.perf_counter()
        edit = minimal_edit(text, outcome.predicted)
        verdict = guardrails.check(
            text, edit, language=doc.language, events=example.events, aggressiveness=self.settings.aggressiveness,
            trees=self.syntax_trees, document=uri,
        )
        outcome.timing_ms["guardrails"] = round((time.perf_counter() - t0) * 1000, 3)
        if verdict.ok and (uri, outcome.predicted) in self.rejected:
            verdict = guardrails.Verdict("rejected-before")
        if not verdict.ok:
            self.counters["suppressed"] += 1
            log.info("suggestion for %s suppressed: %s %s", path, verdict.reason, verdict.detail)
            reason = f"suppressed: {verdict.reason}" + (f" ({verdict.detail})" if verdict.detail else "")
            self.status.update(push=False, lastOutcome={"uri": uri, "result": "suppressed", "reason": reason})
            self.capture.on_suppressed(variant.label, outcome, verdict.reason)
            return None
        s = Suggestion(
            id=new_suggestion_id(),
            uri=uri,
            version=doc_version,
            before=text,
            cursor=cursor,
            edit=edit,
            variant=variant.label,
            model=outcome.model,
            latency_ms=outcome.timing_ms,
            example=example,
            region=outcome.region,
        )
        self.cache.put(s)
        self.capture.on_suggested(s, path)
        self.status.update(push=False, lastOutcome={"uri": uri, "result": "suggested", "reason": "", "id": s.id})
        if doc.version != doc_version or doc.text != text:
            # The user typed while the model ran: answer only if the suggestion survives the typing.
            return self.cache.lookup(uri, doc.version, doc.text, self.cursors.get(uri, cursor))
        return s

    # ------------------------------------------------------------------ responses

    def copilot_edits(self, s: Suggestion | None, uri: str | None = None) -> dict[str, Any]:
        if s is None:
            # Not in Copilot's protocol, harmless to its clients: why there is nothing to show.
            last = self.status.get("lastOutcome") or {}
            return {"edits": [], "reason": last.get("reason", "")} if last.get("uri") == uri and last.get("reason") else {"edits": []}
        doc = self.docs._docs.get(s.uri)
        if doc is None:
            return {"edits": []}
        start = doc.position_at(s.edit.start, self.docs.encoding)
        end = doc.position_at(s.edit.end, self.docs.encoding)
        return {
            "edits": [
                {
                    "text": s.edit.new_text,
                    "textDocument": {"uri": s.uri, "version": s.version},
                    "range": {
                        "start": {"line": start[0], "character": start[1]},
                        "end": {"line": end[0], "character": end[1]},
                    },
                    "command": {"title": "Accept zeta2 suggestion", "command": ACCEPT_COMMAND, "arguments": [s.id]},
                    "id": s.id,
                    "timing": {k: round(v, 3) for k, v in s.latency_ms.items()},
                    "cached": s.from_cache,
                    "variant": s.variant,
                }
            ]
        }

    def inline_items(self, s: Suggestion | None, cursor: int | None = None) -> types.InlineCompletionList:
        """The suggestion as ghost text at the request's cursor, when it is an insertion on that line."""
        if s is None:
            return types.InlineCompletionList(items=[])
        doc = self.docs._docs.get(s.uri)
        ghost = inline_insertion(s.before, s.edit, s.cursor if cursor is None else cursor) if doc is not None else None
        if ghost is None:
            return types.InlineCompletionList(items=[])
        start, end, text = ghost
        sl, sc = doc.position_at(start, self.docs.encoding)
        el, ec = doc.position_at(end, self.docs.encoding)
        return types.InlineCompletionList(
            items=[
                types.InlineCompletionItem(
                    insert_text=text,
                    range=types.Range(types.Position(sl, sc), types.Position(el, ec)),
                    command=types.Command(title="Accept zeta2 suggestion", command=ACCEPT_COMMAND, arguments=[s.id]),
                )
            ]
        )

    # ------------------------------------------------------------------ outcomes

    def accepted(self, suggestion_id: Any) -> bool:
        if not isinstance(suggestion_id, str):
            raise JsonRpcInvalidParams(message=f"zeta2.accept: arguments[0] must be a suggestion id (a string), got {suggestion_id!r:.80}")
        s = self.cache.get(suggestion_id)
        if s is None:
            raise JsonRpcInvalidParams(message=f"zeta2.accept: unknown suggestion id {suggestion_id!r}")
        self.capture.on_accept(s, self.relative_path(s.uri))
        # Follow-up prefetch: once the editor applied the edit, predict the next edit before it is asked.
        self.prefetch[s.uri] = (s.predicted, s.edit.start + len(s.edit.new_text))
        self.cache.discard(s.uri)
        self._maybe_prefetch(s.uri)
        return True

    async def tick_forever(self, every_s: float = 1.0) -> None:
        """The settle timer: outcomes of shown suggestions (settled, retention, dropped) once due."""
        while True:
            await asyncio.sleep(every_s)
            if len(self.capture.tracker) or self.capture.ship_due:
                try:
                    self.capture.tick()
                except Exception:
                    log.exception("settle timer failed")

    def _maybe_prefetch(self, uri: str) -> None:
        want = self.prefetch.get(uri)
        doc = self.docs._docs.get(uri)
        if want is None or doc is None or doc.text != want[0]:
            return
        del self.prefetch[uri]
        self.cursors[uri] = want[1]
        position = doc.position_at(want[1], self.docs.encoding)

        async def run() -> None:
            try:
                s = await self.suggest(uri, doc.version, {"line": position[0], "character": position[1]})
                log.info("prefetched after accept for %s: %s", uri, s.id if s else "no suggestion")
            except Exception:
                log.exception("prefetch for %s failed", uri)

        asyncio.ensure_future(run())


def create_server(*, test_clock: bool = False, **kwargs: Any) -> Zeta2Server:
    from .handlers import register

    if test_clock:
        kwargs["clock"] = ManualClock()
    server = Zeta2Server(**kwargs)
    register(server)
    if test_clock:
        register_test_clock(server)
    return server
