"""The daemon's JSON-RPC/LSP protocol: pygls' LanguageServerProtocol with the daemon's corrections.

- `initialize` advertises the non-standard methods under `capabilities.experimental.zeta2`, and only
  those that are on;
- a request whose params do not deserialize, or a notification method sent with an id, is answered
  with an error (pygls would stay silent and the client would wait forever);
- pygls' own copy of the documents is skipped: the daemon keeps its own (documents.py);
- pygls 2.1.1 leaks one Future per notification; it is removed here.
"""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from . import __version__
from .methods import CLIENT_NOTIFICATIONS
from .status import STATUS_METHOD

log = logging.getLogger("zeta2_daemon")

NOT_A_REQUEST = "is a notification"


class BadRequest:
    """A request that cannot be dispatched: answered with `error` instead of silence."""

    jsonrpc = "2.0"

    def __init__(self, msg_id: Any, method: str, error: JsonRpcException):
        self.id = msg_id
        self.method = method
        self.error = error


class Zeta2Protocol(LanguageServerProtocol):
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

    def handle_message(self, message):
        if isinstance(message, BadRequest):
            notification = message.error.message == NOT_A_REQUEST
            what = f"{message.method} is a notification, not a request" if notification else f"invalid params for {message.method}"
            log.error("%s (request %r): answered with an error", what, message.id)
            code = types.ErrorCodes.InvalidRequest if notification else types.ErrorCodes.InvalidParams
            self._send_response(message.id, error=types.ResponseError(code=code, message=what))
            return
        if not hasattr(message, "jsonrpc"):
            log.error("ignored a message that is not a JSON-RPC object: %.200r", message)
            return
        return super().handle_message(message)
