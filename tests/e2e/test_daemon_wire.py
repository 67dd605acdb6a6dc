"""End to end on the wire: raw bytes into the real daemon's stdin, the exact JSON-RPC answers out.

Every malformed message gets an error response (JSON-RPC's codes: -32700 Parse error with id null
when the body is not JSON, -32600 Invalid Request when it is JSON but not a JSON-RPC object, -32602
Invalid params naming the method and the field), the problem is logged and shown in `zeta2/status`
(`lastBadMessage`), and the daemon goes on answering the next request.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "daemon"))
from raw_daemon import RawDaemon  # noqa: E402

pytestmark = pytest.mark.e2e


@pytest.fixture
def daemon(tmp_path):
    d = RawDaemon(tmp_path, "--test-clock", "-v")
    d.initialize(tmp_path, {"debounceMs": 0})
    yield d
    assert d.close() == 0, d.stderr_path.read_text()
    assert d.undecodable == []  # stdout carried framed JSON-RPC only


def ping_works(d: RawDaemon) -> dict:
    pong = d.request("zeta2/ping", {})
    assert pong["result"]["ok"] is True
    return pong["result"]


def only_error(d: RawDaemon, before: int) -> dict:
    """The one error response that arrived after the first `before` error responses."""
    errors = d.error_responses()[before:]
    assert len(errors) == 1, errors
    return errors[0]


def test_a_body_that_is_not_json_gets_a_parse_error_and_the_daemon_keeps_serving(daemon):
    d = daemon
    d.write(d.frame(b'{"jsonrpc": "2.0", "id": 1, "method": not json}'))
    error = d.response(None)
    assert error["error"]["code"] == -32700
    message = error["error"]["message"]
    assert message.startswith("Parse error: the body is not valid JSON (Expecting value at byte 38)")
    assert "it starts b'{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": no'..." in message
    counters = ping_works(d)["counters"]
    assert counters["bad_messages"] == 1
    status = d.wait(lambda m: m.get("method") == "zeta2/status" and (m["params"].get("lastBadMessage") or {}).get("message") == message,
                    what="zeta2/status with lastBadMessage")
    assert isinstance(status["params"]["lastBadMessage"]["time"], float)
    assert "bad message from the client: Parse error: the body is not valid JSON" in d.stderr_path.read_text()


def test_a_body_that_is_not_utf8_gets_a_parse_error(daemon):
    d = daemon
    d.write(d.frame(b'{"a": "\xff\xfe"}'))
    assert d.response(None)["error"] == {"code": -32700, "message": "Parse error: the body is not UTF-8 (byte 7); it starts b'{\"a\": \"\\xff\\xfe\"}'"}
    ping_works(d)


@pytest.mark.parametrize(
    ("body", "msg_id", "message"),
    [
        (b"[1, 2]", None, "Invalid Request: a JSON-RPC message must be a JSON object, got an array (LSP has no batches)"),
        (b'"hello"', None, "Invalid Request: a JSON-RPC message must be a JSON object, got a string"),
        (b"42", None, "Invalid Request: a JSON-RPC message must be a JSON object, got a number"),
        (b"{}", None, "Invalid Request: 'jsonrpc' must be \"2.0\", got None"),
        (b'{"jsonrpc": "1.0", "id": 5, "method": "zeta2/ping"}', 5, "Invalid Request: 'jsonrpc' must be \"2.0\", got '1.0'"),
        (b'{"jsonrpc": "2.0", "id": 6}', 6, "Invalid Request: a JSON-RPC message needs a 'method' (or an 'id' with a 'result' or 'error')"),
        (b'{"jsonrpc": "2.0", "id": 7, "method": 12}', 7, "Invalid Request: 'method' must be a string, got 12"),
        (b'{"jsonrpc": "2.0", "id": [1], "method": "zeta2/ping"}', None, "Invalid Request: 'id' must be a string or an integer, got [1]"),
    ],
)
def test_json_that_is_not_a_jsonrpc_object_gets_invalid_request(daemon, body, msg_id, message):
    d = daemon
    d.write(d.frame(body))
    assert d.response(msg_id)["error"] == {"code": -32600, "message": message}
    assert ping_works(d)["counters"]["bad_messages"] == 1


def test_wrong_content_length_headers(daemon):
    d = daemon
    good = json.dumps({"jsonrpc": "2.0", "id": 100, "method": "zeta2/ping", "params": {}}).encode()

    # Too short: the cut body is not JSON; the rest of it is skipped up to the next header.
    cut = json.dumps({"jsonrpc": "2.0", "id": 101, "method": "zeta2/ping", "params": {}}).encode()
    d.write(d.frame(cut, len(cut) - 5) + d.frame(good))
    assert d.response(100)["result"]["ok"] is True
    error = d.response(None)
    assert error["error"]["code"] == -32700 and "not valid JSON" in error["error"]["message"]

    # Too long, with another message behind it: this one is answered with an error under its own id,
    # and the next is read on its own.
    long = json.dumps({"jsonrpc": "2.0", "id": 102, "method": "zeta2/ping", "params": {}}).encode()
    good2 = good.replace(b"100", b"103")
    d.write(d.frame(long, len(long) + 20) + d.frame(good2))
    assert d.response(102)["error"] == {
        "code": -32700,
        "message": f"Parse error: Content-Length {len(long) + 20} is longer than the message (its JSON ends at byte {len(long)})",
    }
    assert d.response(103)["result"]["ok"] is True

    # Too long, and nothing behind it: noticed when the stream stalls with a complete JSON body.
    stalled = json.dumps({"jsonrpc": "2.0", "id": 104, "method": "zeta2/ping", "params": {}}).encode()
    d.write(d.frame(stalled, len(stalled) + 10))
    assert d.response(104)["error"]["message"] == (
        f"Parse error: Content-Length {len(stalled) + 10} is longer than the message (its JSON ends at byte {len(stalled)}),"
        " and nothing more arrived for 0.5 s"
    )

    # No Content-Length at all, and one that is not a number.
    before = len(d.error_responses())
    d.write(b"Content-Type: application/vscode-jsonrpc\r\n\r\n")
    ping_works(d)
    assert only_error(d, before)["error"] == {
        "code": -32700, "message": "Parse error: a header block without a Content-Length: b'Content-Type: application/vscode-jsonrpc'"}
    before = len(d.error_responses())
    d.write(b"Content-Length: twelve\r\n\r\n")
    ping_works(d)
    assert only_error(d, before)["error"] == {"code": -32700, "message": "Parse error: the Content-Length header b'Content-Length: twelve' is not a byte count"}
    counters = ping_works(d)["counters"]
    assert counters["bad_messages"] == 5


@pytest.mark.parametrize(
    ("method", "params", "code", "message"),
    [
        ("textDocument/copilotInlineEdit", None, -32602, "textDocument/copilotInlineEdit: textDocument.uri must be a string, got None"),
        ("textDocument/copilotInlineEdit", {"textDocument": {"uri": 5}}, -32602, "textDocument/copilotInlineEdit: textDocument.uri must be a string, got 5"),
        ("textDocument/copilotInlineEdit", {"textDocument": {"uri": "file:///nowhere.py"}, "position": {"line": 0, "character": 0}}, -32602,
         "textDocument/copilotInlineEdit: document file:///nowhere.py is not open (send textDocument/didOpen first)"),
        ("textDocument/copilotInlineEdit", "five", -32602, "invalid params for textDocument/copilotInlineEdit: params must be an object, got 'five'"),
        ("textDocument/inlineCompletion", {"textDocument": 5}, -32602,
         "invalid params for textDocument/inlineCompletion: required field missing @ $.params.context; "
         "invalid value for type, expected str @ $.params.textDocument.uri; required field missing @ $.params.position"),
        ("zeta2/ping", 7, -32602, "invalid params for zeta2/ping: params must be an object, got 7"),
        ("zeta2/test/advanceClock", {}, -32602, "zeta2/test/advanceClock: params.seconds must be a non-negative number, got None"),
        ("zeta2/test/advanceClock", {"seconds": -1}, -32602, "zeta2/test/advanceClock: params.seconds must be a non-negative number, got -1"),
        ("workspace/executeCommand", {"command": "zeta2.accept"}, -32602,
         "zeta2.accept: arguments[0] must be a suggestion id (a string), got None"),
        ("workspace/executeCommand", {"command": "zeta2.accept", "arguments": [3]}, -32602,
         "zeta2.accept: arguments[0] must be a suggestion id (a string), got 3"),
        ("workspace/executeCommand", {"command": "zeta2.accept", "arguments": ["nope"]}, -32602, "zeta2.accept: unknown suggestion id 'nope'"),
        ("zeta2/cursor", {"textDocument": {"uri": "file:///a.py"}}, -32600, "zeta2/cursor is a notification, not a request"),
        ("zeta2/didReject", {"id": "x"}, -32600, "zeta2/didReject is a notification, not a request"),
        ("zeta2/noSuchMethod", {}, -32601, "Method Not Found: zeta2/noSuchMethod"),
    ],
)
def test_requests_with_missing_or_invalid_params_name_the_method_and_field(daemon, method, params, code, message):
    d = daemon
    omit = params is None
    answer = d.request(method, params, omit_params=omit)
    assert answer["error"]["code"] == code
    assert answer["error"]["message"] == message
    ping_works(d)


@pytest.mark.parametrize(
    ("method", "params", "logged"),
    [
        ("zeta2/cursor", {"textDocument": {"uri": 1}, "position": {"line": "0", "character": 0}},
         "zeta2/cursor ignored: needs textDocument.uri (a string) and position.line/character (integers), got 1, '0', 0"),
        ("zeta2/diagnostics", {"textDocument": {"uri": "file:///a.py"}}, "zeta2/diagnostics ignored: needs textDocument.uri (a string) and diagnostics (an array), got 'file:///a.py', NoneType"),
        ("zeta2/didPartiallyAccept", {"id": "x", "acceptedLength": -1}, "zeta2/didPartiallyAccept ignored: needs id (a string) and acceptedLength (an integer >= 0), got 'x', -1"),
        ("zeta2/didReject", {"id": 5}, "zeta2/didReject ignored: needs id (a string), got 5"),
        ("textDocument/didShowInlineEdit", {}, "textDocument/didShowInlineEdit ignored: needs id or item.command.arguments[0] (a string), got None"),
        ("textDocument/didChange", 7, "invalid params for textDocument/didChange: params must be an object, got 7"),
        ("textDocument/didOpen", {"textDocument": {"uri": "file:///a.py"}}, "invalid params for notification textDocument/didOpen: required field missing @ $.params.textDocument.languageId"),
    ],
)
def test_notifications_with_bad_params_are_logged_and_shown_in_status(daemon, method, params, logged):
    d = daemon
    d.send(method, params, request=False)
    ping_works(d)
    d.wait(lambda m: m.get("method") == "zeta2/status" and (m["params"].get("lastBadMessage") or {}).get("message", "").startswith(logged),
           what=f"zeta2/status naming {logged!r}")
    assert d.error_responses() == []  # a notification is never answered
