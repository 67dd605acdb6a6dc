"""CUDA-provider benchmark of the runtime on a random-weight 0.5B-class decoder (bench/runtime/random_decoder.py).

    PYTHONPATH=daemon python bench/runtime/gpu_bench.py --shape qwen2.5-0.5b --device cuda --out gpu.json

Measures with zeta2_daemon.runtime (I/O binding, KV cache on the device): prefill of a 2,048-token
prompt, one decode step and one 8-token verify at a 2,048-token past, a 40-token answer plain greedy
and with input-as-draft speculation (the answer is in the draft source, as a next edit copies its
region), and a second request that reuses the prompt's KV (one token changed near the end).
Speculation must equal plain greedy on every run (the CUDA rollback masks rejected positions).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np


def timed(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", default="qwen2.5-0.5b")
    parser.add_argument("--dtype", default="fp16")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--prompt", type=int, default=2048)
    parser.add_argument("--answer", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--model", type=Path, default=Path("/tmp/zeta2-random/model.onnx"))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    import onnx

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from random_decoder import SHAPES, build

    from zeta2_daemon.decoding import greedy
    from zeta2_daemon.runtime import Runtime

    t = time.perf_counter()
    args.model.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(build(args.shape, args.dtype), str(args.model), save_as_external_data=True,
                    all_tensors_to_one_file=True, location=args.model.name + ".data", size_threshold=1024)
    built_s = time.perf_counter() - t
    t = time.perf_counter()
    rt = Runtime(args.model, device=args.device, threads=4)
    load_s = time.perf_counter() - t
    vocab = SHAPES[args.shape][5]
    rng = np.random.default_rng(0)
    prompt = [int(x) for x in rng.integers(0, vocab, args.prompt)]
    result = {"shape": args.shape, "dtype": args.dtype, "runtime": rt.describe(), "build_s": built_s, "load_s": load_s}
    try:
        import onnxruntime as ort

        result["onnxruntime"] = ort.__version__
    except Exception:
        pass
    empty = rt.empty_cache()
    for _ in range(3):  # warm-up: CUDA kernels, allocator arenas
        first = rt.forward(prompt, empty, keep=1, want_logits=False)
    result["prefill_ms"], _ = timed(lambda: rt.forward(prompt, empty, keep=1, want_logits=False), args.repeat)
    cache = first.cache
    tok = [int(first.next_ids[-1])]
    rt.forward(tok, cache, want_logits=False)
    result["decode_step_ms"], _ = timed(lambda: rt.forward(tok, cache, want_logits=False), args.repeat * 3)
    draft = [int(x) for x in rng.integers(0, vocab, 9)]
    result["verify_9_tokens_ms"], _ = timed(lambda: rt.forward(draft, cache, want_logits=False), args.repeat * 3)

    stops: set[int] = set()
    plain = greedy(rt, prompt, max_new_tokens=args.answer, stop_ids=stops, speculate=False)
    result["plain_40_ms"], _ = timed(lambda: greedy(rt, prompt, max_new_tokens=args.answer, stop_ids=stops, speculate=False), args.repeat)
    source = prompt + plain.tokens  # the answer is in the input (a next edit copies its region)
    spec_runs = []

    def spec():
        out = greedy(rt, prompt, max_new_tokens=args.answer, stop_ids=stops, speculate=True, draft_source=source)
        spec_runs.append(out)

    result["spec_40_ms"], _ = timed(spec, args.repeat)
    result["spec_equals_plain"] = all(r.tokens == plain.tokens for r in spec_runs)
    result["spec_tokens_per_forward"] = spec_runs[-1].stats.tokens_per_forward
    # A wrong draft: half of it right, then garbage -> rollbacks on the device (masking).
    noisy = list(source)
    for i in range(len(prompt) + 3, len(noisy), 7):
        noisy[i] = (noisy[i] + 1) % vocab
    wrong = greedy(rt, prompt, max_new_tokens=args.answer, stop_ids=stops, speculate=True, draft_source=noisy)
    result["noisy_draft_equals_plain"] = wrong.tokens == plain.tokens
    result["noisy_draft_rollbacks"] = wrong.stats.rollbacks
    # Prefix reuse: the same prompt with one token changed 300 tokens before the end.
    edited = list(prompt)
    at = max(1, len(edited) - 300)
    edited[at] = (edited[at] + 1) % vocab
    reuse = plain.prompt_cache

    def reused():
        return greedy(rt, edited, max_new_tokens=args.answer, stop_ids=stops, speculate=True, reuse=reuse,
                      draft_source=edited + plain.tokens)

    out = reused()
    result["reuse_prefix_tokens"] = out.stats.prefix_reused
    result["reuse_prefill_ms"] = statistics.median([reused().stats.prefill_ms for _ in range(args.repeat)])
    fresh = greedy(rt, edited, max_new_tokens=args.answer, stop_ids=stops, speculate=False)
    result["reuse_equals_fresh"] = out.tokens == fresh.tokens
    result["spec_reuse_40_ms"], _ = timed(reused, args.repeat)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
