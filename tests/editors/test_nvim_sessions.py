"""Scripted editing sessions typed into a real headless nvim attached to the real zeta2-daemon serving
the tiny test pack: the exact suggestion's extmarks, Tab-jump and Tab-apply, partial accept, typing
through, and dismissal, with what reached the daemon checked in its usage log (`zeta2-capture export --usage`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from nvim_sessions import load_session, typing_keys
from test_nvim_daemon import daemon_cmd, make_workspace

pytestmark = pytest.mark.e2e


@pytest.fixture
def pack(request) -> Path:
    try:
        return Path(request.getfixturevalue("tiny_pack"))
    except pytest.FixtureLookupError:
        pytest.skip("the runtime's tiny_pack fixture (tests/conftest.py) is not available in this checkout")


def play(run_scenario, tmp_path: Path, pack: Path, name: str, flow: str, nearby_lines: int = 12):
    session = load_session(name)
    ws = tmp_path / "ws"
    file = make_workspace(ws, session["path"], session["initial"])
    log = tmp_path / "daemon.log"
    env = {
        "ZETA2_TEST_CMD": json.dumps(daemon_cmd(log, "--model", str(pack))),
        "ZETA2_TEST_FILE": str(file),
        "ZETA2_TEST_KEYS": typing_keys(session),
        "ZETA2_TEST_FLOW": flow,
        "ZETA2_DATA_DIR": str(tmp_path / "data"),
        "ZETA2_TEST_NEARBY": str(nearby_lines),
    }
    out = run_scenario("session", env=env, cwd=ws).result
    assert out["typed"] == session["final"], "the keys must type exactly the session's edits"
    return session, out, tmp_path / "data", file.as_uri()


def usage_events(data_dir: Path) -> list[dict]:
    """The daemon's usage log (metadata of each suggestion's fate), through `zeta2-capture export --usage`."""
    proc = subprocess.run(
        [sys.executable, "-m", "zeta2_capture.cli", "export", "--usage", "-o", "-"],
        env={**os.environ, "ZETA2_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def events(data_dir: Path, event: str) -> list[dict]:
    return [e for e in usage_events(data_dir) if e["event"] == event]


def sent(out, method: str) -> list:
    return [m["params"] for m in out["sent"] if m["method"] == method]


def test_python_add_field_shows_lines_below_then_tab_jumps_and_tab_applies(run_scenario, tmp_path, pack):
    session, out, data, uri = play(run_scenario, tmp_path, pack, "python-add-field", "accept")
    shown, jumped, applied = out["steps"]["shown"], out["steps"]["jumped"], out["steps"]["applied"]
    # the new line `        self.z = z` is drawn as a virtual line under line 4 (0-based 3), where it will go
    assert shown["kind"] == "diff"
    assert shown["mode"] == "i"
    assert shown["marks"] == [{"line": 3, "col": 0, "virt_lines": ["        self.z = z"]}]
    sid = shown["id"]
    assert sent(out, "textDocument/didShowInlineEdit")[0]["item"]["command"]["arguments"] == [sid]
    # Tab: the cursor jumps to the edit; nothing changes yet
    assert jumped["cursor"] == [4, 0]
    assert jumped["text"] == session["final"]
    # Tab again: the buffer is the expected text, and the accept command went to the daemon
    assert applied["text"] == session["expected"]["text"]
    assert {"command": "zeta2.accept", "arguments": [sid]} in sent(out, "workspace/executeCommand")
    assert sent(out, "zeta2/didReject") == []
    assert [e["id"] for e in events(data, "accepted")] == [sid]
    # :checkhealth with a loaded pack: the model and the device the daemon reports
    assert out["status"]["model"] and out["status"]["device"] in ("cpu", "cuda")
    assert f"OK model pack: {out['status']['model']}" in out["health"]
    assert f"OK device: {out['status']['device']}" in out["health"]
    assert "ERROR" not in out["health"]


def test_rust_widen_field_inline_diff_and_esc_dismisses(run_scenario, tmp_path, pack):
    session, out, data, uri = play(run_scenario, tmp_path, pack, "rust-widen-field", "dismiss")
    shown, dismissed = out["steps"]["shown"], out["steps"]["dismissed"]
    edit = session["expected"]["edit"]
    line, start, end = (
        edit["range"]["start"]["line"],
        edit["range"]["start"]["character"],
        edit["range"]["end"]["character"],
    )
    assert shown["kind"] == "diff"
    # the old text struck through, the new text right after it
    assert shown["marks"] == [
        {"line": line, "col": start, "end_line": line, "end_col": end, "hl": "Zeta2Delete"},
        {
            "line": line,
            "col": end,
            "virt_text": edit["text"],
            "virt_text_pos": "inline",
            "virt_hl": "Zeta2Insert",
        },
    ]
    # Esc: gone, insert mode left, buffer untouched, and the daemon got the rejection with its reason
    assert dismissed["marks"] == []
    assert dismissed["mode"] == "n"
    assert dismissed["text"] == session["final"]
    sid = shown["id"]
    assert sent(out, "zeta2/didReject") == [{"id": sid, "reason": "dismissed"}]
    assert [(e["id"], e["reason"]) for e in events(data, "rejected")] == [(sid, "dismissed")]


def test_go_add_argument_far_edit_jump_hint_then_partial_accept_by_word_then_the_rest(
    run_scenario, tmp_path, pack
):
    # nearby_lines = 3: the edit 5 lines below the cursor counts as far, so it gets a sign and a jump hint
    session, out, data, uri = play(run_scenario, tmp_path, pack, "go-add-argument", "partial", nearby_lines=3)
    steps = out["steps"]
    edit = session["expected"]["edit"]  # ", true" inserted at line 9
    line, col = edit["range"]["start"]["line"], edit["range"]["start"]["character"]
    cursor_line = session["cursor"]["line"]
    assert steps["shown"]["kind"] == "jump"
    assert steps["shown"]["marks"] == [
        {
            "line": cursor_line,
            "col": 0,
            "virt_text": f" ↓ Tab: edit at line {line + 1}",
            "virt_text_pos": "eol",
            "virt_hl": "Zeta2Hint",
        },
        {"line": line, "col": 0, "sign": "Z>"},
        {
            "line": line,
            "col": col,
            "virt_text": ", true",
            "virt_text_pos": "inline",
            "virt_hl": "Zeta2Insert",
        },
    ]
    # after the jump the insertion is at the cursor: ghost text
    assert steps["jumped"]["kind"] == "ghost"
    assert steps["jumped"]["cursor"] == [line, col]
    # one word: "," is applied, " true" stays as ghost text after the cursor
    assert steps["word"]["marks"] == [
        {
            "line": line,
            "col": col + 1,
            "virt_text": " true",
            "virt_text_pos": "inline",
            "virt_hl": "Zeta2Ghost",
        }
    ]
    sid = steps["shown"]["id"]
    assert sent(out, "zeta2/didPartiallyAccept") == [{"id": sid, "acceptedLength": 1}]
    assert steps["rest"]["text"] == session["expected"]["text"]
    assert {"command": "zeta2.accept", "arguments": [sid]} in sent(out, "workspace/executeCommand")
    assert [(e["id"], e["accepted_length"]) for e in events(data, "partial")] == [(sid, 1)]
    assert [e["id"] for e in events(data, "accepted")] == [sid]


def test_typescript_typing_through_keeps_it_and_contradicting_rejects_it(run_scenario, tmp_path, pack):
    session, out, data, uri = play(run_scenario, tmp_path, pack, "typescript-add-property", "typethrough")
    steps = out["steps"]
    edit = session["expected"]["edit"]  # ', email: ""' at line 7
    line, col = edit["range"]["start"]["line"], edit["range"]["start"]["character"]
    assert steps["shown"]["suggestion_text"] == edit["text"]
    assert steps["jumped"]["cursor"] == [line, col]
    # typing "," (the suggestion's first character) keeps the rest as ghost text, same suggestion
    assert steps["typed_through"]["id"] == steps["shown"]["id"]
    assert steps["typed_through"]["suggestion_text"] == edit["text"][1:]
    assert steps["typed_through"]["marks"][0]["col"] == col + 1
    # typing "x" contradicts it: rejected with the reason
    assert steps["contradicted"]["marks"] == []
    assert {"id": steps["shown"]["id"], "reason": "typed"} in sent(out, "zeta2/didReject")
    assert (steps["shown"]["id"], "typed") in [(e["id"], e["reason"]) for e in events(data, "rejected")]
