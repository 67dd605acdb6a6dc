"""Document sync (didOpen / didChange / didClose) and what the editor reports about its buffers:
cursor moves, focus and the diagnostics of its other language servers."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from ..documents import DocumentError
from ..methods import CURSOR, DIAGNOSTICS, DID_FOCUS
from ..params import field, plain_json

if TYPE_CHECKING:
    from ..server import Zeta2Server

log = logging.getLogger("zeta2_daemon")


def register(ls: Zeta2Server) -> None:
    @ls.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: Zeta2Server, params: types.DidOpenTextDocumentParams) -> None:
        td = params.text_document
        doc = ls.docs.open(td.uri, td.version, td.text, td.language_id)
        ls.capture.on_open(doc, ls.relative_path(td.uri))

    @ls.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: Zeta2Server, params: types.DidChangeTextDocumentParams) -> None:
        started = time.perf_counter()
        try:
            _did_change(ls, params)
        finally:
            ls.change_ms.append((time.perf_counter() - started) * 1000)

    ls.protocol.fast_notifications[types.TEXT_DOCUMENT_DID_CHANGE] = lambda params: did_change_fast(ls, params)

    @ls.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: Zeta2Server, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.docs.close(uri)
        ls.scheduler.forget(uri)
        ls.cache.forget_document(uri)
        ls.syntax_trees.forget(uri)
        ls.capture.on_close(uri, ls.relative_path(uri))
        for table in (ls.cursors, ls.prefetch):
            table.pop(uri, None)

    @ls.feature(CURSOR)
    def cursor(ls: Zeta2Server, params: Any) -> None:
        uri = field(params, "textDocument", "uri")
        doc = ls.docs._docs.get(uri) if isinstance(uri, str) else None
        line, character = field(params, "position", "line"), field(params, "position", "character")
        if not isinstance(uri, str) or not all(isinstance(v, int) and not isinstance(v, bool) for v in (line, character)):
            ls.protocol.note_bad_message(
                f"{CURSOR} ignored: needs textDocument.uri (a string) and position.line/character (integers),"
                f" got {uri!r:.60}, {line!r:.20}, {character!r:.20}"
            )
            return
        if doc is None:
            log.warning("zeta2/cursor ignored: document %r is not open", uri)
            return
        try:
            ls.cursors[uri] = doc.offset_at(line, character, ls.docs.encoding)
        except DocumentError as exc:
            log.warning("zeta2/cursor ignored: %s", exc)

    @ls.feature(DID_FOCUS)
    def did_focus(ls: Zeta2Server, params: Any) -> None:
        uri = field(params, "textDocument", "uri")
        if isinstance(uri, str):
            ls.focused = uri

    @ls.feature(DIAGNOSTICS)
    def diagnostics(ls: Zeta2Server, params: Any) -> None:
        uri = field(params, "textDocument", "uri")
        items = field(params, "diagnostics")
        if not isinstance(uri, str) or not isinstance(items, list):
            ls.protocol.note_bad_message(
                f"{DIAGNOSTICS} ignored: needs textDocument.uri (a string) and diagnostics (an array),"
                f" got {uri!r:.60}, {type(items).__name__}"
            )
            return
        doc = ls.docs._docs.get(uri)
        if doc is None:
            log.warning("zeta2/diagnostics for %s ignored: the document is not open", uri)
            return
        ls.capture.set_diagnostics(ls.relative_path(uri), doc.text, plain_json(items[:200]), ls.docs.encoding)


def did_change_fast(ls: Zeta2Server, params: Any) -> bool:
    """didChange from the plain JSON (protocol.py's fast path); False when the params do not have the
    shape lsprotocol would accept, so that pygls' path reports exactly what is wrong."""
    try:
        td = params["textDocument"]
        uri, version, content_changes = td["uri"], td["version"], params["contentChanges"]
    except (TypeError, KeyError):
        return False
    if not isinstance(uri, str) or not _is_int(version) or not isinstance(content_changes, list):
        return False
    changes: list[tuple[tuple[int, int, int, int] | None, str]] = []
    for change in content_changes:
        text = change.get("text") if isinstance(change, dict) else None
        if not isinstance(text, str):
            return False
        rng = change.get("range")
        if rng is None:
            changes.append((None, text))
            continue
        try:
            start, end = rng["start"], rng["end"]
            where = (start["line"], start["character"], end["line"], end["character"])
        except (TypeError, KeyError):
            return False
        if not all(_is_int(v) and v >= 0 for v in where):
            return False
        changes.append((where, text))
    started = time.perf_counter()
    try:
        _apply_changes(ls, uri, version, changes)
    finally:
        ls.change_ms.append((time.perf_counter() - started) * 1000)
    return True


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _did_change(ls: Zeta2Server, params: types.DidChangeTextDocumentParams) -> None:
    changes = []
    for change in params.content_changes:
        rng = getattr(change, "range", None)
        if rng is None:
            changes.append((None, change.text))
        else:
            changes.append(((rng.start.line, rng.start.character, rng.end.line, rng.end.character), change.text))
    _apply_changes(ls, params.text_document.uri, params.text_document.version, changes)


def _apply_changes(ls: Zeta2Server, uri: str, version: int, changes: list[tuple[tuple[int, int, int, int] | None, str]]) -> None:
    try:
        edits = ls.docs.change(uri, version, changes)
    except DocumentError as exc:
        log.error("didChange ignored: %s", exc)
        ls.status.error(str(exc))
        return
    doc = ls.docs.get(uri)
    ls.capture.on_change(doc, ls.relative_path(uri), edits)
    if edits:
        last = edits[-1]
        ls.cursors[uri] = last.start + len(last.new_text)
    if uri in ls.prefetch:
        ls._maybe_prefetch(uri)
