"""The real `zeta2-daemon` subprocess over raw pipes: tests write exact bytes and read exact responses.

No LSP library in between, so a test can send what no well-behaved client would (bodies that are not
JSON, wrong Content-Length headers) and see precisely what comes back. A reader thread collects
every message from stdout: responses by id (null included), notifications in order.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

TIMEOUT = 30.0


class RawDaemon:
    def __init__(self, tmp_path: Path, *args: str, env: dict[str, str] | None = None, id_prefix: str = ""):
        environment = dict(os.environ, ZETA2_DATA_DIR=str(tmp_path / "data"), ZETA2_PACK_DIR=str(tmp_path / "no-pack"))
        environment.update(env or {})
        self.stderr_path = tmp_path / "daemon-stderr.log"
        self._stderr = open(self.stderr_path, "wb")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "zeta2_daemon.cli", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=environment,
        )
        self.messages: list[dict[str, Any]] = []  # everything the daemon wrote, in order
        self._responses: dict[Any, dict[str, Any]] = {}  # the first response to each id (null included)
        # Ids of our requests are `id_prefix` + a counter when a prefix is given (so raw bodies a test
        # sends with integer ids of their own cannot answer for ours), plain integers otherwise.
        self._id_prefix = id_prefix
        self._arrived = threading.Condition()
        self.undecodable: list[bytes] = []  # stdout bytes that were not a framed JSON message
        self._next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    # ---------------------------------------------------------------- reading

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = None
            while True:
                header = out.readline()
                if not header:
                    return
                if header.lower().startswith(b"content-length:"):
                    length = int(header.split(b":")[1])
                elif header == b"\r\n":
                    break
                elif not header.lower().startswith(b"content-type:"):
                    self.undecodable.append(header)
            body = out.read(length or 0)
            try:
                message = json.loads(body)
            except ValueError:
                self.undecodable.append(body)
                continue
            with self._arrived:
                self.messages.append(message)
                if isinstance(message, dict) and "method" not in message and "id" in message:
                    try:
                        self._responses.setdefault(message["id"], message)
                    except TypeError:  # an unhashable id (the daemon answers with the one it read)
                        pass
                self._arrived.notify_all()

    def wait(self, predicate, timeout: float = TIMEOUT, what: str = "a message") -> dict[str, Any]:
        """The first message (in arrival order) for which `predicate` holds."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for message in self.messages:
                    if predicate(message):
                        return message
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError(f"no {what} within {timeout}s (daemon exit code {self.proc.poll()}); got {self.messages[-5:]}")
                self._arrived.wait(left)

    def response(self, msg_id: Any, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The first response to `msg_id` (an index lookup: fuzz runs send thousands of requests)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while msg_id not in self._responses:
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError(f"no response to {msg_id!r} within {timeout}s (daemon exit code {self.proc.poll()}); got {self.messages[-5:]}")
                self._arrived.wait(left)
            return self._responses[msg_id]

    def error_responses(self) -> list[dict[str, Any]]:
        with self._arrived:
            return [m for m in self.messages if "error" in m and "method" not in m]

    def statuses(self) -> list[dict[str, Any]]:
        with self._arrived:
            return [m["params"] for m in self.messages if m.get("method") == "zeta2/status"]

    # ---------------------------------------------------------------- writing

    def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def frame(self, body: bytes, length: int | None = None) -> bytes:
        return b"Content-Length: %d\r\n\r\n" % (len(body) if length is None else length) + body

    def send(self, method: str, params: Any = None, *, request: bool = True, omit_params: bool = False) -> Any:
        msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if not omit_params:
            msg["params"] = params
        msg_id = None
        if request:
            self._next_id += 1
            msg_id = msg["id"] = f"{self._id_prefix}{self._next_id}" if self._id_prefix else self._next_id
        self.write(self.frame(json.dumps(msg).encode()))
        return msg_id

    def request(self, method: str, params: Any = None, timeout: float = TIMEOUT, **kwargs: Any) -> dict[str, Any]:
        return self.response(self.send(method, params, **kwargs), timeout)

    def initialize(self, root: Path, options: Any = None) -> dict[str, Any]:
        result = self.request("initialize", {"processId": None, "rootUri": root.as_uri(), "capabilities": {}, "initializationOptions": options})
        self.send("initialized", {}, request=False)
        return result

    def close(self) -> int:
        try:
            if self.proc.poll() is None:
                self.request("shutdown", None, timeout=10)
                self.send("exit", None, request=False)
                self.proc.wait(10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._stderr.close()
        return self.proc.returncode
