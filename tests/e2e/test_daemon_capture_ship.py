"""End to end: opt-in capture with `capture.shipTo`, and retention, on the real daemon with the tiny pack.

The daemon's clock is driven over LSP (`--test-clock`, `zeta2/test/advanceClock`), so settling (10 s)
and the retention marks (15 to 300 s) take no real time. What arrives at the ship destination (a temp
directory, or a loopback HTTP server in this process) is compared byte for byte with the records in
the capture store.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from test_daemon_sessions import load, replay, start, suggest, usage_records, workspace

pytestmark = pytest.mark.e2e

SESSION = "python-rename-parameter"


def store_lines(data: Path) -> list[bytes]:
    """The capture store's records as `zeta2_capture.ship` writes them, in sequence order."""
    from zeta2_capture.export import example_record
    from zeta2_capture.schema import dumps
    from zeta2_capture.store import CaptureStore

    with CaptureStore(data / "captures.sqlite3") as store:
        return [(dumps(example_record(store, ex)) + "\n").encode() for _, ex in store.records()]


async def shown_and_settled(d, root: Path, s: dict) -> dict:
    """Types the session, shows its suggestion and lets it settle (11 s on the daemon's clock)."""
    uri, version = await replay(d, root, s)
    item = await suggest(d, uri, version, s["cursor"])
    assert item is not None and item["text"] == s["expected"]["edit"]["text"]
    d.notify("textDocument/didShowInlineEdit", {"item": item})
    advanced = await d.request("zeta2/test/advanceClock", {"seconds": 11})
    assert "Settled" in advanced["outcomes"]
    return item


async def test_settled_captures_ship_to_a_directory(tmp_path, tiny_pack):
    s = load(SESSION)
    root = workspace(tmp_path)
    outbox = tmp_path / "outbox"
    d = await start(tmp_path, tiny_pack, root, "--test-clock", capture={"enabled": True, "shipTo": str(outbox)})
    try:
        await d.wait_for(lambda: "ship" in d.status, what="the first zeta2/status")
        assert d.status["ship"] == {"to": str(outbox), "shipped": 0, "batches": 0, "lastError": None, "lastShippedAt": None}
        item = await shown_and_settled(d, root, s)
        status = await d.wait_for(lambda: d.status["ship"]["shipped"] == 2 and d.status, what="2 records shipped")
        assert status["ship"]["batches"] == 1 and status["ship"]["lastError"] is None
        files = sorted(p.name for p in outbox.iterdir())
        assert files == ["captures-0000000001-0000000002.jsonl"]  # no temporary file left behind
        shipped = (outbox / files[0]).read_bytes()
        assert shipped.splitlines(keepends=True) == store_lines(tmp_path / "data")
        records = [json.loads(line) for line in shipped.splitlines()]
        assert [r["id"] for r in records] == [f"{item['id']}/shown", f"{item['id']}/settled"]
        assert [r["meta"]["kind"] for r in records] == ["shown", "settled"]
        assert records[0]["before"] == s["final"] and records[0]["meta"]["prediction"]["new_text"] == item["text"]
        assert records[1]["expected"] == s["final"]  # the user left the region as it was
    finally:
        await stop(d)


async def test_nothing_ships_when_capture_is_off(tmp_path, tiny_pack):
    s = load(SESSION)
    root = workspace(tmp_path)
    outbox = tmp_path / "outbox"
    d = await start(tmp_path, tiny_pack, root, "--test-clock", capture={"enabled": False, "shipTo": str(outbox)})
    try:
        await d.wait_for(lambda: "ship" in d.status, what="the first zeta2/status")
        assert d.status["capture"] is False
        await shown_and_settled(d, root, s)
        await d.request("zeta2/test/advanceClock", {"seconds": 300})
        pong = await d.request("zeta2/ping", {})
        assert pong["ok"] and d.status["ship"]["shipped"] == 0 and d.status["ship"]["lastError"] is None
        assert not outbox.exists()
        assert not (tmp_path / "data" / "captures.sqlite3").exists()
    finally:
        await stop(d)


class Collector(BaseHTTPRequestHandler):
    """Records every POST; answers 503 to the first `failures` of them, 200 after."""

    posts: list[tuple[dict[str, str], bytes]] = []
    failures = 0

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).posts.append((dict(self.headers), body))
        failing = len(type(self).posts) <= type(self).failures
        self.send_response(503 if failing else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


async def test_ships_to_http_and_retries_after_a_failure(tmp_path, tiny_pack):
    class Handler(Collector):
        posts = []
        failures = 1

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/captures"
    s = load(SESSION)
    root = workspace(tmp_path)
    d = await start(tmp_path, tiny_pack, root, "--test-clock", capture={"enabled": True, "shipTo": url})
    try:
        await shown_and_settled(d, root, s)
        status = await d.wait_for(lambda: d.status["ship"]["lastError"] and d.status, what="the failed ship in status")
        assert status["ship"]["lastError"] == (
            f"{url}: HTTP 503 Service Unavailable; batch not shipped, will resume here (retrying in 2 s)"
        )
        assert status["ship"]["shipped"] == 0 and len(Handler.posts) == 1
        # Not before its backoff: one second on, nothing is retried.
        await d.request("zeta2/test/advanceClock", {"seconds": 1})
        await d.request("zeta2/ping", {})
        assert len(Handler.posts) == 1
        await d.request("zeta2/test/advanceClock", {"seconds": 1})
        status = await d.wait_for(lambda: d.status["ship"]["shipped"] == 2 and d.status, what="the retried ship")
        assert status["ship"]["lastError"] is None
        assert len(Handler.posts) == 2
        (h1, b1), (h2, b2) = Handler.posts
        assert b1 == b2 == b"".join(store_lines(tmp_path / "data"))  # resumed with the identical batch
        for headers in (h1, h2):
            assert headers["Content-Type"] == "application/x-ndjson"
            assert headers["Idempotency-Key"] == hashlib.sha256(b1).hexdigest()
        assert [json.loads(line)["meta"]["kind"] for line in b1.splitlines()] == ["shown", "settled"]
    finally:
        await stop(d)
        server.shutdown()


async def test_retention_of_a_kept_accepted_suggestion_is_recorded(tmp_path, tiny_pack):
    s = load(SESSION)
    root = workspace(tmp_path)
    d = await start(tmp_path, tiny_pack, root, "--test-clock", capture={"enabled": True})
    try:
        uri, version = await replay(d, root, s)
        item = await suggest(d, uri, version, s["cursor"])
        assert item is not None
        sid = item["id"]
        d.notify("textDocument/didShowInlineEdit", {"item": item})
        assert await d.accept(sid) is True
        d.change(uri, version + 1, [{"range": item["range"], "text": item["text"]}])  # the editor applies it
        await d.request("zeta2/ping", {"uri": uri})
        outcomes = []
        for seconds in (15, 15, 30, 60, 180):  # to 15, 30, 60, 120 and 300 s after acceptance
            outcomes += (await d.request("zeta2/test/advanceClock", {"seconds": seconds}))["outcomes"]
        assert outcomes == ["Settled", "Retention", "Retention", "Retention", "Retention", "Retention"]
        from zeta2_capture.store import CaptureStore

        with CaptureStore(tmp_path / "data" / "captures.sqlite3") as store:
            records = {ex.id: ex for _, ex in store.records()}
        accepted = records[f"{sid}/accepted"]
        assert accepted.meta["retention"] == {"15": 1.0, "30": 1.0, "60": 1.0, "120": 1.0, "300": 1.0}
        assert records[f"{sid}/settled"].meta["accepted"] is True
        assert records[f"{sid}/settled"].expected == s["expected"]["text"]  # the user kept the suggestion
        retention = [(r["seconds"], r["retained"]) for r in await usage_records(tmp_path, d) if r["event"] == "retention" and r["id"] == sid]
        assert retention == [(15, 1.0), (30, 1.0), (60, 1.0), (120, 1.0), (300, 1.0)]
    finally:
        await stop(d)


async def stop(d) -> None:
    from daemon_client import stop_daemon

    await stop_daemon(d)
