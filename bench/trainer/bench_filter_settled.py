"""filter-settled with a real pack on examples of ../shared/data/dev.jsonl: samples/s and the kept band.

    .venv/bin/zeta2-trainer bootstrap -o /tmp/smol          # the SmolLM2-135M base pack (once)
    .venv/bin/python bench/trainer/bench_filter_settled.py --pack /tmp/smol [--examples 50] [--samples 16]
        [--max-output-tokens N] [--device auto]

The issue's configuration is 50 examples x 16 samples; on a 2-core CPU an untrained base pack (which never
emits the end token, so every sample runs to the output cap) needs minutes per example, so pass a smaller
--examples/--max-output-tokens there and the full one on a GPU machine.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pack", required=True)
    parser.add_argument("--examples", type=int, default=50)
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--max-output-tokens", type=int, default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "dev.jsonl"))
    parser.add_argument("--band", default="0.05,0.6")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        inp, out, report = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl", Path(tmp) / "report.json"
        with open(args.data, encoding="utf-8") as src:
            inp.write_text("".join(itertools.islice(src, args.examples)), encoding="utf-8")
        cmd = [sys.executable, "-m", "zeta2_trainer.cli", "filter-settled", "-i", str(inp), "-o", str(out), "--pack", args.pack,
               "--samples", str(args.samples), "--device", args.device, "--band", args.band, "--report", str(report), "--no-progress"]
        if args.max_output_tokens:
            cmd += ["--max-output-tokens", str(args.max_output_tokens)]
        t0 = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - t0
        print(done.stderr.strip())
        data = json.loads(report.read_text())
        rows = [json.loads(line)["meta"]["filter"] for path in (out, Path(tmp) / "out.rejects.jsonl") if path.exists() for line in path.open()]
        distinct = sum(r.get("distinct", 0) > 1 for r in rows)
        print(json.dumps({
            "examples": args.examples, "samples": args.samples, "max_output_tokens": args.max_output_tokens, "wall_s": round(wall, 1),
            "examples_per_s": round(args.examples / wall, 3), "samples_per_s": round(args.examples * args.samples / wall, 2),
            "kept": data["kept"], "trivial": data["trivial"], "out_of_reach": data["out_of_reach"],
            "examples_with_distinct_samples": distinct,
            "unusable_samples": sum(r.get("unusable", 0) for r in rows),
        }))


if __name__ == "__main__":
    main()
