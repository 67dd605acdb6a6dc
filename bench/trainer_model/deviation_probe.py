"""Probe: when greedy decoding answers "no change" (explicitly, or by rewriting the region unchanged), would the
model's most likely deviation from that answer be a better suggestion?

    .venv/bin/python bench/trainer_model/deviation_probe.py PACK ../shared/data/dev.jsonl runs/dev100.jsonl \
        runs/deviation_tuning.jsonl [--every 5]

For each tuning example (dev minus the eval sample) whose constrained greedy answer changes nothing, one
teacher-forced pass gives the model's distribution at every answer position; the position where the best
*other* allowed token is most likely is forced to that token and greedy decoding continues from there.
Both answers are scored (delta chrF); a threshold t on that deviation's probability then decides offline.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
from noop_threshold import add_tuning_arguments, tuning_examples  # a script's own folder is on sys.path


def best_deviation(predictor, prompt, tokens: list[int]) -> tuple[int, int, float] | None:
    """(position, token, probability) of the likeliest allowed token that differs from the answer's own."""
    from zeta2_capture.grammar import START
    from zeta2_daemon.decoding import prefill

    grammar = predictor.constraint_for(prompt).grammar
    first, cache = prefill(predictor.runtime, prompt.token_ids)
    rows = [first.logits[-1]]
    if len(tokens) > 1:
        rows += list(predictor.runtime.forward(tokens[:-1], cache).logits)
    best = None
    state = START
    for k, (token, row) in enumerate(zip(tokens, rows, strict=True)):
        if k >= 1:  # the opening marker stays: a deviation changes what the answer does there
            allowed = grammar.allowed(state)
            probs = np.exp(row.astype(np.float64) - row.max())
            probs /= probs.sum()
            if allowed.only is not None:
                candidates = [t for t in allowed.only if t != token]
            else:
                masked = probs.copy()
                masked[list(allowed.banned)] = 0
                masked[token] = 0
                candidates = [int(masked.argmax())]
            for alt in candidates:
                if best is None or probs[alt] > best[2]:
                    best = (k, int(alt), float(probs[alt]))
        state = grammar.advance(state, token)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_tuning_arguments(parser)
    args = parser.parse_args()

    from zeta2_capture.metrics import delta_chrf
    from zeta2_daemon.decoding import greedy
    from zeta2_daemon.predictor import Predictor

    examples, out, done = tuning_examples(args)
    predictor = Predictor(args.pack, threads=args.threads)
    with out.open("a", encoding="utf-8") as f:
        for n, ex in enumerate(examples):
            if ex.id in done:
                continue
            first = predictor.predict(ex, reuse_prefix=False)
            predicted = first.predicted if first.predicted is not None else ex.before
            row = {"id": ex.id, "kind": ex.meta.get("kind"), "expected_noop": ex.expected == ex.before,
                   "greedy": {"delta_chrf": delta_chrf(ex.before, ex.expected, predicted), "noop": predicted == ex.before},
                   "deviation": None}
            if predicted == ex.before and first.error is None:
                prompt = first.prompt
                found = best_deviation(predictor, prompt, first.output_tokens)
                if found:
                    k, alt, p = found
                    again = greedy(predictor.runtime, prompt.token_ids, max_new_tokens=predictor.max_output_tokens,
                                   stop_ids=predictor.stop_ids, constraint=predictor.constraint_for(prompt),
                                   answer_prefix=[*first.output_tokens[:k], alt])
                    parsed = predictor.renderer.parse_output(prompt, predictor.renderer.decode(again.tokens))
                    text = getattr(parsed, "predicted", None) or ex.before
                    row["deviation"] = {"position": k, "probability": p, "delta_chrf": delta_chrf(ex.before, ex.expected, text),
                                        "noop": text == ex.before, "stop": again.stop}
            f.write(json.dumps(row) + "\n")
            f.flush()
            print(f"{n + 1}/{len(examples)} {ex.id}: {row['deviation']}", file=sys.stderr, flush=True)
    rows = [json.loads(line) for line in out.open(encoding="utf-8")]
    print("| threshold | delta chrF | no-op rate | false suggestions |\n|---:|---:|---:|---:|")
    for t in (1.01, 0.5, 0.4, 0.3, 0.2, 0.15, 0.1, 0.05, 0.0):
        chosen = [r["deviation"] if r["deviation"] and r["deviation"]["probability"] >= t else r["greedy"] for r in rows]
        fs = sum((not c["noop"]) and r["expected_noop"] for c, r in zip(chosen, rows, strict=True))
        print(f"| {t:.2f} | {sum(c['delta_chrf'] for c in chosen) / len(rows):.2f} | "
              f"{sum(c['noop'] for c in chosen) / len(rows):.1%} | {fs}/{sum(r['expected_noop'] for r in rows)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
