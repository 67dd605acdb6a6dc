"""Prompt rendering: time per render, out-of-region share, and how much of the prompt a keystroke keeps.

For each dev example: render it (cold, then warm), then type one character at the cursor (the newest event
grows by that character too, as the daemon's coalesced history would) and count the prompt tokens before
the first one that differs — what the runtime's prefix KV cache can reuse.

    .venv/bin/python bench/foundation/bench_prompt.py --tokenizer .cache/tests/smollm2-tokenizer/tokenizer.json \\
        ../shared/data/dev.jsonl
"""

import argparse
import dataclasses
import statistics
import time

from zeta2_capture.prompt import OutOfRegion, PromptConfig, Renderer
from zeta2_capture.schema import read_examples


def typed_one_character(example):
    before = example.before[: example.cursor] + "x" + example.before[example.cursor :]
    events = list(example.events)
    if events:
        events[-1] = dataclasses.replace(events[-1], diff=events[-1].diff.rstrip("\n") + "x\n")
    return dataclasses.replace(example, before=before, cursor=example.cursor + 1, events=tuple(events))


def common_prefix(a, b):
    k = 0
    while k < min(len(a), len(b)) and a[k] == b[k]:
        k += 1
    return k


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("examples")
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--budget", type=int, default=2048)
    args = parser.parse_args()
    renderer = Renderer.from_file(args.tokenizer, config=PromptConfig(max_prompt_tokens=args.budget))
    cold, warm, reuse, sizes, outside, n = [], [], [], [], 0, 0
    for example in read_examples(args.examples):
        n += 1
        start = time.perf_counter()
        prompt = renderer.render_prompt(example)
        cold.append(time.perf_counter() - start)
        start = time.perf_counter()
        renderer.render_prompt(example)
        warm.append(time.perf_counter() - start)
        if example.expected is not None and isinstance(renderer.render_target(prompt, example.expected), OutOfRegion):
            outside += 1
        after = renderer.render_prompt(typed_one_character(example))
        reuse.append(common_prefix(prompt.token_ids, after.token_ids) / after.n_tokens)
        sizes.append(after.n_tokens)

    def ms(values, q):
        return sorted(values)[int(q * (len(values) - 1))] * 1e3

    big = [r for r, s in zip(reuse, sizes, strict=True) if s > 1600]
    print(f"{n} examples, budget {args.budget}: prompt tokens mean {statistics.mean(sizes):.0f}, max {max(sizes)}")
    print(f"render ms: cold p50 {ms(cold, .5):.1f} p95 {ms(cold, .95):.1f}; warm p50 {ms(warm, .5):.1f} p95 {ms(warm, .95):.1f}")
    print(f"change outside the editable region: {outside}/{n} ({outside / n:.1%})")
    print(
        f"prefix kept after one typed character: mean {statistics.mean(reuse):.1%}, median {statistics.median(reuse):.1%}"
        f"; prompts over 1,600 tokens ({len(big)}): mean {statistics.mean(big) if big else float('nan'):.1%}"
    )


if __name__ == "__main__":
    main()
