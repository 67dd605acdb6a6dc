"""Reading JSON-RPC messages off the wire (stdio or TCP), with an answer for every malformed one.

pygls' reader drops a body that is not JSON with a log line, so a client that sent a broken request
waits forever; and it reads stdin through a thread-pool hop per header line and per body. This
reader takes the stream in chunks on the event loop and splits it into messages itself, and every
framing or parsing problem becomes a `Malformed` that the protocol answers with a JSON-RPC error:

- a body that is not JSON (or not UTF-8) -> -32700 Parse error, id null, naming the byte offset and
  the first bytes;
- JSON that is not a JSON-RPC object (an array, a string, no "jsonrpc": "2.0", no method) -> -32600
  Invalid Request (id null unless the object carries a usable id);
- a header block without a usable Content-Length -> -32700, id null;
- a Content-Length longer than the message: the body then holds the JSON and the start of the next
  message, which is put back and read as a message of its own; or, when nothing follows, the reader
  notices that the partial body is already a complete JSON value once the stream stalls for
  `STALL_S` -> an error with the message's id, so its sender is not left waiting;
- a Content-Length shorter than the message: the cut body fails to parse (-32700), and the rest of
  it, glued in front of the next "Content-Length:" header, is skipped up to that header.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

log = logging.getLogger("zeta2_daemon")

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
STALL_S = 0.5
MAX_HEADER_BYTES = 8192
MAX_BODY_BYTES = 512 * 1024 * 1024
CHUNK = 1 << 16
_CONTENT_LENGTH = b"content-length"


@dataclass(frozen=True, slots=True)
class Malformed:
    """Something on the wire that is not a dispatchable message: answered with `code`, `message`."""

    code: int
    message: str
    id: Any = None  # the message's id when it could be read, else null (JSON-RPC's rule)


def _preview(data: bytes, limit: int = 40) -> str:
    return repr(bytes(data[:limit])) + ("..." if len(data) > limit else "")


def _usable_id(value: Any) -> Any:
    return value if isinstance(value, (str, int)) and not isinstance(value, bool) else None


def _type_name(value: Any) -> str:
    return {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def check_message(data: Any) -> Malformed | None:
    """Why parsed JSON is not a JSON-RPC 2.0 message (None when it is one)."""
    if not isinstance(data, dict):
        extra = " (LSP has no batches)" if isinstance(data, list) else ""
        return Malformed(INVALID_REQUEST, f"Invalid Request: a JSON-RPC message must be a JSON object, got {_type_name(data)}{extra}")
    msg_id = _usable_id(data.get("id"))
    if data.get("jsonrpc") != "2.0":
        return Malformed(INVALID_REQUEST, f"Invalid Request: 'jsonrpc' must be \"2.0\", got {data.get('jsonrpc')!r}", msg_id)
    if "method" in data:
        if not isinstance(data["method"], str):
            return Malformed(INVALID_REQUEST, f"Invalid Request: 'method' must be a string, got {data['method']!r:.60}", msg_id)
        if "id" in data and msg_id is None and data["id"] is not None:
            return Malformed(INVALID_REQUEST, f"Invalid Request: 'id' must be a string or an integer, got {data['id']!r:.60}")
        return None
    if "id" in data and ("result" in data or "error" in data):
        return None  # a response to a request of ours
    return Malformed(INVALID_REQUEST, "Invalid Request: a JSON-RPC message needs a 'method' (or an 'id' with a 'result' or 'error')", msg_id)


def parse_body(body: bytes) -> Any | Malformed:
    """The JSON of one body, or why it is not JSON."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Malformed(PARSE_ERROR, f"Parse error: the body is not UTF-8 (byte {exc.start}); it starts {_preview(body)}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        offset = len(text[: exc.pos].encode("utf-8"))
        return Malformed(PARSE_ERROR, f"Parse error: the body is not valid JSON ({exc.msg} at byte {offset}); it starts {_preview(body)}")
    except RecursionError:
        return Malformed(PARSE_ERROR, f"Parse error: the body nests too deeply; it starts {_preview(body)}")


class MessageReader:
    """Splits a byte stream into JSON-RPC messages. `read()` returns the next chunk, b"" at the end.

    `can_stall` says whether a read may be abandoned after a timeout without losing data (true for
    asyncio streams; false for reads running in a thread).
    """

    def __init__(self, read: Callable[[], Awaitable[bytes]], *, can_stall: bool = True):
        self._read = read
        self._can_stall = can_stall
        self._buf = bytearray()
        self._eof = False
        self._chunk_at = 0.0
        self.received_at = 0.0  # perf_counter() when the latest message's last byte was read

    async def _fill(self, timeout: float | None = None) -> bool | None:
        """Reads a chunk into the buffer: True, False at the end of the stream, None on timeout."""
        if self._eof:
            return False
        if timeout is None:
            chunk = await self._read()
        else:
            try:
                async with asyncio.timeout(timeout):
                    chunk = await self._read()
            except TimeoutError:
                return None
        if not chunk:
            self._eof = True
            return False
        self._chunk_at = time.perf_counter()
        self._buf += chunk
        return True

    async def next(self) -> Any | Malformed:
        """The next message (parsed JSON, a dict) or a Malformed; raises EOFError at the end of the stream."""
        while True:
            head = await self._headers()
            length, problem = _content_length(head)
            if problem is not None:
                return problem
            assert length is not None
            return await self._body(length)

    async def _headers(self) -> bytes:
        while True:
            end = self._buf.find(b"\r\n\r\n")
            if end != -1:
                head = bytes(self._buf[:end])
                del self._buf[: end + 4]
                return head
            if len(self._buf) > MAX_HEADER_BYTES:
                # Garbage without a blank line: keep only what could start a header.
                cut = self._buf.lower().rfind(_CONTENT_LENGTH)
                cut = cut if cut > 0 else len(self._buf) - 4
                log.error("skipped %d bytes that are not JSON-RPC headers: %s", cut, _preview(self._buf))
                del self._buf[:cut]
            if not await self._fill():
                if self._buf.strip():
                    log.error("the stream ended inside a header block: %s", _preview(self._buf))
                raise EOFError

    async def _body(self, length: int) -> Any | Malformed:
        while len(self._buf) < length:
            got = await self._fill(STALL_S if self._can_stall else None)
            if got is False:
                log.error("the stream ended %d bytes into a %d-byte body", len(self._buf), length)
                raise EOFError
            if got is None and (stalled := self._complete_json(length)) is not None:
                return stalled
        self.received_at = self._chunk_at
        body = bytes(self._buf[:length])
        del self._buf[:length]
        data = parse_body(body)
        if isinstance(data, Malformed) and (overlong := self._overlong(body, length)) is not None:
            return overlong
        return data

    def _overlong(self, body: bytes, length: int) -> Malformed | None:
        """A body that is one whole JSON value followed by nothing or by the next message's header:
        the Content-Length was too large. The next message is put back to be read on its own."""
        try:
            text = body.decode("utf-8")
            value, end = json.JSONDecoder().raw_decode(text)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            return None
        end_byte = len(text[:end].encode("utf-8"))
        rest = body[end_byte:].lstrip()
        if rest and not rest.lower().startswith(_CONTENT_LENGTH):
            return None
        self._buf[:0] = rest
        id_ = _usable_id(value.get("id")) if isinstance(value, dict) else None
        return Malformed(PARSE_ERROR, f"Parse error: Content-Length {length} is longer than the message (its JSON ends at byte {end_byte})", id_)

    def _complete_json(self, length: int) -> Malformed | None:
        """When the stream stalled mid-body: a Malformed if what arrived is already a whole JSON value."""
        body = bytes(self._buf)
        self._buf.clear()
        problem = self._overlong(body, length)
        if problem is None:
            self._buf[:0] = body  # genuinely incomplete: keep waiting
            return None
        return replace(problem, message=problem.message + f", and nothing more arrived for {STALL_S} s")


def _content_length(head: bytes) -> tuple[int | None, Malformed | None]:
    length: int | None = None
    junk: list[bytes] = []
    for line in head.split(b"\r\n"):
        at = line.lower().rfind(_CONTENT_LENGTH + b":")
        if at > 0:
            # The tail of a body whose Content-Length was too short, glued to the next header.
            junk.append(line[:at])
            line = line[at:]
        name, sep, value = line.partition(b":")
        key = name.strip().lower()
        if key == _CONTENT_LENGTH and sep:
            text = value.strip()
            if not text.isdigit():
                return None, Malformed(PARSE_ERROR, f"Parse error: the Content-Length header {line[:80]!r} is not a byte count")
            length = int(text)
        elif key == b"content-type" and sep:
            continue
        else:
            junk.append(line)
    if junk:
        log.error("skipped bytes that are not JSON-RPC headers: %s", _preview(b"\r\n".join(junk)))
    if length is None:
        return None, Malformed(PARSE_ERROR, f"Parse error: a header block without a Content-Length: {_preview(head)}")
    if length > MAX_BODY_BYTES:
        return None, Malformed(PARSE_ERROR, f"Parse error: Content-Length {length} is over the {MAX_BODY_BYTES}-byte limit")
    return length, None


async def serve(reader: MessageReader, on_message: Callable[[Any, float], None], on_malformed: Callable[[Malformed], None], stopped: Callable[[], bool]) -> None:
    """Reads until the stream ends or `stopped()`; hands each message (with the perf_counter() time its
    last byte arrived) or problem on, in order."""
    while not stopped():
        try:
            item = await reader.next()
        except EOFError:
            log.info("the client closed the stream")
            return
        if isinstance(item, Malformed):
            on_malformed(item)
            continue
        problem = check_message(item)
        if problem is not None:
            on_malformed(problem)
            continue
        on_message(item, reader.received_at)
