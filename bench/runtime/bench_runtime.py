"""Runtime benchmark: transformers generate vs prompt lookup vs our runtime (plain, speculative, + prefix reuse).

Run by hand, once, with fixed threads (numbers go to docs/benchmarks.md, section "Runtime"):

    .venv/bin/python bench/runtime/bench_runtime.py --pack PACK --hf-dir HF [--examples N] [--threads 2]

PACK is a model pack from `zeta2-trainer bootstrap` (SmolLM2-135M, fp32); HF the plain Hugging Face copy
it was exported from (`bootstrap --hf-dir`), used for the transformers baselines on the same weights.
For each dev example the prompt is rendered once by the pack's renderer; every method decodes the same
prompt ids to the same number of output tokens (transformers is forced to it: min_new_tokens = max_new_tokens).

Typing replay: for each example, the last K characters typed before the cursor are removed and typed
back one at a time; after each keystroke one request (speculation + the prefix cache, like the daemon).
Transformers is not re-run per keystroke (it has no state to reuse, so each keystroke costs what its
run on the example's prompt costs); that run's latency stands in for each keystroke.

Tokens accepted per forward on copy-heavy answers: the untrained base model does not produce the
expected answers, so we also replay the draft mechanism against the *expected* answer tokens (the
teacher's answer forced as the model's choice): tokens per verify forward = answer tokens / forwards.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path


def pct(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def forced_tokens_per_forward(renderer, examples, max_draft):
    """Draft acceptance when the model's choices are the expected answer's tokens (teacher forcing)."""
    from zeta2_capture.prompt import OutOfRegion
    from zeta2_daemon.decoding import NgramDraft

    tokens = forwards = 0
    per_example = []
    for ex in examples:
        if ex.expected is None or ex.expected == ex.before:
            continue
        prompt = renderer.render_prompt(ex)
        target = renderer.render_target(prompt, ex.expected)
        if isinstance(target, OutOfRegion):
            continue
        answer = target.token_ids
        drafter = NgramDraft(prompt.token_ids)
        out = [answer[0]]  # the first token comes from the prefill
        steps = 0
        while len(out) < len(answer):
            draft = drafter.propose([*prompt.token_ids[-3:], *out][-3:], min(max_draft, len(answer) - len(out) - 1))
            accepted = 0
            while accepted < len(draft) and answer[len(out) + accepted] == draft[accepted]:
                accepted += 1
            drafter.verified(accepted, len(draft))
            out += answer[len(out) : len(out) + accepted + 1]
            steps += 1
        if steps:
            tokens += len(answer) - 1
            forwards += steps
            per_example.append((len(answer) - 1) / steps)
    return tokens / max(forwards, 1), per_example


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pack", type=Path, required=True)
    parser.add_argument("--hf-dir", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "data" / "dev.jsonl")
    parser.add_argument("--examples", type=int, default=6)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--max-prompt-tokens", type=int, default=2048)
    parser.add_argument("--typing", type=int, default=4, help="keystrokes replayed per example")
    parser.add_argument("--max-draft", type=int, default=8)
    parser.add_argument("--json", type=Path, default=None, help="also write the raw numbers here")
    args = parser.parse_args()

    import torch
    from transformers import AutoModelForCausalLM

    from zeta2_capture.prompt import PromptConfig
    from zeta2_capture.schema import read_examples
    from zeta2_daemon.decoding import greedy
    from zeta2_daemon.predictor import Predictor

    torch.set_num_threads(args.threads)
    config = PromptConfig(max_prompt_tokens=args.max_prompt_tokens)
    predictor = Predictor(args.pack, threads=args.threads, prompt_config=config, max_draft=args.max_draft)
    renderer, runtime, stops = predictor.renderer, predictor.runtime, predictor.stop_ids
    model = AutoModelForCausalLM.from_pretrained(str(args.hf_dir), dtype=torch.float32).eval()

    every = list(read_examples(args.data))
    # Spread over the file (it is sorted by repository and kind); skip no-op examples and tiny files.
    edits = [ex for ex in every if ex.expected != ex.before and ex.cursor > args.typing + 10]
    step = max(1, len(edits) // args.examples)
    chosen = edits[::step][: args.examples]

    rows = {k: [] for k in ("generate", "prompt_lookup", "plain", "spec", "typing_spec_reuse")}
    tpf_spec, reuse_share, prompt_lens, out_lens = [], [], [], []
    for n, ex in enumerate(chosen):
        prompt = renderer.render_prompt(ex).token_ids
        prompt_lens.append(len(prompt))
        t = time.perf_counter()
        plain = greedy(runtime, prompt, max_new_tokens=args.max_new_tokens, stop_ids=stops, speculate=False)
        rows["plain"].append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        spec = greedy(runtime, prompt, max_new_tokens=args.max_new_tokens, stop_ids=stops, speculate=True, max_draft=args.max_draft)
        rows["spec"].append((time.perf_counter() - t) * 1000)
        assert spec.tokens == plain.tokens, f"{ex.id}: speculation changed the output"
        tpf_spec.append(spec.stats.tokens_per_forward)
        length = len(plain.tokens)
        out_lens.append(length)
        ids = torch.tensor([prompt])
        for name, extra in (("generate", {}), ("prompt_lookup", {"prompt_lookup_num_tokens": 10})):
            t = time.perf_counter()
            with torch.no_grad():
                out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False, use_cache=True,
                                     max_new_tokens=length, min_new_tokens=length, eos_token_id=renderer.end_token_id, pad_token_id=0, **extra)
            rows[name].append((time.perf_counter() - t) * 1000)
            if name == "generate":
                same = out[0, len(prompt):].tolist() == plain.tokens
        # Typing replay with the daemon's path: speculation + prefix cache.
        predictor.cache.clear()
        start = ex.cursor - args.typing
        for k in range(args.typing + 1):
            state = dataclasses.replace(ex, before=ex.before[: start + k] + ex.before[ex.cursor :], cursor=start + k)
            result = predictor.predict(state, document=ex.id, max_output_tokens=args.max_new_tokens)
            if k > 0:  # the first request of a sequence has nothing to reuse
                rows["typing_spec_reuse"].append(result.timings.total_ms)
                reuse_share.append(result.prefix_tokens_reused / result.prompt_tokens)
        print(f"[{n + 1}/{len(chosen)}] {ex.id}: prompt {len(prompt)} tokens, output {length}, "
              f"generate {rows['generate'][-1]:.0f} ms, lookup {rows['prompt_lookup'][-1]:.0f} ms, plain {rows['plain'][-1]:.0f} ms, "
              f"spec {rows['spec'][-1]:.0f} ms ({tpf_spec[-1]:.2f} tok/fwd), typing {statistics.mean(rows['typing_spec_reuse'][-args.typing:]):.0f} ms "
              f"(reuse {statistics.mean(reuse_share[-args.typing:]):.0%}), transformers==ours: {same}", file=sys.stderr, flush=True)

    forced, _ = forced_tokens_per_forward(renderer, [ex for ex in every if ex.meta.get("kind") != "noop"], args.max_draft)
    forced16, _ = forced_tokens_per_forward(renderer, [ex for ex in every if ex.meta.get("kind") != "noop"], 16)
    base = statistics.mean(rows["generate"])
    summary = {
        "threads": args.threads,
        "examples": len(chosen),
        "prompt_tokens_mean": statistics.mean(prompt_lens),
        "output_tokens_mean": statistics.mean(out_lens),
        "methods": {
            name: {"p50_ms": pct(v, 0.5), "p90_ms": pct(v, 0.9), "mean_ms": statistics.mean(v), "speedup_vs_generate": base / statistics.mean(v)}
            for name, v in rows.items()
        },
        "spec_tokens_per_forward_model": statistics.mean(tpf_spec),
        "forced_answer_tokens_per_forward": {"max_draft_8": forced if args.max_draft == 8 else None, f"max_draft_{args.max_draft}": forced, "max_draft_16": forced16},
        "typing_prefix_reuse_share_mean": statistics.mean(reuse_share),
        "typing_prefix_reuse_share_min": min(reuse_share),
    }
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "rows": rows}, indent=2))
    print("\n| method | p50 ms | p90 ms | mean ms | vs generate |\n|---|---:|---:|---:|---:|")
    for name, m in summary["methods"].items():
        print(f"| {name} | {m['p50_ms']:.0f} | {m['p90_ms']:.0f} | {m['mean_ms']:.0f} | {m['speedup_vs_generate']:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
