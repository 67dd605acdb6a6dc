"""Greedy decoding with the input as the draft (prompt-lookup speculation), lossless.

A next edit mostly copies text of the editable region. After each accepted token we look the last few
output tokens up in the prompt (n-gram lookup, preferring to continue where the last draft came from)
and propose the tokens that followed there. One forward pass over [last token, draft...] gives the
model's own greedy choice at every draft position; the longest agreeing prefix is kept plus the model's
token after it, and the cache is rolled back past the first mismatch. The output is therefore the
plain greedy output, token for token; only the number of forward passes changes.

Decoding stops on a stop token (the format's end token, the model's end of text), a token cap, a loop
(`LoopGuard`: the answer repeating one stretch of tokens that the prompt never repeats so), or the
deadline: a request past its deadline returns nothing rather than a late answer.

With a `Constraint` the greedy choice at every position is the best token the answer grammar allows
(`zeta2_capture.grammar`), and "no edit" needs at least `min_noop_probability`; speculation checks drafts
against those constrained choices, so it stays lossless with respect to constrained plain greedy.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from zeta2_capture.grammar import START, Allowed, AnswerGrammar

from .runtime import ForwardResult, KVState, Runtime

Clock = Callable[[], float]


@dataclass
class DecodeStats:
    prompt_tokens: int = 0
    prefix_reused: int = 0  # prompt tokens whose KV came from an earlier request
    prefill_ms: float = 0.0
    decode_ms: float = 0.0
    forwards: int = 0  # decode forwards, the prefill not counted
    drafted: int = 0  # draft tokens proposed
    accepted: int = 0  # draft tokens the model agreed with
    rollbacks: int = 0  # verify passes that rejected part of their draft
    constrained: int = 0  # positions where the grammar or the no-edit rule overrode the model's argmax
    noop_probability: float | None = None  # the model's probability of "no edit" when it was its choice

    @property
    def tokens_per_forward(self) -> float:
        """Output tokens per decode forward (1.0 for plain greedy)."""
        return (self.accepted + self.forwards) / self.forwards if self.forwards else 0.0


@dataclass
class DecodeResult:
    tokens: list[int]  # output tokens, the stop token included when one ended it
    stop: str  # "stop" | "cap" | "loop" | "deadline"
    stats: DecodeStats
    prompt_cache: KVState | None = field(default=None, repr=False)  # KV of the prompt, for prefix reuse

    @property
    def timed_out(self) -> bool:
        return self.stop == "deadline"


class DeadlineExceeded(Exception):
    pass


@dataclass
class Constraint:
    """Keeps greedy answers inside the format; `min_noop_probability` > 0 makes "no edit" need that much."""

    grammar: AnswerGrammar
    min_noop_probability: float = 0.0

    def choose(self, logits: np.ndarray, raw: int, state: int, length: int, stats: DecodeStats) -> int:
        """The constrained greedy token at a position whose answer so far has `length` tokens, in `state`."""
        allowed = self.grammar.allowed(state)
        noop = self.grammar.noop_token(state, length)
        banned_noop = None
        if noop is not None and raw == noop:
            row = logits.astype(np.float64)
            p_noop = float(np.exp(row[noop] - row.max()) / np.exp(row - row.max()).sum())
            stats.noop_probability = p_noop
            if p_noop < self.min_noop_probability:
                banned_noop = noop
        if raw in allowed and banned_noop is None:
            return raw
        stats.constrained += 1
        row = mask_logits(logits, allowed)
        if banned_noop is not None:
            row[banned_noop] = -np.inf
        return int(row.argmax()) if np.isfinite(row).any() else raw  # nothing allowed: only after the end token


def mask_logits(logits: np.ndarray, allowed: Allowed) -> np.ndarray:
    """A copy of `logits` with every token `allowed` excludes at -inf (for greedy choice and for sampling)."""
    if allowed.only is not None:
        out = np.full_like(logits, -np.inf)
        only = list(allowed.only)
        out[only] = logits[only]
        return out
    out = logits.copy()
    out[list(allowed.banned)] = -np.inf
    return out


class LoopGuard:
    """Spots an answer stuck in a loop: its last `period` tokens said `repeats` times in a row, a run the
    prompt does not hold (a model copying a repeated block of the file is not looping).

    Small models fall into such loops (one comment line again and again until the cap). The run must
    cover at least `min_run` tokens, so short periods need more repeats: eight blank-ish lines of four
    tokens, four of a ten-token line.
    """

    def __init__(self, prompt: Sequence[int], *, min_period: int = 4, max_period: int = 64, min_repeats: int = 4, min_run: int = 32):
        self.min_period, self.max_period = min_period, max_period
        self.min_repeats, self.min_run = min_repeats, min_run
        self._prompt = np.asarray(prompt, dtype=np.uint32).tobytes()

    def _repeats(self, period: int) -> int:
        return max(self.min_repeats, -(-self.min_run // period))

    def looping(self, out: Sequence[int]) -> bool:
        """Whether `out` (the answer so far) now ends in a loop."""
        last = out[-1] if out else None
        for period in range(self.min_period, min(self.max_period, len(out) // self.min_repeats) + 1):
            if out[-1 - period] != last:
                continue
            run = period * self._repeats(period)
            if run > len(out):
                continue
            tail = out[-run:]
            if all(tail[k] == tail[k - period] for k in range(period, run)):
                # A byte search may also match across token boundaries; that only errs toward "not a loop".
                return np.asarray(tail, dtype=np.uint32).tobytes() not in self._prompt
        return False


class NgramDraft:
    """Proposes continuations by finding the output's last n tokens (n = max_n..1) in `source`."""

    def __init__(self, source: Sequence[int], max_n: int = 3, min_n: int = 1):
        self.source = list(source)
        self.max_n, self.min_n = max_n, min_n
        self._index: dict[tuple[int, ...], int] = {}
        # Later occurrences win: the editable region comes last in a prompt and is what answers copy.
        for n in range(min_n, max_n + 1):
            for i in range(len(self.source) - n):
                self._index[tuple(self.source[i : i + n])] = i + n
        self._next: int | None = None  # source index of the token expected after the last draft

    def propose(self, context: Sequence[int], k: int) -> list[int]:
        """Up to `k` tokens to follow `context` (whose last token is the newest output token)."""
        if k <= 0 or not context:
            return []
        nxt = self._next
        # Continue the copy in progress when the model's last token is the one the source has next.
        if nxt is not None and nxt < len(self.source) and self.source[nxt] == context[-1]:
            start: int | None = nxt + 1
        else:
            start = None
            for n in range(min(self.max_n, len(context)), self.min_n - 1, -1):
                start = self._index.get(tuple(context[-n:]))
                if start is not None:
                    break
        if start is None or start >= len(self.source):
            self._next = None
            return []
        draft = self.source[start : start + k]
        self._next = start + len(draft)  # the source token expected after the draft
        return draft

    def verified(self, accepted: int, drafted: int) -> None:
        """A verify pass kept `accepted` of `drafted` tokens; a rejection ends the copy in progress."""
        if accepted < drafted:
            self._next = None


def prefill(
    runtime: Runtime,
    prompt: Sequence[int],
    reuse: KVState | None = None,
    *,
    stats: DecodeStats | None = None,
    clock: Clock = time.perf_counter,
) -> tuple[ForwardResult, KVState]:
    """Runs the prompt (only past the prefix `reuse` shares with it); returns the last position's result."""
    if not prompt:
        raise ValueError("cannot decode from an empty prompt")
    t0 = clock()
    cache = runtime.empty_cache()
    shared = 0
    if reuse is not None:
        from .kvcache import common_prefix

        # At least the last prompt token is recomputed: its logits give the first output token.
        shared = min(common_prefix(reuse.tokens, prompt), len(prompt) - 1)
        if shared > 0:
            cache = runtime.truncate(reuse, shared)
    result = runtime.forward(prompt[shared:], cache, keep=1)
    if stats is not None:
        stats.prompt_tokens = len(prompt)
        stats.prefix_reused = shared
        stats.prefill_ms = (clock() - t0) * 1000
    return result, result.cache


def greedy(
    runtime: Runtime,
    prompt: Sequence[int],
    *,
    max_new_tokens: int,
    stop_ids: Iterable[int],
    deadline: float | None = None,
    reuse: KVState | None = None,
    speculate: bool = True,
    max_draft: int = 8,
    draft_source: Sequence[int] | None = None,
    constraint: Constraint | None = None,
    answer_prefix: Sequence[int] = (),
    loop_guard: LoopGuard | None = None,
    clock: Clock = time.perf_counter,
) -> DecodeResult:
    """Greedy decoding; with `speculate`, drafts from `draft_source` (default: the prompt) are verified in bulk.

    `deadline` is a `clock()` value (time.perf_counter by default): once it passes, decoding stops and
    the result is empty with stop == "deadline". `answer_prefix` forces the answer's first tokens (they
    are part of the returned tokens; `prompt_cache` then covers them too).
    """
    stops = set(stop_ids)
    stats = DecodeStats()
    if deadline is not None and clock() >= deadline:
        return DecodeResult([], "deadline", stats)
    first, prompt_cache = prefill(runtime, [*prompt, *answer_prefix], reuse, stats=stats, clock=clock)
    t0 = clock()

    def pick(result: ForwardResult, position: int, state: int, length: int) -> int:
        raw = int(result.next_ids[position])
        if constraint is None:
            return raw
        assert result.logits is not None  # greedy always asks the runtime for logits
        return constraint.choose(result.logits[position], raw, state, length, stats)

    advance = constraint.grammar.advance if constraint is not None else (lambda state, token: state)
    state = START
    for token in answer_prefix:
        state = advance(state, token)
    out = [*answer_prefix, pick(first, -1, state, len(answer_prefix))]
    state = advance(state, out[-1])
    cache = prompt_cache
    drafter = NgramDraft(draft_source if draft_source is not None else prompt) if speculate else None
    stop = "stop" if out[-1] in stops else ("cap" if len(out) >= max_new_tokens else "")
    # Draft length adapts: a rejected draft still costs its positions in the verify pass (on a CPU
    # nearly linearly), so it halves after a pass that kept nothing and doubles after a full accept.
    draft_len = max_draft
    while not stop:
        if deadline is not None and clock() >= deadline:
            stats.decode_ms = (clock() - t0) * 1000
            return DecodeResult([], "deadline", stats, prompt_cache)
        room = max_new_tokens - len(out)
        tail = [*prompt[-drafter.max_n :], *out][-drafter.max_n :] if drafter else []
        draft = drafter.propose(tail, min(draft_len, room - 1)) if drafter else []
        result = runtime.forward([out[-1], *draft], cache)
        stats.forwards += 1
        stats.drafted += len(draft)
        # The model's (constrained) choice at each position, up to the first that disagrees with the draft:
        # the agreeing draft tokens, then the model's own next token.
        new_tokens: list[int] = []
        position_state = state
        for position in range(len(draft) + 1):
            choice = pick(result, position, position_state, len(out) + position)
            new_tokens.append(choice)
            if position == len(draft) or choice != draft[position] or choice in stops:
                break
            position_state = advance(position_state, choice)
        accepted = len(new_tokens) - 1
        stats.accepted += accepted
        if drafter:
            drafter.verified(accepted, len(draft))
        if accepted < len(draft):
            stats.rollbacks += 1
        if draft:
            if accepted == len(draft):
                draft_len = min(max_draft, draft_len * 2)
            elif accepted == 0:
                draft_len = max(1, draft_len // 2)
        # Keep the KV of out[-1] and the accepted draft tokens; the model's bonus token is fed next time.
        cache = runtime.truncate(result.cache, cache.length + 1 + accepted)
        for token in new_tokens:
            out.append(token)
            state = advance(state, token)
            if token in stops:
                stop = "stop"
                break
            if len(out) >= max_new_tokens:
                stop = "cap"
                break
            if loop_guard is not None and loop_guard.looping(out):
                stop = "loop"
                break
    stats.decode_ms = (clock() - t0) * 1000
    if deadline is not None and clock() >= deadline:  # finished, but too late to be of use
        return DecodeResult([], "deadline", stats, prompt_cache)
    return DecodeResult(out, stop, stats, prompt_cache)
