"""Sampling N candidate answers for one prompt (temperature, top-p, seeded), for the trainer's filter.

The prompt is prefilled once; every candidate continues from that KV cache (states are immutable, so
they share it). Candidates are drawn one after another from one seeded generator: the same seed gives
the same candidates.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .decoding import DecodeStats, prefill
from .runtime import KVState, Runtime


@dataclass
class Sample:
    tokens: list[int]
    stop: str  # "stop" | "cap" | "deadline"
    logprob: float  # sum of the sampled tokens' log-probabilities under the tempered, truncated distribution


def sample_token(logits: np.ndarray, temperature: float, top_p: float, rng: np.random.Generator) -> tuple[int, float]:
    """One token from `logits` [vocab]; temperature <= 0 means greedy. Returns (token, its log-probability)."""
    if temperature <= 0:
        return int(np.argmax(logits)), 0.0
    scaled = logits.astype(np.float64) / temperature
    scaled -= scaled.max()
    probs = np.exp(scaled)
    probs /= probs.sum()
    if top_p < 1.0:
        order = np.argsort(-probs, kind="stable")
        cumulative = np.cumsum(probs[order])
        # Keep the smallest prefix whose mass reaches top_p (always at least one token).
        cut = int(np.searchsorted(cumulative, top_p)) + 1
        keep = order[:cut]
        kept = probs[keep] / probs[keep].sum()
        choice = int(rng.choice(len(keep), p=kept))
        return int(keep[choice]), float(np.log(kept[choice]))
    token = int(rng.choice(len(probs), p=probs))
    return token, float(np.log(probs[token]))


def sample(
    runtime: Runtime,
    prompt: Sequence[int],
    *,
    n: int,
    temperature: float = 0.8,
    top_p: float = 0.95,
    seed: int = 0,
    max_new_tokens: int,
    stop_ids: Iterable[int],
    deadline: float | None = None,
    reuse: KVState | None = None,
) -> tuple[list[Sample], DecodeStats]:
    """`n` sampled continuations of `prompt`, each ending at a stop token, the cap or the deadline."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")
    stops = set(stop_ids)
    stats = DecodeStats()
    first, prompt_cache = prefill(runtime, prompt, reuse, stats=stats)
    assert first.logits is not None
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    samples = []
    for _ in range(n):
        token, lp = sample_token(first.logits[-1], temperature, top_p, rng)
        tokens, logprob, cache, stop = [token], lp, prompt_cache, ""
        while not stop:
            if token in stops:
                stop = "stop"
            elif len(tokens) >= max_new_tokens:
                stop = "cap"
            elif deadline is not None and time.perf_counter() >= deadline:
                stop = "deadline"
            else:
                result = runtime.forward([token], cache)
                stats.forwards += 1
                cache = result.cache
                token, lp = sample_token(result.logits[-1], temperature, top_p, rng)
                tokens.append(token)
                logprob += lp
        samples.append(Sample(tokens=tokens, stop=stop, logprob=logprob))
    stats.decode_ms = (time.perf_counter() - t0) * 1000
    return samples, stats
