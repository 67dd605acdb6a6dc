"""The real daemon over LSP without a model: capabilities, status, bad input, configuration."""

from __future__ import annotations

import pytest
from daemon_client import start_daemon, stop_daemon
from pygls.exceptions import JsonRpcException

pytestmark = pytest.mark.e2e


async def test_initialize_advertises_methods_and_negotiates_utf8(tmp_path):
    d = await start_daemon(tmp_path, encodings=["utf-8", "utf-16"])
    try:
        caps = d.init_result.capabilities
        assert caps.position_encoding == "utf-8"
        assert caps.inline_completion_provider is not None
        assert list(caps.execute_command_provider.commands) == ["zeta2.accept"]
        assert caps.experimental["zeta2"]["copilotInlineEdit"] is True
        assert caps.text_document_sync.change == 2  # incremental
    finally:
        await stop_daemon(d)


async def test_inline_completion_not_advertised_when_disabled(tmp_path):
    d = await start_daemon(tmp_path, init_options={"inlineCompletion": False})
    try:
        caps = d.init_result.capabilities
        assert caps.inline_completion_provider is None
        assert caps.position_encoding == "utf-16"
    finally:
        await stop_daemon(d)


async def test_missing_pack_says_run_bootstrap(tmp_path):
    d = await start_daemon(tmp_path)
    try:
        uri = (tmp_path / "a.py").as_uri()
        d.open(uri, "x = 1\n")
        result = await d.inline_edit(uri, 1, 0, 5)
        assert result["edits"] == [] and "zeta2-trainer bootstrap" in result["reason"]
        status = await d.wait_for(lambda: d.status.get("lastError"), what="lastError")
        assert "zeta2-trainer bootstrap" in status["message"]
    finally:
        await stop_daemon(d)


async def test_bad_requests_get_errors_and_the_server_keeps_serving(tmp_path):
    # -vv: debug logging everywhere, which must all go to stderr (stdout carries only LSP messages).
    d = await start_daemon(tmp_path, "-vv")
    try:
        uri = (tmp_path / "a.py").as_uri()
        with pytest.raises(JsonRpcException, match="is not open"):
            await d.inline_edit(uri, 1, 0, 0)
        d.open(uri, "x = 1\n")
        with pytest.raises(JsonRpcException, match="past the end"):
            await d.inline_edit(uri, 1, 99, 0)
        with pytest.raises(JsonRpcException, match="must be an integer"):
            await d.inline_edit(uri, 1, "one", 0)
        with pytest.raises(JsonRpcException):
            await d.request("zeta2/noSuchMethod", {})
        # Malformed JSON-RPC on the wire: not JSON, JSON that is not an object, a request with bad params.
        stdin = d.client._server.stdin
        bad_params = b'{"jsonrpc": "2.0", "id": 99999, "method": "textDocument/inlineCompletion", "params": {"textDocument": 5}}'
        for body in (b"{not json", b"[1, 2]", b'"hello"', bad_params, b'{"jsonrpc": "2.0", "method": "textDocument/didChange", "params": 7}'):
            stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        await stdin.drain()
        pong = await d.request("zeta2/ping", {})
        assert pong["ok"] is True and pong["documents"] == 1
        assert d.client.error is None  # nothing but well-formed LSP came out of stdout
    finally:
        await stop_daemon(d)


async def test_invalid_settings_fall_back_and_the_client_is_told(tmp_path):
    d = await start_daemon(tmp_path, init_options={"debounceMs": -5, "aggressiveness": "wild", "bogus": 1})
    try:
        await d.wait_for(lambda: len(d.messages) >= 3, what="three showMessage notifications")
        text = "\n".join(m.message for m in d.messages)
        assert "'debounceMs' = -5 is invalid (must be from 0 to 60000); using the default 300" in text
        assert "'aggressiveness' = 'wild' is invalid (must be one of low, medium, high)" in text
        assert "'bogus' = 1 is invalid (unknown setting)" in text
        from lsprotocol import types

        d.client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"zeta2": {"capture": {"enabled": "yes"}}})
        )
        await d.wait_for(lambda: len(d.messages) >= 4, what="a fourth showMessage")
        assert "'capture.enabled' = 'yes' is invalid (must be true or false)" in d.messages[-1].message
    finally:
        await stop_daemon(d)


async def test_huge_and_binary_documents_get_no_suggestion_with_a_reason(tmp_path):
    d = await start_daemon(tmp_path)
    try:
        big = (tmp_path / "big.py").as_uri()
        d.open(big, "x = 1\n" * (10 * 1024 * 1024 // 6))
        result = await d.inline_edit(big, 1, 5, 0)
        assert result["edits"] == [] and "is too large for suggestions (10485756 bytes > maxDocumentBytes 1000000)" in result["reason"]
        await d.wait_for(lambda: "too large" in (d.status.get("lastError") or {}).get("message", ""), what="too large")
        binary = (tmp_path / "blob.py").as_uri()
        d.open(binary, "abc\x00\x01\x02" * 100)
        result = await d.inline_edit(binary, 1, 0, 3)
        assert result["edits"] == [] and "looks binary" in result["reason"]
        await d.wait_for(lambda: "binary" in (d.status.get("lastError") or {}).get("message", ""), what="binary")
    finally:
        await stop_daemon(d)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
async def test_incremental_sync_in_each_position_encoding(tmp_path, encoding):
    import hashlib

    d = await start_daemon(tmp_path, encodings=[encoding])
    try:
        assert d.init_result.capabilities.position_encoding == encoding
        uri = (tmp_path / "u.py").as_uri()
        text = "s = '😀é'  # 中\r\nt = 1\n"
        d.open(uri, text)
        # Insert "!" after the emoji and replace "1" on the next line, in the negotiated units.
        emoji_end = {"utf-8": 9, "utf-16": 7, "utf-32": 6}[encoding]
        d.change(uri, 2, [
            {"range": {"start": {"line": 0, "character": emoji_end}, "end": {"line": 0, "character": emoji_end}}, "text": "!"},
            {"range": {"start": {"line": 1, "character": 4}, "end": {"line": 1, "character": 5}}, "text": "22"},
        ])
        expected = "s = '😀!é'  # 中\r\nt = 22\n"
        pong = await d.request("zeta2/ping", {"uri": uri})
        assert pong["document"] == {
            "version": 2, "chars": len(expected), "sha256": hashlib.sha256(expected.encode()).hexdigest()
        }
    finally:
        await stop_daemon(d)
