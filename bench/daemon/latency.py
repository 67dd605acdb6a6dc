"""End-to-end LSP latency of the daemon, side by side with the runtime alone, on a replayed typing session.

    .venv/bin/python bench/daemon/latency.py [--model PACK_DIR] [--session FILE] [--threads 2]

1. Runtime alone: the session is typed into capture's EditHistory in this process and, after each
   keystroke, `Predictor.predict(snapshot(...))` runs with prefix reuse, exactly as the daemon calls it.
2. Through LSP: the real `zeta2-daemon` subprocess gets the same keystrokes (didChange) and, after each,
   a `textDocument/copilotInlineEdit` request; the client measures request sent -> response received.
   The daemon reports its model time per answer; LSP overhead = round trip - model time.
Also reported: the daemon's didChange handling time while predictions run (from `zeta2/ping`).
Requests the daemon answered from its suggestion cache are counted apart (no model call).
Default model: the bootstrapped SmolLM2 pack (`zeta2-trainer bootstrap`). Default session: the
demo's bundled one, each step typed keystroke by keystroke with a request after every keystroke.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


LIMIT = None  # --keystrokes: replay only the first N keystrokes
MAX_OUTPUT_TOKENS = None  # --max-output-tokens: the same cap for both paths (the daemon's maxOutputTokens)


def keystrokes(session: dict[str, Any]) -> list[tuple[tuple[int, int, int, int], str, tuple[int, int]]]:
    """((start line, char, end line, char), text, cursor after) for every keystroke of the demo session format."""
    return _keystrokes(session)[:LIMIT]


def _keystrokes(session: dict[str, Any]) -> list[tuple[tuple[int, int, int, int], str, tuple[int, int]]]:
    out = []
    for step in session["steps"]:
        if "delete" in step:
            (sl, sc), (el, ec) = step["delete"]
            out.append(((sl, sc, el, ec), "", (sl, sc)))
        line, character = step["at"]
        for ch in step.get("type", ""):
            nl, nc = (line + 1, 0) if ch == "\n" else (line, character + 1)
            out.append(((line, character, line, character), ch, (nl, nc)))
            line, character = nl, nc
    return out


def apply(text: str, rng: tuple[int, int, int, int], new: str) -> str:
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    sl, sc, el, ec = rng
    return text[: starts[sl] + sc] + new + text[starts[el] + ec :]


def offset(text: str, line: int, character: int) -> int:
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    return starts[line] + character


def runtime_alone(pack: Path, session: dict[str, Any], threads: int | None) -> list[float]:
    from zeta2_capture.history import EditHistory
    from zeta2_capture.snapshot import snapshot
    from zeta2_daemon.predictor import Predictor

    predictor = Predictor(pack, threads=threads, max_output_tokens=MAX_OUTPUT_TOKENS)
    history = EditHistory()
    text = session["initial"]
    path, language = session["path"], session["language"]
    times = []
    for rng, new, (line, character) in keystrokes(session):
        after = apply(text, rng, new)
        history.record(path, text, after)
        text = after
        example = snapshot(path, language, text, offset(text, line, character), history)
        started = time.perf_counter()
        predictor.predict(example, deadline=time.perf_counter() + 120, document=path)
        times.append((time.perf_counter() - started) * 1000)
    return times


def plain(obj: Any) -> Any:
    if hasattr(obj, "_asdict"):
        return {k: plain(v) for k, v in obj._asdict().items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    return obj


async def through_lsp(pack: Path, session: dict[str, Any]) -> dict[str, Any]:
    from lsprotocol import types
    from pygls.lsp.client import LanguageClient

    root = Path(tempfile.mkdtemp(prefix="zeta2-latency-"))
    client = LanguageClient("zeta2-latency", "1")

    @client.feature("zeta2/status")
    def on_status(params: Any) -> None:
        pass

    await client.start_io(sys.executable, "-m", "zeta2_daemon.cli", "--model", str(pack), "--no-index")
    round_trips, model_ms, overhead, cached = [], [], [], 0
    parts: dict[str, list[float]] = {"snapshot": [], "daemon": [], "guardrails": [], "hop": [], "outside": [],
                                     "server": [], "in_daemon": [], "client": []}
    try:
        await client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=root.as_uri(),
            initialization_options={"debounceMs": 0, "deadlineMs": 120_000, "installationId": "bench",
                                    **({"maxOutputTokens": MAX_OUTPUT_TOKENS} if MAX_OUTPUT_TOKENS else {})},
        ))
        client.initialized(types.InitializedParams())
        uri = (root / session["path"]).as_uri()
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri, session["language"], 1, session["initial"])))
        version = 1
        last_counters: dict[str, int] = {}
        for (sl, sc, el, ec), new, (line, character) in keystrokes(session):
            version += 1
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=version, uri=uri),
                [types.TextDocumentContentChangePartial(
                    range=types.Range(types.Position(sl, sc), types.Position(el, ec)), text=new)],
            ))
            sent = time.perf_counter()
            await client.protocol.send_request_async(
                "textDocument/copilotInlineEdit",
                {"textDocument": {"uri": uri, "version": version}, "position": {"line": line, "character": character}},
            )
            rt = (time.perf_counter() - sent) * 1000
            pong = plain(await client.protocol.send_request_async("zeta2/ping", {}))
            counters = pong["counters"]
            if counters["cache_hits"] > last_counters.get("cache_hits", 0):
                cached += 1  # answered from the suggestion cache: no model call to compare with
            elif counters["stale"] == last_counters.get("stale", 0) and "total" in pong["lastTiming"]:
                round_trips.append(rt)
                model_ms.append(pong["lastTiming"]["total"])
                overhead.append(rt - pong["lastTiming"]["total"])
                timing = pong["lastTiming"]
                for key, values in parts.items():
                    if key in timing:
                        values.append(timing[key])
                # per request: the model thread hand-off, and everything outside the model thread
                parts["hop"].append(timing["daemon"] - timing["total"])
                parts["outside"].append(rt - timing["daemon"])
                if "server" in timing:  # message in -> response out, inside the daemon
                    parts["in_daemon"].append(timing["server"] - timing["total"])
                    parts["client"].append(rt - timing["server"])
            last_counters = counters
        stats = plain(await client.protocol.send_request_async("zeta2/ping", {}))
        await client.shutdown_async(None)
        client.exit(None)
        await asyncio.wait_for(client._server.wait(), 30)
    finally:
        if client._server is not None and client._server.returncode is None:
            client._server.kill()
        await client.stop()
    return {"parts": parts, "round_trips": round_trips, "model_ms": model_ms, "overhead": overhead, "cached": cached,
            "didChangeMs": stats["didChangeMs"], "counters": last_counters}


class RawClient:
    """A minimal JSON-RPC client over the daemon's pipes: json.dumps, one write, blocking reads.

    It does next to no work of its own, so its round trip is close to the daemon's share plus the pipes;
    the pygls client's round trip minus this one is that client's own JSON/cattrs/asyncio cost.
    """

    def __init__(self, pack: Path, root: Path):
        import os
        import subprocess

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "zeta2_daemon.cli", "--model", str(pack), "--no-index"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )
        self.fd_in = self.proc.stdin.fileno()
        self.out = self.proc.stdout
        self.next_id = 0

    def send(self, method: str, params: Any, request: bool = True) -> int | None:
        import os

        msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        msg_id = None
        if request:
            self.next_id += 1
            msg_id = msg["id"] = self.next_id
        body = json.dumps(msg).encode()
        os.write(self.fd_in, b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        return msg_id

    def wait(self, msg_id: int) -> dict[str, Any]:
        while True:
            length = 0
            while (line := self.out.readline()) not in (b"\r\n", b""):
                if line.startswith(b"Content-Length:"):
                    length = int(line[15:])
            if not line:
                raise EOFError("the daemon closed its stdout")
            message = json.loads(self.out.read(length))
            if message.get("id") == msg_id and "method" not in message:
                if "error" in message:
                    raise RuntimeError(message["error"])
                return message["result"]

    def request(self, method: str, params: Any) -> dict[str, Any]:
        return self.wait(self.send(method, params))


def through_raw(pack: Path, session: dict[str, Any]) -> dict[str, Any]:
    """The same replay as `through_lsp` with RawClient."""
    root = Path(tempfile.mkdtemp(prefix="zeta2-latency-raw-"))
    client = RawClient(pack, root)
    round_trips, server_ms, model_ms = [], [], []
    steps: dict[str, list[float]] = {k: [] for k in ("queue", "before_snapshot", "snapshot", "to_thread", "from_thread", "guardrails", "after")}
    try:
        client.request("initialize", {
            "processId": None, "capabilities": {}, "rootUri": root.as_uri(),
            "initializationOptions": {"debounceMs": 0, "deadlineMs": 120_000, "installationId": "bench",
                                      **({"maxOutputTokens": MAX_OUTPUT_TOKENS} if MAX_OUTPUT_TOKENS else {})},
        })
        client.send("initialized", {}, request=False)
        uri = (root / session["path"]).as_uri()
        client.send("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": session["language"], "version": 1,
                                                              "text": session["initial"]}}, request=False)
        version = 1
        last_counters: dict[str, int] = {}
        for (sl, sc, el, ec), new, (line, character) in keystrokes(session):
            version += 1
            client.send("textDocument/didChange", {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": {"start": {"line": sl, "character": sc}, "end": {"line": el, "character": ec}}, "text": new}],
            }, request=False)
            sent = time.perf_counter()
            client.request("textDocument/copilotInlineEdit",
                           {"textDocument": {"uri": uri, "version": version}, "position": {"line": line, "character": character}})
            rt = (time.perf_counter() - sent) * 1000
            pong = client.request("zeta2/ping", {})
            counters, timing = pong["counters"], pong["lastTiming"]
            fresh = counters["cache_hits"] == last_counters.get("cache_hits", 0) and counters["stale"] == last_counters.get("stale", 0)
            if fresh and "total" in timing:
                round_trips.append(rt)
                model_ms.append(timing["total"])
                if "server" not in timing:  # a daemon from before lastTiming.server: round trips only
                    continue
                server_ms.append(timing["server"])
                for key in steps:
                    if key in timing:
                        steps[key].append(timing[key])
                # the rest: after the model thread handed back, minus guardrails (response JSON, write, ...)
                known = sum(timing.get(k, 0.0) for k in ("queue", "before_snapshot", "snapshot", "to_thread", "from_thread", "guardrails"))
                steps["after"].append(timing["server"] - timing["total"] - known)
            last_counters = counters
        client.request("shutdown", None)
        client.send("exit", None, request=False)
        client.proc.wait(30)
    finally:
        if client.proc.poll() is None:
            client.proc.kill()
    return {"round_trips": round_trips, "server_ms": server_ms, "model_ms": model_ms, "steps": steps}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="pack (default: the bootstrapped default pack)")
    parser.add_argument("--session", type=Path, default=None, help="session JSON (default: the demo's)")
    parser.add_argument("--threads", type=int, default=None, help="onnxruntime threads for the runtime-alone run")
    parser.add_argument("--keystrokes", type=int, default=None, help="replay only the first N keystrokes")
    parser.add_argument("--max-output-tokens", type=int, default=None, help="cap the answer length in both paths")
    parser.add_argument("--skip-runtime", action="store_true", help="skip the runtime-alone run (overhead only)")
    args = parser.parse_args(argv)
    global LIMIT, MAX_OUTPUT_TOKENS
    LIMIT, MAX_OUTPUT_TOKENS = args.keystrokes, args.max_output_tokens
    if args.model is None:
        from zeta2_daemon.pack import default_pack_dir

        args.model = default_pack_dir()
    text = args.session.read_text() if args.session else resources.files("zeta2_daemon").joinpath("data/demo_session.json").read_text()
    session = json.loads(text)
    alone = [] if args.skip_runtime else runtime_alone(args.model, session, args.threads)
    lsp = asyncio.run(through_lsp(args.model, session))
    raw = through_raw(args.model, session)
    raw_overhead = [rt - m for rt, m in zip(raw["round_trips"], raw["model_ms"], strict=True)]
    raw_in_daemon = [sv - m for sv, m in zip(raw["server_ms"], raw["model_ms"], strict=True)] if raw["server_ms"] else []
    rows = [
        ("runtime alone (Predictor.predict)", alone),
        ("through LSP (request -> response)", lsp["round_trips"]),
        ("  model time reported by the daemon", lsp["model_ms"]),
        ("  LSP overhead (round trip - model)", lsp["overhead"]),
        ("    model thread hand-off (daemon - model)", lsp["parts"]["hop"]),
        ("    outside the model thread (rt - daemon)", lsp["parts"]["outside"]),
        ("      of which capture snapshot", lsp["parts"]["snapshot"]),
        ("      of which guardrails + minimal edit", lsp["parts"]["guardrails"]),
        ("    in the daemon (message in -> out - model)", lsp["parts"]["in_daemon"]),
        ("    pygls client + pipes (rt - in daemon)", lsp["parts"]["client"]),
        ("raw JSON-RPC client: round trip", raw["round_trips"]),
        ("  LSP overhead (round trip - model)", raw_overhead),
        ("    in the daemon (message in -> out - model)", raw_in_daemon),
        # The runtime-alone path does the capture snapshot too (it is the prompt's input): what the LSP
        # adds on top of that path is the round trip minus the model and the snapshot.
        ("  beyond the runtime-alone path (- snapshot)",
         [o - sn for o, sn in zip(raw_overhead, raw["steps"]["snapshot"], strict=True)]
         if len(raw["steps"]["snapshot"]) == len(raw_overhead) else []),
        ("    raw client + pipes (rt - in daemon)",
         [rt - sv for rt, sv in zip(raw["round_trips"], raw["server_ms"], strict=True)] if raw["server_ms"] else []),
        *((f"      daemon step: {key}", values) for key, values in raw["steps"].items()),
    ]
    import os

    print(f"pack {args.model}, {len(keystrokes(session))} keystrokes, a request after each; load average {os.getloadavg()}")
    print(f"{'':40s} {'n':>4s} {'p50 ms':>9s} {'p90 ms':>9s} {'mean ms':>9s}")
    for name, values in rows:
        mean = statistics.fmean(values) if values else float("nan")
        print(f"{name:40s} {len(values):4d} {pct(values, 0.5):9.2f} {pct(values, 0.9):9.2f} {mean:9.2f}")
    ratio = pct(lsp["round_trips"], 0.5) / pct(alone, 0.5) if alone and lsp["round_trips"] else float("nan")
    print(f"p50 ratio LSP / runtime alone: {ratio:.3f}; answered from the suggestion cache: {lsp['cached']}")
    print(f"didChange handling while predicting: {lsp['didChangeMs']}")
    print(f"daemon counters: {lsp['counters']}; load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
