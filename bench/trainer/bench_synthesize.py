"""synthesize throughput: examples/s and commits/s on a generated repository with thousands of commits.

    .venv/bin/python bench/trainer/bench_synthesize.py [--commits 3000] [--files 40]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen_repo import build  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=3000)
    parser.add_argument("--files", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "bench.git"
        t0 = time.perf_counter()
        build(repo, args.commits, args.files, seed=1)
        gen_s = time.perf_counter() - t0
        out = Path(tmp) / "examples.jsonl"
        t0 = time.perf_counter()
        cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(
            [sys.executable, "-m", "zeta2_trainer.cli", "synthesize", str(repo), "-o", str(out), "--no-progress"],
            capture_output=True, text=True, check=True,
        )
        wall = time.perf_counter() - t0
        cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        examples = sum(1 for _ in out.open())
        print(done.stderr.strip())
        print(json.dumps({
            "commits": args.commits,
            "files": args.files,
            "generate_s": round(gen_s, 2),
            "synthesize_s": round(wall, 2),
            "examples": examples,
            "examples_per_s": round(examples / wall, 1),
            "commits_per_s": round(args.commits / wall, 1),
            "synthesize_cpu_s": round(cpu, 2),  # synthesize and its git processes
            "load_avg_1m": os.getloadavg()[0],
        }))


if __name__ == "__main__":
    main()
