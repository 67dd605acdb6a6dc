"""A loopback stand-in for hosted frontier models: the real Anthropic Messages and OpenAI Chat
Completions wire formats over stdlib http.server in a thread.

It CHECKS what it receives (x-api-key, anthropic-version, authorization, content-type, the required
body fields) and answers a violation the way the real API does (401 authentication_error, 400
invalid_request_error), recording it so a test can assert there were none. Faults can be scripted per
request: "429" (with retry-after: 0, or "429:S" for S seconds), "500", "529", "timeout" (answers after the client gave up),
"malformed" (a 200 with a cut JSON body). `latency` delays every answer.

    with LoopbackServer(responder=lambda system, user: "...") as server:
        server.anthropic_url   # base URL for --base-url with --provider anthropic
        server.openai_url      # base URL for --provider openai
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_KEY = "sk-loopback-test-key"
ANTHROPIC_VERSION = "2023-06-01"

Responder = Callable[[str, str], str]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any
    fault: str | None = None
    at: float = 0.0  # time.monotonic() when it arrived


@dataclass
class State:
    responder: Responder
    api_key: str = API_KEY
    latency: float = 0.0
    timeout_sleep: float = 2.0
    faults: list[str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _anthropic_error(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


def _openai_error(kind: str, message: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body are written separately: with Nagle on, the body waits for the client's delayed ACK
    # (~40 ms per answer). Real API servers do not stall like that.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(body).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a scripted timeout)

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        state = self.server.state
        length = int(self.headers.get("content-length", "0"))
        raw = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        with state.lock:
            fault = state.faults.pop(0) if state.faults else None
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
        try:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            state.received.append(Received(self.path, headers, body, fault, time.monotonic()))
            if self.path == "/v1/messages":
                self._anthropic(state, headers, body, fault)
            elif self.path == "/v1/chat/completions":
                self._openai(state, headers, body, fault)
            else:
                state.violations.append(f"unknown path {self.path}")
                self._send(404, {"error": {"message": f"no route {self.path}"}})
        finally:
            with state.lock:
                state.in_flight -= 1

    # -- faults shared by both formats ---------------------------------------------------------------

    def _fault(self, state: State, fault: str | None, error: Callable[[str, str], dict]) -> bool:
        if fault is None:
            return False
        if fault.startswith("429"):
            # "429" or "429:SECONDS" for the retry-after header
            wait = fault.partition(":")[2] or "0"
            self._send(429, error("rate_limit_error", "Number of requests has exceeded your rate limit"), {"retry-after": wait})
        elif fault == "500":
            self._send(500, error("api_error", "Internal server error"))
        elif fault == "529":
            self._send(529, error("overloaded_error", "Overloaded"))
        elif fault == "timeout":
            time.sleep(state.timeout_sleep)
            self._send(500, error("api_error", "too late"))
        elif fault == "malformed":
            self._send(200, None, raw=b'{"id": "msg_cut", "content": [{"type": "te')
        else:
            raise ValueError(f"unknown fault {fault!r}")
        return True

    def _check(self, state: State, condition: bool, message: str) -> bool:
        if not condition:
            state.violations.append(message)
        return condition

    # -- Anthropic Messages ---------------------------------------------------------------------------

    def _anthropic(self, state: State, headers: dict[str, str], body: Any, fault: str | None) -> None:
        if not self._check(state, headers.get("x-api-key") == state.api_key, "anthropic: missing or wrong x-api-key"):
            self._send(401, _anthropic_error("authentication_error", "invalid x-api-key"))
            return
        if not self._check(state, headers.get("anthropic-version") == ANTHROPIC_VERSION, "anthropic: missing anthropic-version"):
            self._send(400, _anthropic_error("invalid_request_error", "anthropic-version header is required"))
            return
        problem = _anthropic_body_problem(body)
        if not self._check(state, problem is None, f"anthropic: {problem}"):
            self._send(400, _anthropic_error("invalid_request_error", problem or ""))
            return
        if self._fault(state, fault, _anthropic_error):
            return
        if state.latency:
            time.sleep(state.latency)
        user = body["messages"][-1]["content"]
        if isinstance(user, list):
            user = "".join(part.get("text", "") for part in user)
        text = state.responder(body.get("system", ""), user)
        self._send(
            200,
            {
                "id": f"msg_{len(state.received):06d}",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": _count(body.get("system", "")) + _count(user), "output_tokens": _count(text)},
            },
        )

    # -- OpenAI Chat Completions ----------------------------------------------------------------------

    def _openai(self, state: State, headers: dict[str, str], body: Any, fault: str | None) -> None:
        if not self._check(state, headers.get("authorization") == f"Bearer {state.api_key}", "openai: missing or wrong authorization"):
            self._send(401, _openai_error("invalid_request_error", "Incorrect API key provided", "invalid_api_key"))
            return
        problem = _openai_body_problem(body)
        if not self._check(state, problem is None, f"openai: {problem}"):
            self._send(400, _openai_error("invalid_request_error", problem or ""))
            return
        if self._fault(state, fault, _openai_error):
            return
        if state.latency:
            time.sleep(state.latency)
        system = "".join(m["content"] for m in body["messages"] if m["role"] == "system")
        user = "".join(m["content"] for m in body["messages"] if m["role"] == "user")
        text = state.responder(system, user)
        self._send(
            200,
            {
                "id": f"chatcmpl-{len(state.received):06d}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": _count(system) + _count(user), "completion_tokens": _count(text), "total_tokens": 0},
            },
        )


def _count(text: str) -> int:
    """A stand-in token count (the real APIs count with their tokenizer)."""
    return max(1, len(text) // 4)


def _anthropic_body_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "body is not a JSON object"
    if not isinstance(body.get("model"), str):
        return "model: field required"
    if not isinstance(body.get("max_tokens"), int) or body["max_tokens"] < 1:
        return "max_tokens: field required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: field required"
    for m in messages:
        if not isinstance(m, dict) or m.get("role") not in ("user", "assistant") or "content" not in m:
            return "messages: each message needs role user/assistant and content"
    if messages[0]["role"] != "user":
        return "messages: first message must use the user role"
    if "system" in body and not isinstance(body["system"], (str, list)):
        return "system: must be a string or a list of blocks"
    return None


def _openai_body_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "body is not a JSON object"
    if not isinstance(body.get("model"), str):
        return "you must provide a model parameter"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "'messages' is a required property"
    for m in messages:
        if not isinstance(m, dict) or m.get("role") not in ("system", "developer", "user", "assistant") or not isinstance(m.get("content"), str):
            return "each message needs a role and string content"
    if "max_tokens" in body and (not isinstance(body["max_tokens"], int) or body["max_tokens"] < 1):
        return "max_tokens must be a positive integer"
    return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: State


class LoopbackServer:
    def __init__(self, responder: Responder, *, latency: float = 0.0, faults: list[str] | None = None, port: int = 0):
        self.state = State(responder=responder, latency=latency, faults=list(faults or []))
        self._server = _Server(("127.0.0.1", port), Handler)
        self._server.state = self.state
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def anthropic_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def requests_to(self, path: str) -> list[Received]:
        return [r for r in self.state.received if r.path == path]

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    """`python tests/trainer/loopback.py [--latency S] [--port P]`: serve until killed (for benches)."""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = LoopbackServer(lambda system, user: "No edit needed.\n\nNO_EDITS", latency=args.latency, port=args.port)
    print(server.port, flush=True)
    server._server.serve_forever()


if __name__ == "__main__":
    main()
