"""`zeta2-daemon demo`: replay a bundled editing session against a real daemon and show its suggestions.

It starts `zeta2-daemon` as a subprocess (the same command an editor runs), opens the session's file
over LSP, types each step keystroke by keystroke (one didChange per character, like an editor), asks
`textDocument/copilotInlineEdit` after each step, and prints the suggestion as a coloured diff with
the latency breakdown the daemon reports and the round trip the client measured. When there is no
suggestion it says why (from `zeta2/status`), and it says plainly when the pack is untrained.

Session file: {"path", "language", "initial", "steps": [{"say", "at": [line, character],
"type": str, "delete": [[line, character], [line, character]] (optional)}]}; positions refer to
the text at that step, as an editor would send them.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import json
import os
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any

from .params import plain_json

RED, GREEN, CYAN, DIM, BOLD, RESET = "\033[31m", "\033[32m", "\033[36m", "\033[2m", "\033[1m", "\033[0m"


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", metavar="PACK_DIR", default=argparse.SUPPRESS, help="model pack (default: the bootstrapped one)"
    )
    parser.add_argument("--session", metavar="FILE", type=Path, help="session JSON to replay (default: the bundled one)")
    parser.add_argument("--no-color", action="store_true", help="plain diffs without ANSI colours")
    parser.add_argument("--deadline-ms", type=int, default=15_000, help="per-suggestion deadline (default 15000)")


class DemoError(Exception):
    pass


def load_session(path: Path | None) -> dict[str, Any]:
    if path is None:
        text = resources.files("zeta2_daemon").joinpath("data/demo_session.json").read_text(encoding="utf-8")
        where = "bundled demo_session.json"
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise DemoError(f"cannot read session {path}: {exc.strerror}") from None
        where = str(path)
    try:
        session = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DemoError(f"{where}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    for key in ("path", "language", "initial", "steps"):
        if key not in session:
            raise DemoError(f"{where}: missing field {key!r}")
    return session


def colour_diff(before: str, after: str, path: str, colour: bool) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{path}", f"b/{path}", n=2
    )
    out = []
    for line in lines:
        line = line.rstrip("\n")
        if not colour:
            out.append(line)
        elif line.startswith(("+++", "---")):
            out.append(BOLD + line + RESET)
        elif line.startswith("+"):
            out.append(GREEN + line + RESET)
        elif line.startswith("-"):
            out.append(RED + line + RESET)
        elif line.startswith("@@"):
            out.append(CYAN + line + RESET)
        else:
            out.append(line)
    return "\n".join(out)


def _offset(text: str, line: int, character: int) -> int:
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    return starts[line] + character


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset)
    return line, offset - (text.rfind("\n", 0, offset) + 1)


async def replay(args: argparse.Namespace, out=sys.stdout) -> int:
    from lsprotocol import types
    from pygls.lsp.client import LanguageClient

    session = load_session(args.session)
    colour = not args.no_color and out.isatty() and not os.environ.get("NO_COLOR")
    paint = (lambda code, s: code + s + RESET) if colour else (lambda code, s: s)
    model = getattr(args, "model", None)
    workspace = Path(tempfile.mkdtemp(prefix="zeta2-demo-"))
    command = [sys.executable, "-m", "zeta2_daemon.cli", *(["--model", str(model)] if model else [])]
    client = LanguageClient("zeta2-demo", "1")
    statuses: list[dict[str, Any]] = []

    @client.feature("zeta2/status")
    def on_status(params: Any) -> None:
        statuses.append(plain_json(params))

    await client.start_io(*command)
    try:
        await client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                root_uri=workspace.as_uri(),
                initialization_options={"debounceMs": 0, "deadlineMs": args.deadline_ms, "capture": {"enabled": False}},
            )
        )
        client.initialized(types.InitializedParams())
        uri = (workspace / session["path"]).as_uri()
        text = session["initial"]
        version = 1
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, session["language"], version, text))
        )
        print(paint(BOLD, f"zeta2 demo: {session.get('description', session['path'])}"), file=out)
        shown = 0
        for number, step in enumerate(session["steps"], 1):
            edits = []
            if "delete" in step:
                (sl, sc), (el, ec) = step["delete"]
                edits.append(((sl, sc, el, ec), ""))
            line, character = step["at"]
            for ch in step.get("type", ""):
                edits.append(((line, character, line, character), ch))
                line, character = (line + 1, 0) if ch == "\n" else (line, character + 1)
            for (sl, sc, el, ec), new in edits:
                start, end = _offset(text, sl, sc), _offset(text, el, ec)
                text = text[:start] + new + text[end:]
                version += 1
                rng = types.Range(types.Position(sl, sc), types.Position(el, ec))
                client.text_document_did_change(
                    types.DidChangeTextDocumentParams(
                        types.VersionedTextDocumentIdentifier(version=version, uri=uri),
                        [types.TextDocumentContentChangePartial(range=rng, text=new)],
                    )
                )
            print(f"\n{paint(BOLD, f'step {number}:')} {step.get('say', '')} ({len(edits)} keystrokes)", file=out)
            sent = time.perf_counter()
            result = plain_json(
                await client.protocol.send_request_async(
                    "textDocument/copilotInlineEdit",
                    {"textDocument": {"uri": uri, "version": version}, "position": {"line": line, "character": character}},
                )
            )
            round_trip = (time.perf_counter() - sent) * 1000
            items = (result or {}).get("edits") or []
            if not items:
                last = statuses[-1] if statuses else {}
                why = (result or {}).get("reason") or (last.get("lastError") or {}).get("message")
                print(paint(DIM, f"  no suggestion ({why or 'the model proposed no edit'}); {round_trip:.0f} ms"), file=out)
                continue
            shown += 1
            item = items[0]
            r = item["range"]
            start = _offset(text, r["start"]["line"], r["start"]["character"])
            end = _offset(text, r["end"]["line"], r["end"]["character"])
            after = text[:start] + item["text"] + text[end:]
            print(colour_diff(text, after, session["path"], colour), file=out)
            timing = item.get("timing") or {}
            parts = ", ".join(
                f"{k} {v:.0f} ms" for k, v in timing.items() if k in ("tokenize", "prefill", "decode", "parse", "total", "daemon")
            )
            print(paint(DIM, f"  latency: {parts}; round trip {round_trip:.0f} ms"), file=out)
        status = statuses[-1] if statuses else {}
        print(
            f"\n{shown} suggestion(s) in {len(session['steps'])} steps from {status.get('model') or 'the model'}"
            f" on {status.get('device') or 'cpu'}.",
            file=out,
        )
        if status.get("trained") is False:
            print(
                "This pack is the untrained base model (its manifest says trained: false): it knows the prompt format "
                "but was never taught to edit, so it suggests little or nothing useful until a trained pack is used "
                "(see docs/daemon.md).",
                file=out,
            )
        await client.shutdown_async(None)
        client.exit(None)
        await asyncio.wait_for(client._server.wait(), timeout=10)
    finally:
        if client._server is not None and client._server.returncode is None:
            client._server.kill()  # an error above: do not wait for a daemon that was never told to exit
        await client.stop()
    return 0


def run_demo(args: argparse.Namespace) -> int:
    """Raises DemoError (the CLI prints it as `zeta2-daemon: error: demo: ...`)."""
    from .models import bootstrap_hint, resolve_default_pack

    model = getattr(args, "model", None)
    pack = Path(model).expanduser() if model else resolve_default_pack()
    if not (pack / "manifest.json").exists():
        raise DemoError(bootstrap_hint(pack))
    return asyncio.run(replay(args))
