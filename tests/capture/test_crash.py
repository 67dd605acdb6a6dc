"""SIGKILL while writing captures, many times: no committed record is lost, the store always opens."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys

from zeta2_capture.store import CaptureStore

WRITER = r"""
import random, sys
from zeta2_capture.schema import Example
from zeta2_capture.store import CaptureStore
path, round_, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
store = CaptureStore(path, max_bytes=10**10)
print("ready", flush=True)
i = 0
while True:
    text = "x = 1\n" * rng.randint(1, 4000)
    ex = Example(f"r{round_}-{i}", "a.py", "python", text, 0, expected=text + "y\n")
    store.add(ex, "settled")
    print(ex.id, flush=True)  # printed only after the commit returned
    i += 1
"""


def test_sigkill_at_random_points_loses_no_committed_record(tmp_path):
    path = tmp_path / "captures.sqlite3"
    rng = random.Random(20261126)
    committed: list[str] = []
    for round_ in range(25):
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(round_), str(rng.randrange(10**6))],
            stdout=subprocess.PIPE, text=True,
        )
        assert child.stdout.readline().strip() == "ready"
        for _ in range(rng.randint(0, 12)):
            committed.append(child.stdout.readline().strip())
        child.send_signal(signal.SIGKILL)  # most likely in the middle of the next write
        rest = child.stdout.read()  # ids the child committed before the kill landed
        committed += [line for line in rest.splitlines() if line]
        child.wait(timeout=30)
        assert child.returncode == -signal.SIGKILL

        with CaptureStore(path) as store:  # opens after every crash
            stored = {ex.id for _, ex in store.records()}
            missing = [i for i in committed if i not in stored]
            assert not missing, f"round {round_}: committed but lost: {missing}"
            assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert len(committed) > 50
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM captures").fetchone()[0] >= len(committed)
    conn.close()
