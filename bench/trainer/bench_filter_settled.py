"""filter-settled with a real pack on examples of ../shared/data/dev.jsonl: samples/s and the kept band.

    .venv/bin/python bench/trainer/bench_filter_settled.py --pack ~/.local/share/zeta2/packs/default \\
        [--examples 50] [--samples 16] [--max-output-tokens N] [--device auto] [--time-limit S] [--compare K [--compare-samples M]]

Runs the real stage (`zeta2-trainer filter-settled`, speculative sampling) as a subprocess. With
--time-limit the stage is stopped after S seconds (it is resumable; what it finished is complete) and
the numbers cover the examples it finished, timed to the moment the last one was written.
--compare K first draws the same samples per example on the first K examples in this process, once
with the old sampler (one token per forward, `speculate=False`) and once with speculative sampling, and
prints both side by side (different random streams, same distribution).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def compare(args: argparse.Namespace) -> None:
    from zeta2_capture.schema import read_examples
    from zeta2_daemon.predictor import Predictor
    from zeta2_daemon.sampling import sample

    predictor = Predictor(args.pack, device=args.device)
    cap = args.max_output_tokens or predictor.max_output_tokens
    n = args.compare_samples or args.samples
    for example in itertools.islice(read_examples(args.data), args.compare):
        prompt = predictor.renderer.render_prompt(example).token_ids
        for name, kwargs in [("sequential", {"speculate": False}), ("speculative", {"speculate": True})]:
            t0 = time.perf_counter()
            samples, stats = sample(predictor.runtime, prompt, n=n, temperature=0.8, top_p=0.95, seed=0,
                                    max_new_tokens=cap, stop_ids=predictor.stop_ids, **kwargs)
            wall = time.perf_counter() - t0
            tokens = sum(len(s.tokens) for s in samples)
            print(json.dumps({
                "compare": name, "id": example.id, "prompt_tokens": len(prompt), "samples": n, "wall_s": round(wall, 1),
                "prefill_s": round(stats.prefill_ms / 1000, 1), "decode_s": round(stats.decode_ms / 1000, 1),
                "samples_per_s": round(n / wall, 3), "output_tokens": tokens,
                "decode_tokens_per_s": round(tokens / (stats.decode_ms / 1000), 1), "forwards": stats.forwards,
                "tokens_per_forward": round(stats.tokens_per_forward, 2), "capped": sum(s.stop == "cap" for s in samples),
                "load_avg_1m": round(os.getloadavg()[0], 2),
            }), flush=True)


def count_lines(*paths: Path) -> int:
    return sum(sum(1 for _ in p.open()) for p in paths if p.exists())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pack", required=True)
    parser.add_argument("--examples", type=int, default=50)
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--max-output-tokens", type=int, default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "dev.jsonl"))
    parser.add_argument("--band", default="0.05,0.6")
    parser.add_argument("--time-limit", type=float, default=None, help="stop the stage after this many seconds")
    parser.add_argument("--compare", type=int, default=0, help="first compare the old and new sampler on this many examples")
    parser.add_argument("--compare-samples", type=int, default=None, help="samples per example in the comparison (default --samples)")
    args = parser.parse_args()
    if args.compare:
        compare(args)
    with tempfile.TemporaryDirectory() as tmp:
        inp, out, report = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl", Path(tmp) / "report.json"
        rejects = Path(tmp) / "out.rejects.jsonl"
        with open(args.data, encoding="utf-8") as src:
            inp.write_text("".join(itertools.islice(src, args.examples)), encoding="utf-8")
        cmd = [sys.executable, "-m", "zeta2_trainer.cli", "filter-settled", "-i", str(inp), "-o", str(out), "--pack", args.pack,
               "--samples", str(args.samples), "--device", args.device, "--band", args.band, "--report", str(report), "--no-progress"]
        if args.max_output_tokens:
            cmd += ["--max-output-tokens", str(args.max_output_tokens)]
        load0 = os.getloadavg()[0]
        loads = []
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        done, last_done_at, stopped = 0, t0, False
        while proc.poll() is None:
            time.sleep(2)
            loads.append(os.getloadavg()[0])
            now = count_lines(out, rejects)
            if now != done:
                done, last_done_at = now, time.perf_counter()
                print(f"{done} examples done at {last_done_at - t0:.0f} s (load {loads[-1]:.2f})", file=sys.stderr, flush=True)
            if args.time_limit and time.perf_counter() - t0 > args.time_limit:
                proc.terminate()
                stopped = True
                proc.wait()
        stderr = proc.stderr.read() if proc.stderr else ""
        wall = time.perf_counter() - t0
        if not stopped:
            if proc.returncode:
                sys.exit(f"filter-settled failed:\n{stderr}")
            print(stderr.strip())
            last_done_at = time.perf_counter()
        rows = [json.loads(line)["meta"]["filter"] for path in (out, rejects) if path.exists() for line in path.open()]
        done = len(rows)
        span = last_done_at - t0
        verdicts = [r.get("verdict") for r in rows]
        decode = [r["decode"] for r in rows if "decode" in r]
        forwards = sum(d["forwards"] for d in decode)
        tokens = sum(d["output_tokens"] for d in decode)
        print(json.dumps({
            "examples_asked": args.examples, "examples_done": done, "stopped_at_time_limit": stopped, "samples": args.samples,
            "max_output_tokens": args.max_output_tokens, "wall_s": round(wall, 1), "wall_to_last_done_s": round(span, 1),
            "examples_per_s": round(done / span, 4), "samples_per_s": round(done * args.samples / span, 3),
            "kept": verdicts.count("kept"), "trivial": verdicts.count("trivial"), "out_of_reach": verdicts.count("out of reach"),
            "examples_with_distinct_samples": sum(r.get("distinct", 0) > 1 for r in rows),
            "unusable_samples": sum(r.get("unusable", 0) for r in rows),
            "output_tokens": tokens, "capped_samples": sum(d["capped"] for d in decode),
            "looped_samples": sum(d.get("looped", 0) for d in decode),
            "decode_forwards": forwards, "output_tokens_per_forward": round((tokens - len(decode) * args.samples) / forwards, 2) if forwards else None,
            "prefill_s": round(sum(d["prefill_ms"] for d in decode) / 1000, 1), "decode_s": round(sum(d["decode_ms"] for d in decode) / 1000, 1),
            "load_avg_1m_start": round(load0, 2), "load_avg_1m_mean": round(sum(loads) / len(loads), 2) if loads else None,
            "load_avg_1m_max": round(max(loads), 2) if loads else None,
        }))


if __name__ == "__main__":
    main()
