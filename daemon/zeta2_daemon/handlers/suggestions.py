"""Asking for a suggestion (copilotInlineEdit, inlineCompletion) and what the user did with it:
shown, accepted (`zeta2.accept`), partially accepted, rejected."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from ..methods import ACCEPT_COMMAND, COPILOT_INLINE_EDIT, DID_SHOW_INLINE_EDIT, PARTIAL_ACCEPT, REJECT
from ..params import field, naming

if TYPE_CHECKING:
    from ..server import Zeta2Server

log = logging.getLogger("zeta2_daemon")


def known_suggestion(ls: Zeta2Server, method: str, sid: str):
    """The cached suggestion `sid`, or None, logged: a client may name one the daemon has already dropped."""
    s = ls.cache.get(sid)
    if s is None:
        log.warning("%s for unknown suggestion %r", method, sid)
    return s


def register(ls: Zeta2Server) -> None:
    @ls.feature(COPILOT_INLINE_EDIT)
    async def copilot_inline_edit(ls: Zeta2Server, params: Any) -> dict[str, Any]:
        uri = field(params, "textDocument", "uri")
        try:
            s = await ls.suggest(uri, field(params, "textDocument", "version"), field(params, "position"))
        except JsonRpcInvalidParams as exc:
            raise naming(COPILOT_INLINE_EDIT, exc) from None
        return ls.copilot_edits(s, uri)

    @ls.feature(DID_SHOW_INLINE_EDIT)
    def did_show(ls: Zeta2Server, params: Any) -> None:
        sid = field(params, "id") or (field(params, "item", "command", "arguments") or [None])[0]
        if not isinstance(sid, str):
            ls.protocol.note_bad_message(f"{DID_SHOW_INLINE_EDIT} ignored: needs id or item.command.arguments[0] (a string), got {sid!r:.60}")
            return
        s = known_suggestion(ls, DID_SHOW_INLINE_EDIT, sid)
        if s is None:
            return
        if not s.shown:
            s.shown = True
            ls.capture.on_shown(s, ls.relative_path(s.uri), s.region)

    # No annotation on `ls`: pygls resolves a command's type hints at call time, and Zeta2Server is
    # only imported for type checkers here.
    @ls.command(ACCEPT_COMMAND)
    def accept(ls, *args: Any) -> bool:
        return ls.accepted(args[0] if args else None)

    @ls.feature(PARTIAL_ACCEPT)
    def partial_accept(ls: Zeta2Server, params: Any) -> None:
        sid, length = field(params, "id"), field(params, "acceptedLength")
        if not isinstance(sid, str) or isinstance(length, bool) or not isinstance(length, int) or length < 0:
            ls.protocol.note_bad_message(
                f"{PARTIAL_ACCEPT} ignored: needs id (a string) and acceptedLength (an integer >= 0), got {sid!r:.60}, {length!r:.20}"
            )
            return
        s = known_suggestion(ls, PARTIAL_ACCEPT, sid)
        if s is None:
            return
        ls.capture.on_partial(s, min(length, len(s.edit.new_text)))

    @ls.feature(REJECT)
    def reject(ls: Zeta2Server, params: Any) -> None:
        sid, reason = field(params, "id"), field(params, "reason")
        if not isinstance(sid, str):
            ls.protocol.note_bad_message(f"{REJECT} ignored: needs id (a string), got {sid!r:.60}")
            return
        s = known_suggestion(ls, REJECT, sid)
        if s is None:
            return
        reason = reason if isinstance(reason, str) and reason else "rejected"
        ls.rejected.add((s.uri, s.predicted))
        if len(ls.rejected) > 1024:
            ls.rejected.pop()
        ls.cache.discard(s.uri)
        ls.capture.on_reject(s, reason)


def register_inline_completion(ls: Zeta2Server) -> None:
    """LSP 3.18 ghost text; registered at initialize, and only when the `inlineCompletion` setting is on."""

    async def inline_completion(ls: Zeta2Server, params: types.InlineCompletionParams):
        try:
            s = await ls.suggest(params.text_document.uri, None, params.position)
        except JsonRpcInvalidParams as exc:
            raise naming(types.TEXT_DOCUMENT_INLINE_COMPLETION, exc) from None
        return ls.inline_items(s, ls.cursors.get(params.text_document.uri))

    ls.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())(inline_completion)
