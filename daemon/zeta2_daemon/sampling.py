"""Sampling N candidate answers for one prompt (temperature, top-p, seeded), for the trainer's filter.

The prompt is prefilled once; every candidate continues from that KV cache (states are immutable, so
they share it). Candidates are drawn one after another from one seeded generator: the same seed gives
the same candidates.

Speculative sampling (the default). A next-edit answer mostly copies the editable region, so each
candidate drafts its next tokens with the same input-as-draft n-gram lookup greedy decoding uses
(`decoding.NgramDraft`) and verifies them all in one forward pass with the speculative-sampling rule
for a deterministic draft (Leviathan et al. 2023; Chen et al. 2023, with q = a point mass on the draft
token d): at each draft position, p is the tempered, top-p-truncated target distribution there;
d is accepted with probability p(d); on rejection the token is drawn from p with d removed and
renormalised (= max(0, p - q) normalised) and the rest of the draft is dropped; when every draft token
is accepted one bonus token is drawn from p at the last position. Each output token is therefore
distributed exactly as with plain one-token-per-forward sampling; only the number of forward passes
(and the random stream, so the exact candidates for a given seed) changes. The KV cache is rolled back
past rejected positions (`runtime.truncate`).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from zeta2_capture.grammar import START, AnswerGrammar

from .decoding import DecodeStats, LoopGuard, NgramDraft, mask_logits, prefill
from .runtime import KVState, Runtime


@dataclass
class Sample:
    tokens: list[int]
    stop: str  # "stop" | "cap" | "loop" | "deadline"
    logprob: float  # sum of the sampled tokens' log-probabilities under the tempered, truncated distribution


# ------------------------------------------------------------------------------------------------
# The target distribution at one position


@dataclass
class Distribution:
    """A sparse distribution: `ids` with probabilities `probs` summing to 1 (most probable first when cut to top-p)."""

    ids: np.ndarray  # int64
    probs: np.ndarray  # float64

    def prob(self, token: int) -> float:
        hit = np.flatnonzero(self.ids == token)
        return float(self.probs[hit[0]]) if len(hit) else 0.0


_PARTIAL = 256  # top-p is first looked for among this many most probable tokens (a full sort if it is not there)


def _top_order(probs: np.ndarray, top_p: float) -> np.ndarray:
    """Token ids in the order of a stable descending argsort of `probs`, at least as far as the top-p cut.

    Equal to `np.argsort(-probs, kind="stable")` on every position it returns: a partial selection is
    used only when the cut falls strictly before its last element and no tie crosses its edge.
    """
    n = len(probs)
    if n > 4 * _PARTIAL:
        candidates = np.argpartition(-probs, _PARTIAL - 1)[:_PARTIAL]
        candidates.sort()  # ascending ids, so the stable sort below breaks ties by id as a full one would
        order = candidates[np.argsort(-probs[candidates], kind="stable")]
        cumulative = np.cumsum(probs[order])
        cut = int(np.searchsorted(cumulative, top_p)) + 1
        if cut < _PARTIAL and probs[order[cut - 1]] > probs[order[-1]]:
            return order
    return np.argsort(-probs, kind="stable")


def target_distribution(logits: np.ndarray, temperature: float, top_p: float) -> Distribution:
    """The distribution `sample_token` draws from: softmax(logits / temperature), cut to the top-p nucleus.

    temperature <= 0 is greedy: a point mass on the argmax.
    """
    if temperature <= 0:
        return Distribution(np.array([int(np.argmax(logits))], dtype=np.int64), np.array([1.0]))
    scaled = logits.astype(np.float64) / temperature
    scaled -= scaled.max()
    probs = np.exp(scaled)
    probs /= probs.sum()
    if top_p < 1.0:
        order = _top_order(probs, top_p)
        cumulative = np.cumsum(probs[order])
        # Keep the smallest prefix whose mass reaches top_p (always at least one token).
        cut = int(np.searchsorted(cumulative, top_p)) + 1
        keep = order[:cut].astype(np.int64)
        kept = probs[keep]
        return Distribution(keep, kept / kept.sum())
    nz = np.flatnonzero(probs > 0)
    return Distribution(nz.astype(np.int64), probs[nz])


def draw(dist: Distribution, rng: np.random.Generator, exclude: int | None = None) -> tuple[int, float]:
    """One token from `dist` (with `exclude` removed and the rest renormalised); returns it and log p(token).

    The log-probability is the token's under `dist` itself, not under the renormalised residual.
    """
    probs = dist.probs
    if exclude is not None:
        probs = np.where(dist.ids == exclude, 0.0, probs)
    cumulative = np.cumsum(probs)
    total = cumulative[-1]
    if total <= 0:  # only `exclude` had mass (cannot happen after a rejection, which needs p(d) < 1)
        probs, cumulative, total = dist.probs, np.cumsum(dist.probs), 1.0
    i = min(int(np.searchsorted(cumulative, rng.random() * total, side="right")), len(probs) - 1)
    while probs[i] <= 0:  # never land on a removed or zero-mass entry (floating-point edge)
        i -= 1
    return int(dist.ids[i]), float(np.log(dist.probs[i]))


def allowed_logits(logits: np.ndarray, grammar: AnswerGrammar | None, state: int) -> np.ndarray:
    """`logits` with every token the grammar forbids in `state` at -inf (unchanged without a grammar)."""
    return logits if grammar is None else mask_logits(logits, grammar.allowed(state))


def verify_draft(
    draft: Sequence[int], dist_at: Callable[[int], Distribution], rng: np.random.Generator
) -> tuple[list[int], list[float], int]:
    """The speculative-sampling step for a deterministic draft.

    `dist_at(j)` is the target distribution of the token after the first j draft tokens
    (j = 0..len(draft)). Returns (new tokens, their log-probabilities, number of draft tokens accepted):
    the accepted draft prefix, then either the token drawn in place of the first rejected draft token
    or, when the whole draft was accepted, a bonus token from dist_at(len(draft)). Every returned token
    is distributed exactly as if drawn from its target distribution.
    """
    tokens: list[int] = []
    logprobs: list[float] = []
    for j, d in enumerate(draft):
        dist = dist_at(j)
        p = dist.prob(d)
        if p > 0 and rng.random() < p:
            tokens.append(int(d))
            logprobs.append(float(np.log(p)))
            continue
        token, lp = draw(dist, rng, exclude=d)
        tokens.append(token)
        logprobs.append(lp)
        return tokens, logprobs, j
    token, lp = draw(dist_at(len(draft)), rng)
    tokens.append(token)
    logprobs.append(lp)
    return tokens, logprobs, len(draft)


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


# ------------------------------------------------------------------------------------------------


@dataclass
class SampleStats(DecodeStats):
    """DecodeStats summed over the candidates, plus the tokens drawn with no forward pass at all.

    Candidates of one prompt often share a beginning; the distribution after a prefix an earlier
    candidate already went through is known, so a later one draws from it without running the model
    (`reused`). `tokens_per_forward` counts every output token produced after the prefill per decode
    forward; `verified_per_forward` only those a forward produced (1 + accepted draft tokens).
    """

    reused: int = 0
    tokens: int = 0  # output tokens of all candidates

    @property
    def tokens_per_forward(self) -> float:
        return (self.accepted + self.forwards + self.reused) / self.forwards if self.forwards else 0.0

    @property
    def verified_per_forward(self) -> float:
        return (self.accepted + self.forwards) / self.forwards if self.forwards else 0.0


class _Node:
    """An answer prefix some candidate reached: the distribution of the token after it, and who can resume it."""

    __slots__ = ("dist", "children", "owner")

    def __init__(self, dist: Distribution, owner: int):
        self.dist = dist
        self.children: dict[int, _Node] = {}
        self.owner = owner  # the candidate whose last KV cache holds the prompt and this prefix (-1: the prompt's)


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
    speculate: bool = True,
    max_draft: int = 8,
    draft_source: Sequence[int] | None = None,
    share: bool = True,
    grammar: AnswerGrammar | None = None,
    loop_guard: LoopGuard | None = None,
) -> tuple[list[Sample], SampleStats]:
    """`n` sampled continuations of `prompt`, each ending at a stop token, the cap, a loop (with
    `loop_guard`) or the deadline.

    With `speculate` (default) drafts from `draft_source` (default: the prompt) are verified several
    tokens per forward by speculative sampling, and a candidate that walks a prefix an earlier one
    already computed draws from the known distributions without a forward (`share`); the candidates'
    distribution is unchanged either way. `stats` sums over all candidates. With `grammar`, every
    position's distribution is the model's restricted to the tokens the answer grammar allows there
    (then tempered and cut to top-p), so a finished candidate always parses.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")
    stops = set(stop_ids)
    stats = SampleStats()
    first, prompt_cache = prefill(runtime, prompt, reuse, stats=stats)
    assert first.logits is not None
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    samples = []
    if not speculate:
        for _ in range(n):
            samples.append(_plain(runtime, first.logits[-1], prompt_cache, temperature, top_p, rng, max_new_tokens, stops, deadline, stats, grammar, loop_guard))
    else:
        sampler = _SpeculativeSampler(
            runtime, prompt, prompt_cache, target_distribution(allowed_logits(first.logits[-1], grammar, START), temperature, top_p),
            NgramDraft(draft_source if draft_source is not None else prompt), temperature, top_p, rng,
            max_new_tokens, stops, deadline, stats, max_draft, share, grammar, loop_guard,
        )
        samples = [sampler.candidate(i) for i in range(n)]
    stats.tokens = sum(len(s.tokens) for s in samples)
    stats.decode_ms = (time.perf_counter() - t0) * 1000
    return samples, stats


def _plain(
    runtime: Runtime,
    first_logits: np.ndarray,
    prompt_cache: KVState,
    temperature: float,
    top_p: float,
    rng: np.random.Generator,
    max_new_tokens: int,
    stops: set[int],
    deadline: float | None,
    stats: DecodeStats,
    grammar: AnswerGrammar | None = None,
    loop_guard: LoopGuard | None = None,
) -> Sample:
    """One candidate, one token per forward pass (the reference the speculative sampler must match)."""
    advance = grammar.advance if grammar is not None else (lambda state, token: state)
    token, lp = sample_token(allowed_logits(first_logits, grammar, START), temperature, top_p, rng)
    state = advance(START, token)
    tokens, logprob, cache, stop = [token], lp, prompt_cache, ""
    while not stop:
        if token in stops:
            stop = "stop"
        elif len(tokens) >= max_new_tokens:
            stop = "cap"
        elif loop_guard is not None and loop_guard.looping(tokens):
            stop = "loop"
        elif deadline is not None and time.perf_counter() >= deadline:
            stop = "deadline"
        else:
            result = runtime.forward([token], cache)
            stats.forwards += 1
            cache = result.cache
            token, lp = sample_token(allowed_logits(result.logits[-1], grammar, state), temperature, top_p, rng)
            state = advance(state, token)
            tokens.append(token)
            logprob += lp
    return Sample(tokens=tokens, stop=stop, logprob=logprob)


@dataclass
class _SpeculativeSampler:
    """Draws candidates one after another by speculative sampling, sharing what earlier ones computed."""

    runtime: Runtime
    prompt: Sequence[int]
    prompt_cache: KVState
    first_dist: Distribution
    drafts: NgramDraft
    temperature: float
    top_p: float
    rng: np.random.Generator
    max_new_tokens: int
    stops: set[int]
    deadline: float | None
    stats: SampleStats
    max_draft: int
    share: bool = True
    grammar: AnswerGrammar | None = None
    loop_guard: LoopGuard | None = None

    def __post_init__(self) -> None:
        self.root = _Node(self.first_dist, -1)
        # Each candidate's last KV cache: it holds the prompt and every answer prefix whose node it owns.
        self.caches: dict[int, KVState] = {-1: self.prompt_cache}

    def candidate(self, index: int) -> Sample:
        drafter = copy.copy(self.drafts)  # shares the n-gram index, not the copy in progress
        prompt_len = len(self.prompt)
        tokens: list[int] = []
        logprob = 0.0
        # path[k] is the node of tokens[:k] for every k < len(path); `node` that of tokens, when one exists.
        path = [self.root]
        node: _Node | None = self.root
        cache: KVState | None = self.prompt_cache  # the prompt and tokens[:-1], once a forward gave it
        draft_len = self.max_draft
        stop = ""
        grammar = self.grammar
        advance = grammar.advance if grammar is not None else (lambda state, token: state)
        state = START  # the grammar's state after `tokens`
        while True:
            if tokens and tokens[-1] in self.stops:
                stop = "stop"
            elif len(tokens) >= self.max_new_tokens:
                stop = "cap"
            elif self.loop_guard is not None and tokens and self.loop_guard.looping(tokens):
                stop = "loop"
            elif tokens and self.deadline is not None and time.perf_counter() >= self.deadline:
                stop = "deadline"
            if stop:
                return Sample(tokens=tokens, stop=stop, logprob=logprob)
            if node is not None:
                # An earlier candidate computed the distribution after this prefix: no forward pass.
                token, lp = draw(node.dist, self.rng)
                self.stats.reused += bool(tokens)  # the first token always comes from the prefill
                tokens.append(token)
                state = advance(state, token)
                logprob += lp
                node = node.children.get(token) if self.share else None
                if node is not None:
                    path.append(node)
                cache = None
                continue
            m = len(tokens)  # >= 1: the first token is always drawn from the root's distribution
            if cache is None:  # resume from the cache of whoever computed tokens[:-1]
                cache = self.runtime.truncate(self.caches[path[m - 1].owner], prompt_len + m - 1)
            room = self.max_new_tokens - m
            tail = [*self.prompt[-drafter.max_n :], *tokens][-drafter.max_n :]
            draft = drafter.propose(tail, min(draft_len, room - 1))
            result = self.runtime.forward([tokens[-1], *draft], cache)
            self.stats.forwards += 1
            self.stats.drafted += len(draft)
            logits = result.logits
            assert logits is not None
            computed: list[Distribution] = []  # computed[j]: the distribution after tokens + draft[:j]
            # The grammar's state after tokens + draft[:j]; tokens[-1] is already in `state`.
            states = [state]

            def dist_at(j: int, logits: np.ndarray = logits, computed: list[Distribution] = computed,
                        states: list[int] = states, draft: list[int] = draft) -> Distribution:
                while len(states) <= j:
                    states.append(advance(states[-1], draft[len(states) - 1]))
                row = allowed_logits(logits[j], grammar, states[j])
                computed.append(target_distribution(row, self.temperature, self.top_p))
                return computed[-1]

            new, lps, accepted = verify_draft(draft, dist_at, self.rng)
            drafter.verified(accepted, len(draft))
            if accepted < len(draft):
                self.stats.rollbacks += 1
            if draft:
                if accepted == len(draft):
                    draft_len = min(self.max_draft, draft_len * 2)
                elif accepted == 0:
                    draft_len = max(1, draft_len // 2)
            # Keep the KV of tokens[-1] and the accepted draft tokens; the last new token is fed next time.
            cache = self.runtime.truncate(result.cache, cache.length + 1 + accepted)
            if self.share:
                self.caches[index] = cache  # holds every prefix this candidate has computed so far
            # Record the distributions for later candidates: tokens, then tokens + each accepted draft token.
            parent = path[m - 1].children[tokens[-1]] = _Node(computed[0], index)
            path.append(parent)
            for i, (t, tlp) in enumerate(zip(new, lps, strict=True)):
                tokens.append(t)
                state = advance(state, t)
                logprob += tlp
                if i < accepted:
                    parent = parent.children[t] = _Node(computed[i + 1], index)
                    path.append(parent)
                # A stop token or a loop ends the candidate (checked above); later draft tokens never happened.
                if t in self.stops or (self.loop_guard is not None and self.loop_guard.looping(tokens)):
                    self.stats.accepted += min(i, accepted)
                    break
            else:
                self.stats.accepted += accepted
