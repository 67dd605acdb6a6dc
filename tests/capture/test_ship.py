"""Shipping: resumable, idempotent batches to a directory and to a loopback HTTP endpoint."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from zeta2_capture.schema import Example
from zeta2_capture.ship import ShipError, ship
from zeta2_capture.store import CaptureStore


def fill(store, n, start=0):
    for i in range(start, start + n):
        store.add(Example(f"id-{i}", "a.py", "python", f"x = {i}\n", 0), "settled")


def test_directory_batches_resume_and_do_not_repeat(tmp_path):
    dest = tmp_path / "outbox"
    with CaptureStore(tmp_path / "s.sqlite3", max_bytes=10**9) as store:
        fill(store, 5)
        result = ship(store, str(dest), batch_size=2)
        assert (result.batches, result.records, result.shipped_seq) == (3, 5, 5)
        assert sorted(p.name for p in dest.iterdir()) == [
            "captures-0000000001-0000000002.jsonl", "captures-0000000003-0000000004.jsonl", "captures-0000000005-0000000005.jsonl"]
        assert ship(store, str(dest)).records == 0  # nothing new
        fill(store, 2, start=5)
        assert ship(store, str(dest), batch_size=10).records == 2
    ids = [json.loads(line)["id"] for p in sorted(dest.iterdir()) for line in p.read_text().splitlines()]
    assert ids == [f"id-{i}" for i in range(7)]


class Endpoint:
    """A loopback trainer intake: records Idempotency-Keys, fails the first `fail` posts."""

    def __init__(self, fail: int = 0):
        self.fail = fail
        self.received: dict[str, bytes] = {}
        self.posts = 0
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                endpoint.posts += 1
                if endpoint.posts <= endpoint.fail:
                    self.send_response(503)
                    self.end_headers()
                    return
                assert self.headers["Content-Type"] == "application/x-ndjson"
                endpoint.received[self.headers["Idempotency-Key"]] = body
                self.send_response(202)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/intake"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint():
    ep = Endpoint(fail=1)
    yield ep
    ep.close()


def test_http_failure_stops_and_the_next_ship_resumes(tmp_path, endpoint):
    with CaptureStore(tmp_path / "s.sqlite3", max_bytes=10**9) as store:
        fill(store, 3)
        with pytest.raises(ShipError, match=r"HTTP 503 Service Unavailable; batch not shipped, will resume here"):
            ship(store, endpoint.url, batch_size=2)
        assert store.shipped_seq(endpoint.url) == 0 and endpoint.received == {}
        result = ship(store, endpoint.url, batch_size=2)
        assert (result.batches, result.records) == (2, 3)
        # a batch re-sent (e.g. the cursor was lost) carries the same key: the server can de-duplicate
        store.set_shipped_seq(endpoint.url, 0)
        ship(store, endpoint.url, batch_size=2)
    assert len(endpoint.received) == 2 and endpoint.posts == 5
    records = [json.loads(line) for body in endpoint.received.values() for line in body.decode().splitlines()]
    assert sorted(r["id"] for r in records) == ["id-0", "id-1", "id-2"]


def test_unreachable_endpoint_is_a_ship_error(tmp_path):
    with CaptureStore(tmp_path / "s.sqlite3") as store:
        fill(store, 1)
        with pytest.raises(ShipError, match=r"http://127.0.0.1:9/x: ConnectError"):
            ship(store, "http://127.0.0.1:9/x", timeout=5)
