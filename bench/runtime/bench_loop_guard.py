"""Answers that never close: time with and without `LoopGuard`, and check that it spares real answers.

Run by hand (numbers go to docs/benchmarks.md, section "Runtime"):

    .venv/bin/python bench/runtime/bench_loop_guard.py --examples runs/capfail.jsonl \
        --replay runs/dev100.jsonl --predictions runs/eval/pred-gpu-grammar.jsonl runs/eval/pred-cursor.jsonl

1. Timing: each example of `--examples` is predicted twice by the same predictor, the guard off then on
   (`Predictor(stop_loops=...)`, no prefix reuse), and the stop, answer tokens and time are printed.
2. Replay: for each example of `--replay`, its expected answer and every prediction of it in
   `--predictions` is rendered as the answer tokens the format would give (`render_target`), and fed to
   the guard one token at a time, as decoding would. A real answer must never trip it; a hit is printed
   with the repeated text so a reader can judge whether it is a loop.
"""

from __future__ import annotations

import argparse
import json
import os
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
    parser.add_argument("--replay", type=Path, help="examples whose expected answers are replayed")
    parser.add_argument("--predictions", type=Path, nargs="*", default=[], help="predictions of --replay's examples")
    args = parser.parse_args(argv)

    from zeta2_capture.schema import read_examples
    from zeta2_daemon.predictor import Predictor

    predictor = Predictor(args.pack, threads=args.threads)
    if args.examples:
        timing(predictor, read_examples(args.examples))
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
