"""A model stuck in a loop, shaped like `zeta2_daemon.runtime.Runtime` (for the loop-guard tests)."""

from __future__ import annotations

import numpy as np

from zeta2_daemon.runtime import ForwardResult, KVState


class CycleRuntime:
    """After a token of `cycle` the likeliest next token is the following one, forever (logit 5 vs 0)."""

    def __init__(self, cycle: list[int], vocab: int = 64):
        self.cycle, self.vocab = cycle, vocab

    def empty_cache(self) -> KVState:
        return KVState(arrays=[], length=0, physical=0, tokens=[])

    def forward(self, tokens, cache: KVState, *, keep=None, want_logits=True) -> ForwardResult:
        context = [*cache.tokens, *tokens]
        rows = np.zeros((len(tokens), self.vocab), dtype=np.float32)
        for i, token in enumerate(tokens):
            nxt = self.cycle[(self.cycle.index(token) + 1) % len(self.cycle)] if token in self.cycle else self.cycle[0]
            rows[i, nxt] = 5.0
        keep = len(tokens) if keep is None else keep
        grown = KVState(arrays=[], length=len(context), physical=len(context), tokens=context)
        return ForwardResult(logits=rows[-keep:], next_ids=rows[-keep:].argmax(-1), cache=grown)

    def truncate(self, cache: KVState, length: int) -> KVState:
        if length >= cache.length:
            return cache
        return KVState(arrays=[], length=length, physical=length, tokens=cache.tokens[:length])
