"""The daemon's JSON-RPC/LSP protocol: pygls' LanguageServerProtocol with the daemon's corrections.

- `initialize` advertises the non-standard methods under `capabilities.experimental.zeta2`, and only
  those that are on;
- every message comes from transport.py's reader: a malformed one (not JSON, not a JSON-RPC object,
  a bad Content-Length) is answered with a JSON-RPC error, logged and shown in `zeta2/status`
  (`lastBadMessage`);
- a request whose params do not deserialize, or a notification method sent with an id, is answered
  with an error naming the method and the field (pygls would stay silent and the client would wait
  forever); a notification with bad params cannot be answered, so it is logged and shown in status;
- pygls' own copy of the documents is skipped: the daemon keeps its own (documents.py);
- pygls 2.1.1 leaks one Future per notification; it is removed here.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import cattrs
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from . import __version__
from .methods import CLIENT_NOTIFICATIONS
from .status import STATUS_METHOD
from .transport import Malformed

log = logging.getLogger("zeta2_daemon")
pygls_log = logging.getLogger("pygls.protocol.json_rpc")

NOT_A_REQUEST = "is a notification"


class BadRequest:
    """A request that cannot be dispatched: answered with `error` instead of silence."""

    jsonrpc = "2.0"

    def __init__(self, msg_id: Any, method: str, error: JsonRpcException):
        self.id = msg_id
        self.method = method
        self.error = error


def describe_params_error(exc: BaseException) -> str:
    """What was wrong with a message's params, field by field (`$.params.textDocument.uri`)."""
    cause = exc.__cause__ if isinstance(exc, JsonRpcException) and exc.__cause__ is not None else exc
    if isinstance(cause, cattrs.ClassValidationError):
        problems = cattrs.transform_error(cause)
        text = "; ".join(re.sub(r"_([a-z])", lambda m: m.group(1).upper(), p) for p in problems[:4])
        return text + ("; ..." if len(problems) > 4 else "")
    return str(getattr(exc, "message", "") or exc) or type(exc).__name__


class Zeta2Protocol(LanguageServerProtocol):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._received: dict[Any, tuple[float, str]] = {}  # request id -> (arrival time, method)
        # Handlers that take a notification's params as the plain JSON dict (see _dispatch_fast);
        # they return False when the params do not have the expected shape (pygls' path reports it).
        self.fast_notifications: dict[str, Callable[[Any], bool]] = {}

    def _send_response(self, msg_id, result=None, error=None):
        if error is None and msg_id not in self._result_types:
            # A plain dict straight to json.dumps; pygls would unstructure the whole response message
            # through cattrs first. Attrs results (InitializeResult, ...) still go through the
            # converter, via _serialize_message as json.dumps' default.
            self._send_data({"jsonrpc": "2.0", "id": msg_id, "result": result})
        else:
            super()._send_response(msg_id, result, error)
        received = self._received.pop(msg_id, None)
        if received is not None:
            note = getattr(self._server, "note_response", None)
            if note is not None:
                note(received[1], (time.perf_counter() - received[0]) * 1000)

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams):
        result = yield from super().lsp_initialize(params)
        server = self._server
        result.capabilities.experimental = {
            "zeta2": {
                "version": __version__,
                "copilotInlineEdit": True,
                "inlineCompletion": server.settings.inline_completion,
                "status": STATUS_METHOD,
                "capture": server.capture.enabled,
                "notifications": CLIENT_NOTIFICATIONS,
            }
        }
        return result

    def structure_message(self, data: dict[str, Any]):
        is_request = isinstance(data, dict) and "id" in data and "method" in data and "jsonrpc" in data
        if is_request and data["method"] in CLIENT_NOTIFICATIONS:
            return BadRequest(data["id"], str(data["method"]), JsonRpcException(message=NOT_A_REQUEST))
        try:
            message = super().structure_message(data)
        except JsonRpcException as exc:
            if is_request:
                return BadRequest(data["id"], str(data["method"]), exc)
            raise
        if is_request and not hasattr(message, "id"):
            # pygls would drop the id of a notification method sent as a request, and the client
            # would wait forever.
            return BadRequest(data["id"], str(data["method"]), JsonRpcException(message=NOT_A_REQUEST))
        return message

    # The daemon keeps its own documents (documents.py); pygls' workspace copy would double the memory
    # and re-split every line of the file on each keystroke. Only the user handlers run.
    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams):
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams):
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams):
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CLOSE)) is not None:
            yield handler, (params,), None

    def _check_handler_result(self, future):
        # pygls 2.1.1 files every notification's future under a fresh uuid in _request_futures and never
        # removes it: one Future leaked per didChange/didOpen/... (2.4 MB per 1,000 edits in the soak).
        for key, value in list(self._request_futures.items()):
            if value is future:
                del self._request_futures[key]
                break
        super()._check_handler_result(future)

    # ------------------------------------------------------------------ from the transport

    def receive(self, data: dict[str, Any], received_at: float | None = None) -> None:
        """One JSON-RPC object from the transport (already checked to be one)."""
        if received_at is not None and "id" in data and "method" in data:
            # For the daemon's own share of a request's round trip (lastTiming.server in zeta2/ping).
            self._received[data["id"]] = (received_at, data["method"])
        params = data.get("params")
        if params is not None and not isinstance(params, (dict, list)):
            # JSON-RPC: params are structured (an object or an array) when present.
            what = f"invalid params for {data['method'] if 'method' in data else 'a response'}: params must be an object, got {params!r:.60}"
            if "id" in data and "method" in data:
                self.note_bad_message(f"{what} (request {data['id']!r})")
                self._send_data({"jsonrpc": "2.0", "id": data["id"], "error": {"code": int(types.ErrorCodes.InvalidParams), "message": what}})
            else:
                self.note_bad_message(what)
            return
        if "params" not in data and "method" in data and self.get_message_type(data["method"]) is None:
            # Params are optional in JSON-RPC; pygls' generic message types require the field.
            data["params"] = None
        method = data.get("method")
        if method is not None and not self._shutdown and self._dispatch_fast(method, data):
            return
        try:
            message = self.structure_message(data)
        except Exception as exc:  # a notification whose params do not deserialize: nobody to answer
            self.note_bad_message(f"invalid params for notification {data.get('method')}: {describe_params_error(exc)}")
            return
        self.handle_message(message)

    # ------------------------------------------------------------------ the fast path
    # pygls turns the params of a non-standard method into namedtuples (a JSON round trip and a new
    # namedtuple class per object), structures standard ones through cattrs, and runs each
    # notification through a generator, a Future and a uuid. Per keystroke (a didChange and a
    # copilotInlineEdit) that was the largest part of the daemon's own time. Here the non-standard
    # methods and didChange take the plain JSON dict (the handlers read params with params.field,
    # which accepts it); requests still go through pygls' _execute_handler, so they are tracked in
    # _request_futures ($/cancelRequest and shutdown reach them) and fail with the same error responses.

    def _dispatch_fast(self, method: str, data: dict[str, Any]) -> bool:
        """Dispatches `data` without structuring it; False to leave it to pygls' path."""
        params = data.get("params")
        if "id" in data:
            if method in CLIENT_NOTIFICATIONS or self.get_message_type(method) is not None:
                return False
            handler = self.fm.features.get(method)
            if handler is None:
                return False  # pygls answers MethodNotFound
            msg_id = data["id"]
            pygls_log.debug("Request %r received", method)  # as pygls logs it (-vv; the editor tests read it)
            self._execute_handler(msg_id, handler, partial(self._send_handler_result, msg_id=msg_id), args=(params,))
            return True
        fast = self.fast_notifications.get(method)
        if fast is None:
            if self.get_message_type(method) is not None or (fast := self.fm.features.get(method)) is None:
                return False
        pygls_log.debug("Notification %r received", method)
        try:
            handled = fast(params)
        except Exception:
            log.exception("%s failed", method)
            return True
        if inspect.isawaitable(handled):
            asyncio.ensure_future(handled)
            return True
        return handled is not False

    def answer_malformed(self, problem: Malformed) -> None:
        """A malformed message: logged, shown in status, answered (id null unless it was readable)."""
        self.note_bad_message(problem.message)
        self._send_data({"jsonrpc": "2.0", "id": problem.id, "error": {"code": problem.code, "message": problem.message}})

    def note_bad_message(self, what: str) -> None:
        log.error("bad message from the client: %s", what)
        note = getattr(self._server, "note_bad_message", None)
        if note is not None:
            note(what)

    def handle_message(self, message):
        if isinstance(message, BadRequest):
            notification = message.error.message == NOT_A_REQUEST
            if notification:
                what = f"{message.method} is a notification, not a request"
            else:
                what = f"invalid params for {message.method}: {describe_params_error(message.error)}"
            self.note_bad_message(f"{what} (request {message.id!r})")
            code = types.ErrorCodes.InvalidRequest if notification else types.ErrorCodes.InvalidParams
            self._send_response(message.id, error=types.ResponseError(code=code, message=what))
            return
        return super().handle_message(message)
