"""The Neovim plugin in a real headless nvim against the real zeta2-daemon."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

# A real MIT license text, so the workspace is eligible for capture.
LICENSE_MIT = (Path(__file__).resolve().parent.parent / "capture" / "fixtures" / "licenses" / "MIT.txt").read_text(encoding="utf-8")


def make_workspace(root: Path, path: str, text: str) -> Path:
    (root / ".git").mkdir(parents=True, exist_ok=True)
    (root / "LICENSE").write_text(LICENSE_MIT)
    file = root / path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text)
    return file


def daemon_cmd(log_file: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "zeta2_daemon.cli", "--log-file", str(log_file), "-vv", *args]


def test_status_health_commands_and_forwarding_without_a_pack(run_scenario, tmp_path):
    ws = tmp_path / "ws"
    file = make_workspace(
        ws, "src/point.py", "class Point:\n    def __init__(self, x, y):\n        self.x = q\n"
    )
    log = tmp_path / "daemon.log"
    env = {
        "ZETA2_TEST_CMD": json.dumps(daemon_cmd(log)),
        "ZETA2_TEST_FILE": str(file),
        "ZETA2_DATA_DIR": str(tmp_path / "data"),
        "ZETA2_PACK_DIR": str(tmp_path / "no-default-pack"),
    }
    out = run_scenario("daemon_status", env=env, cwd=ws).result
    pack = tmp_path / "no-default-pack"

    assert out["first_status"]["capture"] is False
    assert "zeta2-trainer bootstrap" in out["first_status"]["lastError"]["message"]
    health = out["health"]
    assert "OK Neovim 0.11" in health
    assert (
        f"OK daemon executable found: {sys.executable}" in health or "OK daemon executable found: " in health
    )
    assert f"OK daemon running (client 1) in {ws}" in health
    assert (
        f"ERROR model pack no-default-pack not loaded: no model pack at {pack}: run `zeta2-trainer bootstrap`"
        in health
    )
    assert "capture: off" in health
    assert out["status_note"].startswith(
        "zeta2: suggestions enabled\ndaemon: client 1, model no-default-pack, device ?, capture off"
    )
    assert out["bogus_note"] == (
        "zeta2: unknown command ':Zeta2 bogus'; usage: :Zeta2 status | enable | disable | capture on | capture off | log"
    )
    assert out["disabled"] is False
    assert out["log_buffer"].startswith("-- zeta2 plugin log")
    assert out["pong"]["documents"] == 1
    assert out["tab_line"] == "    x"  # the Python ftplugin sets expandtab, softtabstop=4
    assert out["tab_maps"] == {
        "i": "zeta2: jump to / apply the suggestion",
        "n": "zeta2: jump to / apply the suggestion",
    }

    uri = file.as_uri()
    sent = {m["method"]: m["params"] for m in out["sent"]}  # the last of each
    assert sent["zeta2/cursor"] == {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 28}}
    assert sent["zeta2/diagnostics"] == {
        "textDocument": {"uri": uri},
        "diagnostics": [
            {
                "range": {"start": {"line": 2, "character": 8}, "end": {"line": 2, "character": 12}},
                "severity": 1,
                "message": "undefined name 'q'",
                "source": "pyright",
            }
        ],
    }

    # What reached the daemon (its own debug log of received notifications), in order.
    received = [
        line.split("Notification '")[1].split("'")[0]
        for line in log.read_text().splitlines()
        if "Notification '" in line
    ]
    assert received[:2] == ["initialized", "textDocument/didOpen"]
    assert "textDocument/didFocus" in received
    assert received.count("workspace/didChangeConfiguration") == 2  # capture on, capture off
    assert "zeta2/cursor" in received
    assert "zeta2/diagnostics" in received
    assert "$/cancelRequest" in received  # a newer request cancelled the older one
    assert out["cancelled_first"] is True


def test_requests_on_insert_leave_normal_change_and_insert_idle(run_scenario, tmp_path):
    ws = tmp_path / "ws"
    file = make_workspace(ws, "a.py", "\n")
    env = {
        "ZETA2_TEST_CMD": json.dumps(daemon_cmd(tmp_path / "daemon.log")),
        "ZETA2_TEST_FILE": str(file),
        "ZETA2_DATA_DIR": str(tmp_path / "data"),
        "ZETA2_PACK_DIR": str(tmp_path / "no-default-pack"),
    }
    out = run_scenario("triggers", env=env, cwd=ws).result
    assert out["line"] == "helal"
    assert out["asked"] == [
        {"mode": "n", "line": 0, "character": 4},  # InsertLeave after "hello": the cursor is on "o"
        {"mode": "n", "line": 0, "character": 3},  # "x" deleted the "o": a normal-mode change
        {"mode": "i", "line": 0, "character": 4},  # idle after typing "a" before the last "l"
        {"mode": "n", "line": 0, "character": 3},  # InsertLeave
    ]
