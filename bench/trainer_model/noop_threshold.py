"""Tunes the predictor's `min_noop_probability` on dev examples that are NOT in the 100-example eval sample.

    .venv/bin/python bench/trainer_model/noop_threshold.py PACK ../shared/data/dev.jsonl runs/dev100.jsonl \
        runs/noop_tuning.jsonl [--every 5] [--max-output-tokens 640]

Decodes each tuning example once inside the answer grammar (threshold 0: plain greedy's choice). Where that
answer is "no edit", it records the model's probability of it and decodes the best edit instead (threshold 1).
Any threshold t then picks the edit where p(no edit) < t, so the sweep is computed offline from one file:
mean delta chrF, no-op rate and false-suggestion rate per threshold, printed as a table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def sweep(rows: list[dict], thresholds: list[float]) -> list[dict]:
    out = []
    for t in thresholds:
        chosen = [r["edit"] if r["p_noop"] is not None and r["p_noop"] < t and r["edit"] else r["greedy"] for r in rows]
        n = len(rows)
        out.append({
            "threshold": t,
            "delta_chrf": sum(c["delta_chrf"] for c in chosen) / n,
            "noop_rate": sum(c["noop"] for c in chosen) / n,
            "false_suggestions": sum((not c["noop"]) and r["expected_noop"] for c, r in zip(chosen, rows, strict=True))
            / max(1, sum(r["expected_noop"] for r in rows)),
        })
    return out


def add_tuning_arguments(parser: argparse.ArgumentParser) -> None:
    """The tuning set's arguments, shared with deviation_probe.py."""
    parser.add_argument("pack")
    parser.add_argument("dev")
    parser.add_argument("eval_sample", help="the eval sample to exclude (runs/dev100.jsonl)")
    parser.add_argument("output", help="per-example JSONL (resumable: ids already there are skipped)")
    parser.add_argument("--every", type=int, default=5, help="take every N-th remaining dev example")
    parser.add_argument("--threads", type=int, default=2)


def tuning_examples(args: argparse.Namespace) -> tuple[list, Path, set[str]]:
    """Every `--every`-th dev example outside the eval sample, the output file, and the ids already in it."""
    from zeta2_capture.schema import read_examples

    excluded = {json.loads(line)["id"] for line in open(args.eval_sample, encoding="utf-8")}
    examples = [ex for ex in read_examples(args.dev) if ex.id not in excluded][:: args.every]
    out = Path(args.output)
    done = {json.loads(line)["id"] for line in out.open(encoding="utf-8")} if out.exists() else set()
    return examples, out, done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_tuning_arguments(parser)
    parser.add_argument("--max-output-tokens", type=int, default=None)
    args = parser.parse_args()

    from zeta2_capture.metrics import delta_chrf
    from zeta2_daemon.predictor import Predictor

    examples, out, done = tuning_examples(args)
    predictor = Predictor(args.pack, threads=args.threads, max_output_tokens=args.max_output_tokens)

    def scored(result, ex) -> dict:
        predicted = result.predicted if result.predicted is not None else ex.before
        return {"delta_chrf": delta_chrf(ex.before, ex.expected, predicted), "noop": predicted == ex.before,
                "error": result.error, "output_tokens": len(result.output_tokens)}

    with out.open("a", encoding="utf-8") as f:
        for k, ex in enumerate(examples):
            if ex.id in done:
                continue
            predictor.min_noop_probability = 0.0  # plain greedy's choice
            first = predictor.predict(ex, reuse_prefix=False)
            row = {"id": ex.id, "kind": ex.meta.get("kind"), "expected_noop": ex.expected == ex.before,
                   "greedy": scored(first, ex), "p_noop": first.noop_probability if first.is_noop else None, "edit": None}
            if first.is_noop:
                predictor.min_noop_probability = 1.0  # no "no edit" survives: the best edit instead
                row["edit"] = scored(predictor.predict(ex, reuse_prefix=False), ex)
            f.write(json.dumps(row) + "\n")
            f.flush()
            print(f"{k + 1}/{len(examples)} {ex.id}: p_noop={row['p_noop']}", file=sys.stderr, flush=True)
    rows = [json.loads(line) for line in out.open(encoding="utf-8")]
    print(f"{len(rows)} tuning examples; p(no edit) where greedy chose no edit:",
          sorted(round(r["p_noop"], 2) for r in rows if r["p_noop"] is not None))
    print("| threshold | delta chrF | no-op rate | false suggestions |\n|---:|---:|---:|---:|")
    for s in sweep(rows, [0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]):
        print(f"| {s['threshold']:.1f} | {s['delta_chrf']:.2f} | {s['noop_rate']:.1%} | {s['false_suggestions']:.1%} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
