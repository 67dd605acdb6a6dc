"""`zeta2-trainer filter-settled -i settled.jsonl -o kept.jsonl --pack PACK`: keep the useful middle.

Settled captures are noisy labels. For each one the student (through the daemon's own Predictor) draws
`--samples` predictions (default 16); each is compared with the settled region by Levenshtein distance
(rapidfuzz), normalised by the longer of the two regions. The example is kept when the `--statistic`
(median by default) of those distances lies in the band `--band LO,HI` (default 0.05,0.6): below it
the student already solves the example (trivial), above it the label is out of the student's reach
(often noise: the user did something unrelated). Distances go to `meta.filter`; examples outside the
band go to the rejects file with the reason; `--report` gets the counts and a histogram of the statistic
with the band marked, over everything in the output and rejects files (so it is complete after a resume).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

STATISTICS = ("median", "mean", "min")


def parse_band(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--band must be LO,HI like 0.05,0.6, got {text!r}") from None
    if not 0 <= lo <= hi <= 1:
        raise argparse.ArgumentTypeError(f"--band needs 0 <= LO <= HI <= 1, got {text!r}")
    return lo, hi


def make_parser(parser: argparse.ArgumentParser) -> None:
    from .common import add_io_args

    add_io_args(parser, rejects=True)
    parser.add_argument("--pack", required=True, help="the student's model pack folder")
    parser.add_argument("--samples", type=int, default=16, help="student samples per example (default 16)")
    parser.add_argument("--temperature", type=float, default=0.8, help="sampling temperature (default 0.8)")
    parser.add_argument("--top-p", type=float, default=0.95, help="nucleus sampling mass (default 0.95)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    parser.add_argument("--band", type=parse_band, default=(0.05, 0.6), metavar="LO,HI", help="keep examples whose distance statistic is in [LO, HI] (default 0.05,0.6)")
    parser.add_argument("--statistic", choices=STATISTICS, default="median", help="which statistic of the samples' distances meets the band (default median)")
    parser.add_argument("--device", default="auto", help="onnxruntime device: auto, cuda or cpu (default auto)")
    parser.add_argument("--max-output-tokens", type=int, default=None, help="cap on each sample's length (default: the pack's)")
    parser.add_argument("--report", default=None, help="JSON report with counts and the histogram of the statistic")


def region_texts(before: str, other: str, start: int, end: int) -> str:
    """The region [start, end) of `before` as `other` (a full text after an edit inside it) has it."""
    return other[start : end + len(other) - len(before)] if len(other) >= start else other


def distances(example: Any, results: list[Any], settled: str) -> tuple[list[int], list[float], int]:
    from rapidfuzz.distance import Levenshtein

    layout = next((r.prompt.layout for r in results if r.prompt is not None), None)
    start, end = (layout.start, layout.end) if layout is not None else (0, len(example.before))
    target = region_texts(example.before, settled, start, end)
    raw, norm, failed = [], [], 0
    for r in results:
        predicted = r.predicted
        if predicted is None:
            failed += 1  # an unusable answer suggests nothing: the region unchanged
            predicted = example.before
        guess = region_texts(example.before, predicted, start, end)
        d = Levenshtein.distance(guess, target)
        raw.append(d)
        norm.append(round(d / max(len(guess), len(target), 1), 4))
    return raw, norm, failed


def decode_info(results: list[Any]) -> dict[str, Any]:
    """How the samples were decoded (the stats are shared by all samples of one example)."""
    first = results[0]
    return {
        "output_tokens": sum(len(r.output_tokens) for r in results),
        "capped": sum(r.stop == "cap" for r in results),
        "looped": sum(r.stop == "loop" for r in results),  # stopped by the predictor's loop guard
        "forwards": first.forwards,
        "tokens_per_forward": round(first.tokens_per_forward, 3),
        "prefill_ms": round(first.timings.prefill_ms, 1),
        "decode_ms": round(first.timings.decode_ms, 1),
    }


def summarize(values: list[float], how: str) -> float:
    if how == "median":
        return float(statistics.median(values))
    if how == "mean":
        return float(statistics.fmean(values))
    return float(min(values))


def histogram(values: list[float], band: tuple[float, float], bins: int = 20) -> dict[str, Any]:
    edges = [round(i / bins, 4) for i in range(bins + 1)]
    counts = [0] * bins
    for v in values:
        counts[min(int(v * bins), bins - 1)] += 1
    return {"edges": edges, "counts": counts, "band": list(band)}


def ascii_histogram(hist: dict[str, Any], width: int = 40) -> str:
    peak = max(hist["counts"]) or 1
    lo, hi = hist["band"]
    lines = []
    for i, count in enumerate(hist["counts"]):
        left, right = hist["edges"][i], hist["edges"][i + 1]
        mark = "*" if right > lo and left <= hi else " "
        lines.append(f"{left:4.2f}-{right:4.2f} {mark} {'#' * round(width * count / peak)} {count}")
    return "\n".join(lines)


def write_report(args: argparse.Namespace, io: Any) -> None:
    values, kept, below, above = [], 0, 0, 0
    for path in (args.output, io.rejects_path):
        if not path or path == "-" or not Path(path).exists():
            continue
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            info = (json.loads(line).get("meta") or {}).get("filter")
            if not info or "statistic" not in info:
                continue
            values.append(info["statistic"])
            kept += info["verdict"] == "kept"
            below += info["verdict"] == "trivial"
            above += info["verdict"] == "out of reach"
    hist = histogram(values, args.band)
    report = {
        "statistic": args.statistic,
        "band": list(args.band),
        "samples": args.samples,
        "examples": len(values),
        "kept": kept,
        "trivial": below,
        "out_of_reach": above,
        "histogram": hist,
    }
    Path(args.report).parent.mkdir(parents=True, exist_ok=True)
    Path(args.report).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"filter-settled: {args.statistic} distance to the settled region (* = kept band {args.band[0]}..{args.band[1]}):", file=sys.stderr)
    print(ascii_histogram(hist), file=sys.stderr)


def main(args: argparse.Namespace) -> int:
    from .common import StageError, StageIO, read_input, with_meta

    if args.samples < 1:
        raise StageError(f"--samples must be at least 1, got {args.samples}")
    if not Path(args.pack).is_dir():
        raise StageError(f"model pack {args.pack} does not exist")
    from zeta2_daemon.pack import PackError
    from zeta2_daemon.predictor import Predictor

    try:
        predictor = Predictor(args.pack, device=args.device)
    except PackError as exc:
        raise StageError(f"cannot load the model pack: {exc}") from None
    lo, hi = args.band
    with StageIO("filter-settled", args) as io:
        for example in read_input(args.input, io):
            if not io.wants(example.id):
                continue
            if example.expected is None:
                io.reject(with_meta(example, filter={"error": "no settled label"}), "no settled label")
                continue
            results = predictor.sample(example, args.samples, args.temperature, args.top_p, args.seed, max_output_tokens=args.max_output_tokens)
            raw, norm, failed = distances(example, results, example.expected)
            value = summarize(norm, args.statistic)
            verdict = "trivial" if value < lo else "out of reach" if value > hi else "kept"
            info = {
                "model": predictor.model_name,
                "samples": len(results),
                "distinct": len({r.predicted for r in results}),
                "unusable": failed,
                "distances": raw,
                "normalized": norm,
                "statistic": round(value, 4),
                "verdict": verdict,
                "decode": decode_info(results),
            }
            if verdict == "kept":
                io.write(with_meta(example, filter=info))
            else:
                io.reject(with_meta(example, filter=info), verdict)
        io.summary.notes["band"] = f"{lo}..{hi} ({args.statistic})"
    if args.report:
        write_report(args, io)
    return 0
