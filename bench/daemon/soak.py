"""Soak: replay many edits against the real daemon, with a suggestion request after each.

    .venv/bin/python bench/daemon/soak.py --model PACK_DIR [--edits 10000] [--burst 10]

The edits come from the scripted sessions in tests/fixtures/sessions: each session's keystrokes are
typed, then deleted again character by character, over and over, in several open documents. After
every edit a `textDocument/copilotInlineEdit` request is sent without waiting for the previous one
(like an editor), `--burst` at a time; then the client waits for the answers and pings the daemon.

Reports: errors (error responses other than cancellations), the largest number of pending requests
the daemon reported (bounded by maxPending per document), suggestions returned, and the daemon's
resident memory (VmRSS) sampled along the way with its slope after warm-up (MB per 1,000 edits).
CI runs `soak(..., edits=500)` from tests/e2e/test_soak.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SESSIONS = REPO / "tests" / "fixtures" / "sessions"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def slope_per_1000(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of (edit number, MB), scaled to MB per 1,000 edits."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    sxy = sum((x - mx) * (y - my) for x, y in points)
    return 1000 * sxy / sxx if sxx else 0.0


def keystrokes(session: dict[str, Any]) -> list[dict[str, Any]]:
    """The session's edits, then their undoing one character at a time (back to the initial text)."""
    forward = list(session["edits"])
    backward = []
    for edit in reversed(forward):
        start = edit["range"]["start"]
        if edit["text"] and "\n" not in edit["text"]:
            end = {"line": start["line"], "character": start["character"] + len(edit["text"])}
            backward.append({"range": {"start": start, "end": end}, "text": ""})
        else:
            return forward  # a session with deletions or newlines: type it once only
    return forward + backward


def plain(obj: Any) -> Any:
    if hasattr(obj, "_asdict"):
        return {k: plain(v) for k, v in obj._asdict().items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    return obj


async def soak(pack: Path, edits: int = 10_000, burst: int = 10, sample_every: int = 100, env: dict | None = None,
               log=print) -> dict[str, Any]:
    from lsprotocol import types
    from pygls.exceptions import JsonRpcException
    from pygls.lsp.client import LanguageClient

    sessions = [json.loads(p.read_text()) for p in sorted(SESSIONS.glob("*.json"))]
    plans = [(s, keystrokes(s)) for s in sessions]
    plans = [(s, k) for s, k in plans if len(k) > len(s["edits"])]  # only sessions that undo cleanly
    root = Path(tempfile.mkdtemp(prefix="zeta2-soak-"))
    client = LanguageClient("zeta2-soak", "1")
    statuses = {"n": 0}

    @client.feature("zeta2/status")
    def on_status(params: Any) -> None:
        statuses["n"] += 1
    await client.start_io(sys.executable, "-m", "zeta2_daemon.cli", "--model", str(pack), "--no-index", env=env)
    pid = client._server.pid
    stats = {"edits": 0, "requests": 0, "suggestions": 0, "errors": 0, "cancelled": 0, "max_pending": 0}
    samples: list[tuple[int, float]] = []
    started = time.perf_counter()
    try:
        await client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=root.as_uri(),
            initialization_options={"debounceMs": 0, "installationId": "soak"},
        ))
        client.initialized(types.InitializedParams())
        docs = []
        for s, plan in plans:
            uri = (root / s["path"]).as_uri()
            client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, s["language"], 1, s["initial"])))
            docs.append({"uri": uri, "plan": plan, "step": 0, "version": 1})
        pending: list[asyncio.Future] = []

        async def drain() -> None:
            for fut in pending:
                try:
                    result = plain(await fut)
                    stats["suggestions"] += bool(result and result.get("edits"))
                except JsonRpcException as exc:
                    if "cancel" in str(exc).lower():
                        stats["cancelled"] += 1
                    else:
                        stats["errors"] += 1
                        log(f"error response: {exc}")
            pending.clear()
            pong = plain(await client.protocol.send_request_async("zeta2/ping", {}))
            stats["max_pending"] = max(stats["max_pending"], pong["pending"])

        i = 0
        while i < edits:
            doc = docs[i % len(docs)]
            edit = doc["plan"][doc["step"] % len(doc["plan"])]
            doc["step"] += 1
            doc["version"] += 1
            r = edit["range"]
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=doc["version"], uri=doc["uri"]),
                [types.TextDocumentContentChangePartial(
                    range=types.Range(types.Position(**r["start"]), types.Position(**r["end"])), text=edit["text"])],
            ))
            position = r["start"] if not edit["text"] else {"line": r["start"]["line"], "character": r["start"]["character"] + len(edit["text"])}
            pending.append(asyncio.ensure_future(client.protocol.send_request_async(
                "textDocument/copilotInlineEdit", {"textDocument": {"uri": doc["uri"], "version": doc["version"]}, "position": position})))
            stats["requests"] += 1
            i += 1
            stats["edits"] = i
            if i % burst == 0:
                # mid-burst ping: how many requests wait inside the daemon right now
                pong = plain(await client.protocol.send_request_async("zeta2/ping", {}))
                stats["max_pending"] = max(stats["max_pending"], pong["pending"])
                await drain()
            if i % sample_every == 0:
                samples.append((i, rss_mb(pid)))
                if env and env.get("ZETA2_TRACEMALLOC"):
                    top = plain(await client.protocol.send_request_async("zeta2/ping", {"memory": True}))["memory"]
                    log("\n".join(top or []))
                log(f"{i} edits, rss {samples[-1][1]:.1f} MB, {stats}")
        await drain()
        samples.append((edits, rss_mb(pid)))
        await client.shutdown_async(None)
        client.exit(None)
        await asyncio.wait_for(client._server.wait(), 30)
    finally:
        if client._server is not None and client._server.returncode is None:
            client._server.kill()
        await client.stop()
    warm = [p for p in samples if p[0] > edits * 0.2]
    stats.update(
        seconds=round(time.perf_counter() - started, 1),
        rss_first_mb=round(samples[0][1], 1),
        rss_last_mb=round(samples[-1][1], 1),
        rss_slope_mb_per_1000_edits=round(slope_per_1000(warm), 3),
        rss_samples=[(n, round(mb, 1)) for n, mb in samples],
    )
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="model pack (the tiny test pack: python tests/tiny_pack.py)")
    parser.add_argument("--edits", type=int, default=10_000)
    parser.add_argument("--burst", type=int, default=10)
    parser.add_argument("--sample-every", type=int, default=250)
    args = parser.parse_args(argv)
    import os

    # The daemon's usage log and installation id go to a scratch data dir, not the user's.
    env = {**os.environ, "ZETA2_DATA_DIR": os.environ.get("ZETA2_DATA_DIR") or tempfile.mkdtemp(prefix="zeta2-soak-data-")}
    stats = asyncio.run(soak(args.model, args.edits, args.burst, args.sample_every, env=env))
    print(json.dumps(stats, indent=1))
    return 1 if stats["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
