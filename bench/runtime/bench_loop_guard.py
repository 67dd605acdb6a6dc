"""Answers that never close: time with and without `LoopGuard`, and check that it spares real answers.

Run by hand (numbers go to docs/benchmarks.md, section "Runtime"):

    .venv/bin/python bench/runtime/bench_loop_guard.py --examples runs/capfail.jsonl \
        --replay runs/dev100.jsonl --predictions runs/eval/pred-gpu-grammar.jsonl runs/eval/pred-cursor.jsonl
    .venv/bin/python bench/runtime/bench_loop_guard.py --examples ../shared/data/dev.jsonl --limit 12 --sample 16

1. Timing: each example of `--examples` is predicted twice by the same predictor, the guard off then on
   (`Predictor(stop_loops=...)`, no prefix reuse), and the stop, answer tokens and time are printed.
   With `--sample N` each example is instead sampled N times (temperature 0.8, top-p 0.95, seed 0, as
   `filter-settled` does) with the guard off then on: the samples that loop, their tokens and the time.
2. Replay: for each example of `--replay`, its expected answer and every prediction of it in
   `--predictions` is rendered as the answer tokens the format would give (`render_target`), and fed to
   the guard one token at a time, as decoding would. A real answer must never trip it; a hit is printed
   with the repeated text so a reader can judge whether it is a loop.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import time
from collections import Counter
from pathlib import Path

DEFAULT_PACK = Path(os.path.expanduser("~/.local/share/zeta2/packs/default"))


def timing(predictor, examples) -> None:
    for example in examples:
        for guard in (False, True):
            predictor.stop_loops = guard
            r = predictor.predict(example, reuse_prefix=False)
            print(json.dumps({"id": example.id, "guard": guard, "stop": r.stop, "tokens": len(r.output_tokens),
                              "prefill_ms": round(r.timings.prefill_ms), "decode_ms": round(r.timings.decode_ms),
                              "total_ms": round(r.timings.total_ms)}))


def sampling(predictor, examples, n: int) -> None:
    totals = {False: [0, 0, 0.0, 0], True: [0, 0, 0.0, 0]}  # samples, tokens, seconds, stopped as loops
    for example in examples:
        for guard in (False, True):
            predictor.stop_loops = guard
            t0 = time.perf_counter()
            results = predictor.sample(example, n, seed=0)
            seconds = time.perf_counter() - t0
            stops = Counter(r.stop for r in results)
            tokens = sum(len(r.output_tokens) for r in results)
            total = totals[guard]
            total[0] += len(results)
            total[1] += tokens
            total[2] += seconds
            total[3] += stops.get("loop", 0)
            print(json.dumps({"id": example.id, "guard": guard, "stops": dict(stops), "tokens": tokens, "s": round(seconds, 1)}), flush=True)
    for guard, (samples, tokens, seconds, loops) in totals.items():
        print(f"guard {'on ' if guard else 'off'}: {samples} samples, {loops} stopped as loops, {tokens} tokens, {seconds:.1f} s")


def replay(renderer, examples, predictions: dict[str, list[tuple[str, str]]]) -> None:
    from zeta2_capture.prompt import OutOfRegion
    from zeta2_daemon.decoding import LoopGuard

    checked, fired = 0, {}
    for example in examples:
        prompt = renderer.render_prompt(example)
        guard = LoopGuard(prompt.token_ids)
        for source, text in [("expected", example.expected), *predictions.get(example.id, [])]:
            target = renderer.render_target(prompt, text)
            if isinstance(target, OutOfRegion):
                continue
            checked += 1
            ids = target.token_ids
            hit = next((k for k in range(1, len(ids) + 1) if guard.looping(ids[:k])), None)
            if hit is not None:
                fired[source] = fired.get(source, 0) + 1
                print(f"fires on {source} {example.id} at token {hit}: ...{renderer.decode(ids[max(0, hit - 40):hit])!r}")
    print(f"replayed {checked} answers; the guard fired on {fired or 'none'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pack", type=Path, default=DEFAULT_PACK)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--examples", type=Path, help="examples whose answers never close (timed)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N of --examples")
    parser.add_argument("--sample", type=int, default=0, metavar="N", help="sample N answers per example instead")
    parser.add_argument("--replay", type=Path, help="examples whose expected answers are replayed")
    parser.add_argument("--predictions", type=Path, nargs="*", default=[], help="predictions of --replay's examples")
    args = parser.parse_args(argv)

    from zeta2_capture.schema import read_examples
    from zeta2_daemon.predictor import Predictor

    predictor = Predictor(args.pack, threads=args.threads)
    if args.examples:
        examples = itertools.islice(read_examples(args.examples), args.limit)
        if args.sample:
            sampling(predictor, examples, args.sample)
        else:
            timing(predictor, examples)
    if args.replay:
        predictions: dict[str, list[tuple[str, str]]] = {}
        for path in args.predictions:
            for line in path.read_text().splitlines():
                record = json.loads(line)
                if record.get("predicted") is not None:
                    predictions.setdefault(record["id"], []).append((path.stem, record["predicted"]))
        replay(predictor.renderer, read_examples(args.replay), predictions)


if __name__ == "__main__":
    main()
