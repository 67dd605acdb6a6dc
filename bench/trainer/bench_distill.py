"""distill throughput against the loopback teacher with simulated latency (default 100 ms per request).

With latency L and C requests in flight the ceiling is C / L examples/s (16 / 0.1 s = 160/s); the gap is
prompt rendering, parsing and writing on this machine's CPUs.

    .venv/bin/python bench/trainer/bench_distill.py [--examples 400] [--latency 0.1] [--concurrency 4 16 32] [--server-nagle]

The loopback server answers with two writes (headers, then body); with Nagle's algorithm on its socket
(http.server's default) the body waits for the client's delayed ACK, about 40 ms on Linux, which a real
API does not add. This bench turns Nagle off on the server (TCP_NODELAY) so the simulated latency is
the one asked for; --server-nagle keeps http.server's default, as the bench ran before 2026-11-26.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "trainer"))

import loopback  # noqa: E402
from loopback import API_KEY, LoopbackServer  # noqa: E402

REGION = re.compile(r"<\|editable_region_start\|>(.*?)<\|editable_region_end\|>", re.S)


def answer(system: str, user: str) -> str:
    region = REGION.search(user, user.index("## Current file")).group(1).replace("<|user_cursor|>", "")
    return f"Continue the edit.\n\n```\n{region}# next\n```"


def examples(n: int, path: Path) -> None:
    from zeta2_capture.diffs import make_diff
    from zeta2_capture.schema import Event, Example, write_jsonl

    records = []
    for i in range(n):
        # every file differs, as in real data (no tokenizer work is shared between examples)
        old = "".join(f"def f{k}_{i}(total_{i}):\n    total_{i} = {k * i}\n    return total_{i}\n\n\n" for k in range(60))
        before = old.replace(f"    total_{i} = {30 * i}\n", f"    total_{i} = {30 * i}\n    total *= 2\n")
        p = f"pkg/m{i}.py"
        records.append(Example(id=f"bench@{i:07d}:{p}#0", path=p, language="python", before=before,
                               cursor=before.index("total *= 2") + 10, events=(Event(p, make_diff(old, before, p)),), expected=before))
    write_jsonl(path, records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=400)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[4, 16, 32])
    parser.add_argument("--tokenizer", default=str(REPO / ".cache" / "tests" / "smollm2-tokenizer" / "tokenizer.json"))
    parser.add_argument("--server-nagle", action="store_true", help="leave Nagle's algorithm on in the loopback server (~40 ms more per answer)")
    args = parser.parse_args()
    loopback.Handler.disable_nagle_algorithm = not args.server_nagle
    env = dict(os.environ, ANTHROPIC_API_KEY=API_KEY)
    with tempfile.TemporaryDirectory() as tmp, LoopbackServer(answer, latency=args.latency) as server:
        inp = Path(tmp) / "in.jsonl"
        examples(args.examples, inp)
        for c in args.concurrency:
            out = Path(tmp) / f"out{c}.jsonl"
            t0 = time.perf_counter()
            cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            done = subprocess.run(
                [sys.executable, "-m", "zeta2_trainer.cli", "distill", "-i", str(inp), "-o", str(out), "--base-url", server.anthropic_url,
                 "--no-cache", "--tokenizer", args.tokenizer, "--concurrency", str(c), "--no-progress"],
                env=env, capture_output=True, text=True, check=True,
            )
            wall = time.perf_counter() - t0
            cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
            n = sum(1 for _ in out.open())
            summary = done.stderr.strip().splitlines()[-1]
            print(summary)
            stage_s = float(re.search(r"in ([0-9.]+)s$", summary).group(1))  # without interpreter start-up
            print(json.dumps({"concurrency": c, "latency_s": args.latency, "examples": n, "wall_s": round(wall, 2),
                              "examples_per_s": round(n / wall, 1), "stage_s": stage_s, "stage_examples_per_s": round(n / stage_s, 1), "ceiling_per_s": round(c / args.latency, 1),
                              "distill_cpu_s": round(cpu, 2), "cpu_ms_per_example": round(1000 * cpu / max(n, 1), 1), "server_nagle": args.server_nagle,
                              "load_avg_1m": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
