"""The shared stage machinery: shards, resuming after a cut line, the progress bar on a terminal only."""

from __future__ import annotations

import argparse
import os
import pty
import subprocess
import sys

import pytest

from zeta2_capture.schema import Example, write_jsonl
from zeta2_trainer.stages.common import Shard, ids_in, parse_shard


def test_shards_partition_ids():
    ids = [f"repo@{i:07d}:f.py#0" for i in range(300)]
    owners = [[s for s in range(1, 4) if Shard(s, 3).owns(i)] for i in ids]
    assert all(len(o) == 1 for o in owners)
    sizes = [sum(o == [s] for o in owners) for s in range(1, 4)]
    assert min(sizes) > 60  # roughly even
    assert parse_shard("2/3") == Shard(2, 3)
    for bad, message in (("0/3", "needs 1 <= K <= N"), ("a/b", "whole numbers"), ("3", "whole numbers")):
        with pytest.raises(argparse.ArgumentTypeError, match=message):
            parse_shard(bad)


def test_a_line_cut_by_a_kill_is_dropped_on_resume(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "a"}\n{"id": "b"}\n{"id": "c", "bef')
    assert ids_in(out) == {"a", "b"}
    assert out.read_text() == '{"id": "a"}\n{"id": "b"}\n'  # ready to append


def _run_on_pty(argv: list[str]) -> str:
    """Runs a command with stderr on a pseudo-terminal; returns what it printed there."""
    import fcntl
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal has a size
    proc = subprocess.Popen(argv, stderr=follower, stdout=subprocess.DEVNULL)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait()
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


def test_progress_bar_only_on_a_terminal(tmp_path):
    inp = tmp_path / "in.jsonl"
    write_jsonl(inp, [Example(id=f"r@{i:07d}:a.py#0", path="a.py", language="python", before="x = 1\n", cursor=0, expected="x = 2\n",
                              meta={"kind": "manual", "repo": f"r{i % 4}", "committed_at": "2024-01-01T00:00:00+00:00"}) for i in range(5)])
    argv = [sys.executable, "-m", "zeta2_trainer.cli", "ingest", "-i", str(inp), "-o", str(tmp_path / "o.jsonl"), "--kinds", "manual"]
    on_tty = _run_on_pty(argv)
    assert "ex/s]" in on_tty  # tqdm's rate
    assert "ingest: read 5" in on_tty
    piped = subprocess.run(argv[:-4] + ["-o", str(tmp_path / "p.jsonl")], capture_output=True, text=True, check=True)
    assert "ex/s" not in piped.stderr and piped.stderr.startswith("ingest: read 5")
