"""End to end: the real `zeta2-daemon` subprocess, the tiny test pack, the scripted sessions.

Every test asserts the exact suggestion (text and range) the tiny pack gives for a session of
tests/fixtures/sessions, then drives what an editor does with it: show, accept, reject, partial
accept, typing through it, cursor moves, diagnostics, cancellation, configuration changes, A/B with
two packs, and opt-in capture (with capture off, no code or text is written anywhere).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "daemon"))
from daemon_client import Daemon, _plain, start_daemon, stop_daemon  # noqa: E402

pytestmark = pytest.mark.e2e

SESSIONS = Path(__file__).resolve().parent.parent / "fixtures" / "sessions"
SESSION_NAMES = sorted(p.stem for p in SESSIONS.glob("*.json"))
# A real MIT license text, so the workspace is eligible for capture.
MIT = (Path(__file__).resolve().parent.parent / "capture" / "fixtures" / "licenses" / "MIT.txt").read_text(encoding="utf-8")


def load(name: str) -> dict:
    return json.loads((SESSIONS / f"{name}.json").read_text(encoding="utf-8"))


def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "LICENSE").write_text(MIT, encoding="utf-8")
    return root


async def replay(d: Daemon, root: Path, s: dict) -> tuple[str, int]:
    """Opens the session's file and types its edits, one didChange each; returns (uri, version)."""
    uri = (root / s["path"]).as_uri()
    d.open(uri, s["initial"], s["language"])
    d.notify("textDocument/didFocus", {"textDocument": {"uri": uri}})
    version = 1
    for edit in s["edits"]:
        version += 1
        d.change(uri, version, [edit])
        d.notify("zeta2/cursor", {"textDocument": {"uri": uri}, "position": edit["range"]["end"]})
    return uri, version


async def suggest(d: Daemon, uri: str, version: int, position: dict) -> dict | None:
    result = await d.inline_edit(uri, version, position["line"], position["character"])
    edits = result["edits"]
    assert len(edits) <= 1
    return edits[0] if edits else None


async def usage_records(tmp_path: Path, d: Daemon | None = None) -> list[dict]:
    """The usage log the daemon wrote; a ping first makes sure every queued record is on disk."""
    from zeta2_capture.usage import UsageLog

    if d is not None:
        await d.request("zeta2/ping", {})

    log = UsageLog(path=tmp_path / "data" / "usage.sqlite3", enabled=True)
    try:
        return list(log.records())
    finally:
        log.close()


async def start(tmp_path: Path, pack: Path, root: Path, *extra: str, **options) -> Daemon:
    init = {"debounceMs": 0, "deadlineMs": 60_000, "installationId": "test-install", **options}
    return await start_daemon(tmp_path, "--model", str(pack), "--no-index", *extra, init_options=init, root=root)


@pytest.mark.parametrize("name", SESSION_NAMES)
async def test_session_gives_the_exact_suggestion_then_accept(tmp_path, tiny_pack, name):
    s = load(name)
    root = workspace(tmp_path)
    d = await start(tmp_path, tiny_pack, root)
    try:
        uri, version = await replay(d, root, s)
        item = await suggest(d, uri, version, s["cursor"])
        assert item is not None, f"no suggestion; status {d.status}"
        assert item["text"] == s["expected"]["edit"]["text"]
        assert item["range"] == s["expected"]["edit"]["range"]
        assert item["textDocument"] == {"uri": uri, "version": version}
        assert item["command"]["command"] == "zeta2.accept"
        sid = item["command"]["arguments"][0]
        d.notify("textDocument/didShowInlineEdit", {"item": item})
        requests = (await d.request("zeta2/ping", {}))["counters"]["requests"]
        assert await d.accept(sid) is True
        # The editor applies the accepted edit; the daemon then prefetches the next suggestion by itself.
        d.change(uri, version + 1, [{"range": item["range"], "text": item["text"]}])
        await d.wait_ping(lambda p: p["counters"]["requests"] == requests + 1 and p["pending"] == 0, what="the prefetch")
        events = [(r["event"], r.get("id")) for r in await usage_records(tmp_path, d)]
        assert ("suggested", sid) in events and ("shown", sid) in events and ("accepted", sid) in events
        assert d.status["model"] == "zeta2-tiny-test@0.1.0" and d.status["trained"] is True
    finally:
        await stop_daemon(d)


@pytest.mark.parametrize("name", SESSION_NAMES)
async def test_nothing_typed_gives_no_suggestion(tmp_path, tiny_pack, name):
    s = load(name)
    root = workspace(tmp_path)
    d = await start(tmp_path, tiny_pack, root)
    try:
        uri = (root / s["path"]).as_uri()
        d.open(uri, s["initial"], s["language"])
        for state in s["no_edit"]:
            result = await d.inline_edit(uri, 1, state["cursor"]["line"], state["cursor"]["character"])
            assert result["edits"] == []
            # The pack answers "no edit" (the same marker twice): a no-op, never shown.
            assert result["reason"] == "suppressed: no-op", result
    finally:
        await stop_daemon(d)


async def test_typing_through_reject_and_partial_accept(tmp_path, tiny_pack):
    s = load("go-add-argument")
    root = workspace(tmp_path)
    d = await start(tmp_path, tiny_pack, root)
    try:
        uri, version = await replay(d, root, s)
        item = await suggest(d, uri, version, s["cursor"])
        assert item["text"] == ", true" and item["range"]["start"] == {"line": 9, "character": 27}
        sid = item["id"]
        before = (await d.request("zeta2/ping", {}))["counters"]
        # The user jumps to the suggestion and types its first character: answered from the cache.
        d.change(uri, version + 1, [{"range": {"start": {"line": 9, "character": 27}, "end": {"line": 9, "character": 27}}, "text": ","}])
        item2 = await suggest(d, uri, version + 1, {"line": 9, "character": 28})
        assert item2["text"] == " true" and item2["id"] == sid
        assert item2["range"] == {"start": {"line": 9, "character": 28}, "end": {"line": 9, "character": 28}}
        # At the same state, inline completion shows it as ghost text at the cursor.
        ghost = await d.client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=9, character=28),
                context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic),
            )
        )
        items = ghost.items if hasattr(ghost, "items") else ghost
        assert [(i.insert_text, i.range.start.character, i.range.end.character) for i in items] == [(" true", 28, 28)]
        after = (await d.request("zeta2/ping", {}))["counters"]
        assert after["cache_hits"] - before["cache_hits"] == 2  # no model call for either
        d.notify("zeta2/didPartiallyAccept", {"id": sid, "acceptedLength": 3})
        d.notify("zeta2/didReject", {"id": sid, "reason": "dismissed"})
        # Undo the typed comma: back to the state the rejected suggestion was made for, at a new version.
        d.change(uri, version + 2, [{"range": {"start": {"line": 9, "character": 27}, "end": {"line": 9, "character": 28}}, "text": ""}])
        await d.roundtrip()
        # Rejected: the model gives the same suggestion again, and it is not offered.
        assert await suggest(d, uri, version + 2, s["cursor"]) is None
        records = await usage_records(tmp_path, d)
        partial = [r for r in records if r["event"] == "partial"]
        rejected = [r for r in records if r["event"] == "rejected"]
        assert partial and partial[0]["id"] == sid and partial[0]["accepted_length"] == 3
        assert rejected and rejected[0]["reason"] == "dismissed"
        suppressed = [r for r in records if r["event"] == "suppressed"]
        assert suppressed and suppressed[-1]["reason"] == "rejected-before"
    finally:
        await stop_daemon(d)


async def test_inline_completion_is_empty_when_the_edit_is_off_the_cursor_line(tmp_path, tiny_pack):
    s = load("python-add-field")
    root = workspace(tmp_path)
    d = await start(tmp_path, tiny_pack, root)
    try:
        uri, version = await replay(d, root, s)
        result = await d.client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(**s["cursor"]),
                context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
            )
        )
        items = result.items if hasattr(result, "items") else result
        assert list(items) == []
        # ...while the next-edit method gives it (answered from the cache: same version and text).
        item = await suggest(d, uri, version, s["cursor"])
        assert item["text"] == s["expected"]["edit"]["text"]
    finally:
        await stop_daemon(d)


async def test_diagnostics_and_stale_versions(tmp_path, tiny_pack):
    s = load("rust-widen-field")
    root = workspace(tmp_path)
    d = await start(tmp_path, tiny_pack, root)
    try:
        uri, version = await replay(d, root, s)
        d.notify(
            "zeta2/diagnostics",
            {"textDocument": {"uri": uri}, "diagnostics": [
                {"range": {"start": {"line": 2, "character": 4}, "end": {"line": 2, "character": 9}},
                 "severity": 1, "message": "mismatched types", "source": "rustc"},
                {"range": "not a range", "message": 5},
            ]},
        )
        assert await suggest(d, uri, version - 1, s["cursor"]) is None  # an older version: dropped
        item = await suggest(d, uri, version, s["cursor"])
        assert (item["text"], item["range"]) == (s["expected"]["edit"]["text"], s["expected"]["edit"]["range"])
        pong = await d.request("zeta2/ping", {})
        assert pong["counters"]["stale"] == 1
    finally:
        await stop_daemon(d)


async def test_cancellation_and_newer_requests_displace_older(tmp_path, tiny_pack):
    s = load("javascript-add-step")
    root = workspace(tmp_path)
    # A 60 s debounce on a clock the test moves: requests wait until the test says time has passed.
    d = await start(tmp_path, tiny_pack, root, "--test-clock", debounceMs=60_000)
    try:
        uri, version = await replay(d, root, s)
        params = {"textDocument": {"uri": uri, "version": version}, "position": s["cursor"]}
        first = await d.request("textDocument/copilotInlineEdit", params)  # the first start is immediate
        assert first["edits"][0]["text"] == s["expected"]["edit"]["text"]
        # Type and delete a space: same text, new version, so the cache does not answer.
        cursor = s["cursor"]
        after = {"line": cursor["line"], "character": cursor["character"] + 1}
        d.change(uri, version + 1, [{"range": {"start": cursor, "end": cursor}, "text": " "}])
        d.change(uri, version + 2, [{"range": {"start": cursor, "end": after}, "text": ""}])
        params["textDocument"]["version"] = version + 2
        send = d.client.protocol.send_request_async
        # Within the debounce these wait; $/cancelRequest cancels one of them.
        w1 = asyncio.ensure_future(send("textDocument/copilotInlineEdit", params, msg_id="w1"))
        c1 = asyncio.ensure_future(send("textDocument/copilotInlineEdit", params, msg_id="c1"))
        await d.roundtrip()
        d.client.protocol.notify("$/cancelRequest", types.CancelParams(id="c1"))
        with pytest.raises(JsonRpcException, match="cancel"):
            await c1
        # Two more: at most 2 pending, so the oldest waiting one (w1) is displaced and answers empty at once.
        n1 = asyncio.ensure_future(send("textDocument/copilotInlineEdit", params, msg_id="n1"))
        await d.roundtrip()
        n2 = asyncio.ensure_future(send("textDocument/copilotInlineEdit", params, msg_id="n2"))
        assert _plain(await w1) == {"edits": [], "reason": "superseded by a newer request"}
        assert (await d.request("zeta2/ping", {}))["pending"] == 2 and not n1.done() and not n2.done()
        # 60 s later n1 starts; n2 must wait another 60 s after n1's start.
        await d.request("zeta2/test/advanceClock", {"seconds": 61})
        assert _plain(await n1)["edits"][0]["text"] == s["expected"]["edit"]["text"]
        assert not n2.done()
        await d.request("zeta2/test/advanceClock", {"seconds": 61})
        assert _plain(await n2)["edits"][0]["text"] == s["expected"]["edit"]["text"]
        assert (await d.request("zeta2/ping", {}))["pending"] == 0
    finally:
        await stop_daemon(d)


async def test_capture_off_writes_no_code_then_opt_in_writes_records_and_settles(tmp_path, tiny_pack):
    s = load("python-rename-parameter")
    root = workspace(tmp_path)
    d = await start(tmp_path, tiny_pack, root, "--test-clock")
    try:
        uri, version = await replay(d, root, s)
        item = await suggest(d, uri, version, s["cursor"])
        assert item["text"] == s["expected"]["edit"]["text"]
        d.notify("textDocument/didShowInlineEdit", {"item": item})
        await d.roundtrip()
        data = tmp_path / "data"
        assert not (data / "captures.sqlite3").exists()
        code_lines = [line.strip() for line in s["final"].splitlines() if len(line.strip()) > 8]
        for f in [p for p in data.rglob("*") if p.is_file()]:
            blob = f.read_bytes()
            for line in code_lines:
                assert line.encode() not in blob, f"{f} contains code: {line!r}"
        # Opt in for this session: the next shown suggestion becomes a capture record, and it settles.
        d.client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"zeta2": {"capture": {"enabled": True}}})
        )
        await d.wait_for(lambda: d.status.get("capture") is True, what="capture on in zeta2/status")
        d.change(uri, version + 1, [{"range": {"start": s["cursor"], "end": s["cursor"]}, "text": " "}])
        d.change(uri, version + 2, [{"range": {"start": s["cursor"], "end": {"line": s["cursor"]["line"], "character": s["cursor"]["character"] + 1}}, "text": ""}])
        item = await suggest(d, uri, version + 2, s["cursor"])
        assert item is not None and item["text"] == s["expected"]["edit"]["text"]
        d.notify("textDocument/didShowInlineEdit", {"item": item})
        advanced = await d.request("zeta2/test/advanceClock", {"seconds": 11})
        assert "Settled" in advanced["outcomes"]
        assert advanced["records"].get("shown") == 1 and advanced["records"].get("settled") == 1
        from zeta2_capture.store import CaptureStore

        with CaptureStore(data / "captures.sqlite3") as store:
            kinds = {kind: ex for _, ex in store.records() for kind in [ex.meta.get("kind")]}
        assert kinds["shown"].before == s["final"] and kinds["shown"].meta["prediction"]["new_text"] == item["text"]
        assert kinds["settled"].expected == s["final"]  # the user left the region as it was
        settled = [r for r in await usage_records(tmp_path, d) if r["event"] == "settled" and r["id"] == item["id"]]
        assert len(settled) == 1 and settled[0]["kept_rate"] == 0  # usage records every shown suggestion
    finally:
        await stop_daemon(d)


async def test_ab_two_packs_shares_and_per_file_stickiness(tmp_path, tiny_pack):
    from zeta2_daemon.ab import assign
    from zeta2_daemon.config import Variant

    other = tmp_path / "packs" / "tiny-b"
    shutil.copytree(tiny_pack, other)
    manifest = json.loads((other / "manifest.json").read_text())
    manifest["name"] = "zeta2-tiny-test-b"
    (other / "manifest.json").write_text(json.dumps(manifest))
    first = tmp_path / "packs" / "tiny-a"
    shutil.copytree(tiny_pack, first)
    variants = [Variant(str(first), 1.0, "tiny-a"), Variant(str(other), 3.0, "tiny-b")]
    sessions = [load(name) for name in SESSION_NAMES]
    # An installation id under which two session files land in different arms (the split is a pure
    # function of (installation id, path), so the test can compute it).
    install, a, b = next(
        (f"install-{n}", x, y) for n in range(100) for x in sessions for y in sessions
        if assign(f"install-{n}", x["path"], variants).label == "tiny-a"
        and assign(f"install-{n}", y["path"], variants).label == "tiny-b"
    )
    root = workspace(tmp_path)
    answers = []
    # One daemon per typed file: each starts with an empty edit history, as the tiny pack was trained.
    for typed, untouched in ((a, b), (b, a)):
        d = await start_daemon(
            tmp_path, "--ab", f"{first}=1", "--ab", f"{other}=3", "--no-index",
            init_options={"debounceMs": 0, "deadlineMs": 60_000, "installationId": install}, root=root,
        )
        try:
            uri, version = await replay(d, root, typed)
            item = await suggest(d, uri, version, typed["cursor"])
            assert (item["text"], item["range"]) == (typed["expected"]["edit"]["text"], typed["expected"]["edit"]["range"])
            answers.append((typed["path"], item["variant"]))
            # Stickiness: a new version of the same file is served by the same arm (no cache: new version).
            cursor = typed["cursor"]
            after = {"line": cursor["line"], "character": cursor["character"] + 1}
            d.change(uri, version + 1, [{"range": {"start": cursor, "end": cursor}, "text": " "}])
            d.change(uri, version + 2, [{"range": {"start": cursor, "end": after}, "text": ""}])
            again = await suggest(d, uri, version + 2, cursor)
            assert again is not None and again["variant"] == item["variant"] and not again["cached"]
            # The other file, opened but not typed in: no suggestion, but the request is logged under its arm.
            other_uri = (root / untouched["path"]).as_uri()
            d.open(other_uri, untouched["initial"], untouched["language"])
            assert await suggest(d, other_uri, 1, untouched["no_edit"][0]["cursor"]) is None
            last = [r for r in await usage_records(tmp_path, d) if r["event"] in ("suppressed", "failed")][-1]
            answers.append((untouched["path"], last["variant"]))
        finally:
            await stop_daemon(d)
    assert answers == [
        (a["path"], "tiny-a"), (b["path"], "tiny-b"),  # daemon 1
        (b["path"], "tiny-b"), (a["path"], "tiny-a"),  # daemon 2: the same arms after a restart
    ]
    suggested = [r for r in await usage_records(tmp_path) if r["event"] == "suggested"]  # daemons stopped: all written
    assert {r["model"] for r in suggested} == {"zeta2-tiny-test@0.1.0", "zeta2-tiny-test-b@0.1.0"}


async def test_broken_and_deleted_packs_give_reasons_and_the_server_keeps_serving(tmp_path, tiny_pack):
    s = load("python-add-field")
    root = workspace(tmp_path)
    broken = tmp_path / "packs" / "truncated"
    shutil.copytree(tiny_pack, broken)
    model = broken / "model.onnx"
    model.write_bytes(model.read_bytes()[:1000])
    d = await start(tmp_path, broken, root)
    try:
        uri, version = await replay(d, root, s)
        assert await suggest(d, uri, version, s["cursor"]) is None
        error = await d.wait_for(lambda: d.status.get("lastError"), what="lastError")
        assert "model.onnx" in error["message"]
        # Switch to a good pack by configuration: suggestions come back.
        good = tmp_path / "packs" / "good"
        shutil.copytree(tiny_pack, good)
        d.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"model": str(good)}))
        await d.roundtrip()
        item = await suggest(d, uri, version, s["cursor"])
        assert item["text"] == s["expected"]["edit"]["text"]
        # Delete it while running, and point the daemon at the deleted folder again.
        shutil.rmtree(good)
        d.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"model": str(good) + "/"}))
        d.notify("zeta2/didReject", {"id": item["id"], "reason": "test"})
        await d.roundtrip()
        assert await suggest(d, uri, version, s["cursor"]) is None
        await d.wait_for(lambda: "zeta2-trainer bootstrap" in (d.status.get("lastError") or {}).get("message", ""),
                         what="a lastError saying how to build a pack")
        assert (await d.request("zeta2/ping", {}))["ok"] is True
    finally:
        await stop_daemon(d)
