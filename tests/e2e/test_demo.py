"""`zeta2-daemon demo` end to end: the real daemon subprocess, the bundled session, a real pack."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


def test_demo_replays_the_bundled_session(tmp_path, tiny_pack):
    env = dict(os.environ, ZETA2_DATA_DIR=str(tmp_path / "data"), NO_COLOR="1")
    result = subprocess.run(
        [sys.executable, "-m", "zeta2_daemon.cli", "demo", "--model", str(tiny_pack)],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("zeta2 demo: A person grows a small Python module")
    for step in ("step 1: add a `color` parameter to Circle.__init__ (7 keystrokes)",
                 "step 2: start a `perimeter` method below area() (41 keystrokes)",
                 "step 3: rename `describe` to `summary` where it is defined (8 keystrokes)"):
        assert step in out
    # Each step ends in either a diff with its latency line or "no suggestion (reason)".
    assert out.count("latency: ") + out.count("no suggestion (") == 3
    assert "in 3 steps from zeta2-tiny-test@0.1.0 on cpu." in out
    assert "\x1b[" not in out  # no colour when not a terminal
