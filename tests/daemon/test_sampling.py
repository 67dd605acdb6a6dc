"""Speculative sampling draws candidates from exactly the target distribution, faster on copy-heavy answers.

Exactness is checked three ways, all with fixed seeds (deterministic, so they never flake), against
tolerances computed for the number of draws: the nucleus distribution against a plain re-implementation
of the formula; the accept/reject step against its analytic outcome distribution; and the whole sampler
(speculative and plain) on a toy model, whose exact distribution over answers is enumerated, and on the
tiny test pack, whose exact answer probabilities come from the model itself.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pytest
from cycle_runtime import CycleRuntime

from zeta2_capture.schema import read_examples
from zeta2_daemon.decoding import LoopGuard
from zeta2_daemon.runtime import ForwardResult, KVState
from zeta2_daemon.sampling import Distribution, draw, sample, target_distribution, verify_draft


def nucleus(logits: np.ndarray, temperature: float, top_p: float) -> dict[int, float]:
    """The reference: softmax(logits / T), stable descending order, smallest prefix reaching top_p."""
    if temperature <= 0:
        return {int(np.argmax(logits)): 1.0}
    z = logits.astype(np.float64) / temperature
    p = np.exp(z - z.max())
    p /= p.sum()
    order = np.argsort(-p, kind="stable")
    cut = int(np.searchsorted(np.cumsum(p[order]), top_p)) + 1 if top_p < 1 else len(p)
    keep = order[:cut]
    kept = p[keep] / p[keep].sum()
    return {int(t): float(q) for t, q in zip(keep, kept, strict=True) if q > 0}


def within(counts: Counter, probs: dict, n: int, sigmas: float = 5.0) -> list[str]:
    """Every outcome's frequency within `sigmas` binomial standard deviations (+ 2/n) of its probability,
    nothing drawn that has probability 0, and Pearson's chi-square over well-filled bins below
    df + sigmas * sqrt(2 df) (its normal approximation)."""
    problems = [f"{k} drawn {c} times but has probability 0" for k, c in counts.items() if probs.get(k, 0.0) <= 0]
    for k, p in probs.items():
        c = counts.get(k, 0)
        if abs(c / n - p) > sigmas * math.sqrt(p * (1 - p) / n) + 2 / n:
            problems.append(f"{k}: {c}/{n} drawn, probability {p:.4f}")
    big = [k for k, p in probs.items() if n * p >= 5]
    rest_p = 1 - sum(probs[k] for k in big)
    rest_c = n - sum(counts.get(k, 0) for k in big)
    chi2 = sum((counts.get(k, 0) - n * probs[k]) ** 2 / (n * probs[k]) for k in big)
    df = len(big)
    if n * rest_p >= 5:
        chi2 += (rest_c - n * rest_p) ** 2 / (n * rest_p)
    else:
        df -= 1
    if df > 0 and chi2 > df + sigmas * math.sqrt(2 * df):
        problems.append(f"chi-square {chi2:.1f} over {df} degrees of freedom")
    return problems


# --- the target distribution --------------------------------------------------------------------


@pytest.mark.parametrize("vocab", [7, 5000, 49152])
def test_target_distribution_is_the_nucleus(vocab):
    rng = np.random.default_rng(vocab)
    for trial in range(40):
        scale = [0.5, 3.0, 12.0][trial % 3]
        logits = (rng.standard_normal(vocab) * scale).astype(np.float32)
        if trial % 5 == 0:  # ties, also across the nucleus' edge
            logits = np.round(logits).astype(np.float32)
        for temperature, top_p in [(0.8, 0.95), (1.5, 0.5), (0.3, 0.999), (1.0, 1.0), (0.0, 0.9)]:
            dist = target_distribution(logits, temperature, top_p)
            ref = nucleus(logits, temperature, top_p)
            got = {int(t): float(p) for t, p in zip(dist.ids, dist.probs, strict=True) if p > 0}
            assert got.keys() == ref.keys(), (trial, temperature, top_p)
            assert all(abs(got[t] - ref[t]) < 1e-12 for t in ref)
            if top_p < 1:  # most probable first, ties by id
                assert list(dist.ids) == sorted(ref, key=lambda t: (-ref[t], t))


def test_draw_follows_the_distribution_and_excludes():
    dist = Distribution(np.array([4, 2, 9, 7]), np.array([0.5, 0.3, 0.15, 0.05]))
    rng = np.random.default_rng(11)
    n = 20000
    counts = Counter(draw(dist, rng)[0] for _ in range(n))
    assert not within(counts, {4: 0.5, 2: 0.3, 9: 0.15, 7: 0.05}, n)
    counts = Counter(draw(dist, rng, exclude=4)[0] for _ in range(n))
    assert not within(counts, {2: 0.6, 9: 0.3, 7: 0.1}, n)
    token, lp = draw(dist, rng, exclude=4)
    assert lp == pytest.approx(math.log(dict(zip([4, 2, 9, 7], [0.5, 0.3, 0.15, 0.05], strict=True))[token]))


# --- the accept/reject step against its analytic distribution ------------------------------------


def analytic_outcomes(draft: list[int], dists: list[dict[int, float]]) -> dict[tuple[int, ...], float]:
    """P(verify_draft returns these tokens): the target's own probability of each sequence it can return."""
    out: dict[tuple[int, ...], float] = {}
    prefix_p = 1.0
    for j in range(len(draft) + 1):
        for t, p in dists[j].items():
            if j < len(draft) and t == draft[j]:
                continue  # continues the draft: counted at the next position
            out[(*draft[:j], t)] = prefix_p * p
        if j < len(draft):
            prefix_p *= dists[j].get(draft[j], 0.0)
    return {k: v for k, v in out.items() if v > 0}


@pytest.mark.parametrize(
    "draft, dists",
    [
        ([1, 2], [{0: 0.2, 1: 0.5, 3: 0.3}, {2: 0.9, 4: 0.1}, {0: 0.6, 5: 0.4}]),
        ([3, 3, 3], [{3: 0.7, 1: 0.3}, {3: 0.4, 2: 0.35, 0: 0.25}, {1: 1.0}, {3: 0.5, 4: 0.5}]),
        ([5], [{0: 0.5, 1: 0.5}, {2: 1.0}]),  # the draft token is outside the nucleus: always rejected
        ([1, 1], [{1: 1.0}, {1: 1.0}, {0: 0.25, 2: 0.75}]),  # certain tokens: always accepted, then a bonus
        ([], [{0: 0.1, 1: 0.9}]),  # no draft: one token from the distribution
    ],
)
def test_verify_draft_matches_the_analytic_distribution(draft, dists):
    as_dist = [Distribution(np.array(list(d), dtype=np.int64), np.array(list(d.values()))) for d in dists]
    rng = np.random.default_rng(20261126)
    n = 30000
    seen = Counter()
    for _ in range(n):
        tokens, logprobs, accepted = verify_draft(draft, lambda j: as_dist[j], rng)
        assert tokens[:accepted] == draft[:accepted] and len(tokens) == accepted + 1
        assert logprobs == pytest.approx([math.log(dists[j][t]) for j, t in enumerate(tokens)])
        seen[tuple(tokens)] += 1
    expected = analytic_outcomes(draft, dists)
    assert sum(expected.values()) == pytest.approx(1.0)
    assert not within(seen, expected, n)


# --- the whole sampler on a toy model whose answer distribution is enumerated ---------------------

V, STOP = 6, 0
PROMPT = [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 3, 1, 2]


class ToyRuntime:
    """A KV-cache-shaped stand-in for Runtime: logits depend on the last two tokens the cache holds.

    Tokens that continue the prompt's own text get a boost, so n-gram drafts are often right but not
    always; a wrong rollback (a cache holding rejected tokens) would change later distributions.
    """

    def __init__(self, seed: int = 3):
        rng = np.random.default_rng(seed)
        self.table = rng.standard_normal((V, V, V)) * 1.5
        for a, b, c in zip(PROMPT, PROMPT[1:], PROMPT[2:], strict=False):
            self.table[a, b, c] += 2.5
        self.forwards = 0

    def logits_after(self, context: list[int]) -> np.ndarray:
        a, b = ([0, *context])[-2:]
        return self.table[a, b].astype(np.float32)

    def empty_cache(self) -> KVState:
        return KVState(arrays=[], length=0, physical=0, tokens=[])

    def forward(self, tokens, cache: KVState, *, keep=None, want_logits=True) -> ForwardResult:
        self.forwards += 1
        context = [*cache.tokens, *tokens]
        assert len(cache.tokens) == cache.length
        keep = len(tokens) if keep is None else keep
        logits = np.stack([self.logits_after(context[: cache.length + i + 1]) for i in range(len(tokens))])[-keep:]
        grown = KVState(arrays=[], length=len(context), physical=len(context), tokens=context)
        return ForwardResult(logits=logits, next_ids=logits.argmax(-1), cache=grown)

    def truncate(self, cache: KVState, length: int) -> KVState:
        if length >= cache.length:
            return cache
        return KVState(arrays=[], length=length, physical=length, tokens=cache.tokens[:length])


def toy_answers(runtime: ToyRuntime, temperature: float, top_p: float, cap: int) -> dict[tuple[int, ...], float]:
    """The exact probability of every answer (ending at STOP or at the cap)."""
    out: dict[tuple[int, ...], float] = {}

    def walk(answer: tuple[int, ...], p: float) -> None:
        if answer and (answer[-1] == STOP or len(answer) == cap):
            out[answer] = p
            return
        for t, q in nucleus(runtime.logits_after([*PROMPT, *answer]), temperature, top_p).items():
            walk((*answer, t), p * q)

    walk((), 1.0)
    return out


@pytest.mark.parametrize("temperature, top_p, cap", [(1.0, 1.0, 4), (0.8, 0.9, 5), (1.6, 0.95, 3)])
def test_sampler_draws_the_exact_answer_distribution_on_a_toy_model(temperature, top_p, cap):
    runtime = ToyRuntime()
    exact = toy_answers(runtime, temperature, top_p, cap)
    assert sum(exact.values()) == pytest.approx(1.0)
    n = 6000
    for speculate, share in [(True, True), (True, False), (False, False)]:
        samples, stats = sample(runtime, PROMPT, n=n, temperature=temperature, top_p=top_p, seed=5, max_new_tokens=cap,
                                stop_ids={STOP}, speculate=speculate, share=share, max_draft=4)
        counts = Counter(tuple(s.tokens) for s in samples)
        assert not within(counts, exact, n), (speculate, share)
        for s in samples:
            assert s.stop == ("stop" if s.tokens[-1] == STOP else "cap")
            assert STOP not in s.tokens[:-1] and len(s.tokens) <= cap
            assert s.logprob == pytest.approx(math.log(exact[tuple(s.tokens)]))
        assert stats.tokens == sum(len(s.tokens) for s in samples)
        if not speculate:
            assert stats.accepted == stats.drafted == stats.reused == 0 and stats.tokens_per_forward == 1.0
        elif share:  # later candidates draw most tokens from distributions earlier ones computed
            assert stats.reused > stats.tokens / 2 and stats.forwards < (stats.tokens - n) / 10
        else:  # drafts were proposed, accepted and rolled back
            assert stats.reused == 0 and stats.accepted > 0 and stats.rollbacks > 0 and stats.tokens_per_forward > 1.2


def test_sampler_is_seeded_and_stops_at_the_deadline():
    runtime = ToyRuntime()
    kwargs = dict(n=20, temperature=1.2, top_p=0.95, max_new_tokens=6, stop_ids={STOP})
    a, _ = sample(runtime, PROMPT, seed=9, **kwargs)
    b, _ = sample(runtime, PROMPT, seed=9, **kwargs)
    c, _ = sample(runtime, PROMPT, seed=10, **kwargs)
    assert [s.tokens for s in a] == [s.tokens for s in b] != [s.tokens for s in c]
    late, stats = sample(runtime, PROMPT, seed=9, deadline=0.0, **kwargs)
    assert all(s.stop == ("stop" if s.tokens == [STOP] else "deadline") and len(s.tokens) == 1 for s in late)
    assert stats.forwards == 0
    greedy_like, _ = sample(runtime, PROMPT, seed=1, **{**kwargs, "temperature": 0.0})
    assert len({tuple(s.tokens) for s in greedy_like}) == 1


# --- the tiny test pack ---------------------------------------------------------------------------


def test_tiny_pack_speculative_and_plain_sampling_match_the_model(tiny, dev_jsonl):
    """Short answers where the tiny model is unsure: both samplers' frequencies match its exact probabilities."""
    runtime, renderer, stops = tiny
    example = next(itertools.islice(read_examples(dev_jsonl), 2, 3))  # its answers spread over ~15 starts at T = 1
    prompt = renderer.render_prompt(example).token_ids
    temperature, top_p, cap, n = 1.0, 0.95, 4, 400
    draws = {}
    for speculate, share in [(True, True), (True, False), (False, False)]:
        samples, stats = sample(runtime, prompt, n=n, temperature=temperature, top_p=top_p, seed=17, max_new_tokens=cap,
                                stop_ids=stops, speculate=speculate, share=share)
        draws[speculate, share] = Counter(tuple(s.tokens) for s in samples)
    # The model's exact probability of every answer a sampler drew; unseen answers form the chi-square's rest.
    first = runtime.forward(prompt, runtime.empty_cache(), keep=1)
    exact = {}
    for answer in set().union(*draws.values()):
        steps = [first.logits[-1], *(runtime.forward(list(answer[:-1]), first.cache).logits if len(answer) > 1 else [])]
        exact[answer] = math.prod(nucleus(step, temperature, top_p).get(t, 0.0) for step, t in zip(steps, answer, strict=True))
    assert len(exact) > 5 and max(exact.values()) < 0.7  # a spread-out case, not a near-certain answer
    for mode, counts in draws.items():
        assert not within(counts, exact, n), mode


def test_copy_heavy_answers_sample_several_tokens_per_forward(tiny, tiny_pack_builder):
    """The sessions' answers copy the region: speculative sampling verifies > 2 tokens per forward."""
    runtime, renderer, stops = tiny
    tokens = forwards = 0
    for example in tiny_pack_builder.canonical_examples():
        if not example.id.endswith(":edit"):
            continue
        prompt = renderer.render_prompt(example).token_ids
        samples, stats = sample(runtime, prompt, n=4, temperature=0.8, top_p=0.95, seed=3, max_new_tokens=160, stop_ids=stops)
        assert all(s.stop == "stop" for s in samples)
        tokens += stats.accepted + stats.forwards
        forwards += stats.forwards
    assert forwards and tokens / forwards > 2, (tokens, forwards)


# --- sampling inside the answer grammar --------------------------------------------------------------


def test_constrained_sampler_draws_the_exact_masked_distribution_on_a_toy_model():
    """Toy answer grammar: markers 1 and 2, text 3..5, end 0. Every mode draws exactly the masked model."""
    from zeta2_capture.grammar import START, AnswerGrammar

    grammar = AnswerGrammar([1, 2], STOP, {0, 1, 2}, n_blocks=1)
    runtime = ToyRuntime(seed=4)
    # Answers long enough for drafts to cross a closing marker (the state changes inside one verify pass).
    temperature, top_p, cap = 1.0, 0.95, 8
    exact: dict[tuple[int, ...], float] = {}

    def walk(answer: tuple[int, ...], state: int, p: float) -> None:
        if answer and (answer[-1] == STOP or len(answer) == cap):
            exact[answer] = p
            return
        allowed = grammar.allowed(state)
        logits = runtime.logits_after([*PROMPT, *answer]).astype(np.float64)
        masked = np.array([x if t in allowed else -np.inf for t, x in enumerate(logits)])
        for t, q in nucleus(masked, temperature, top_p).items():
            walk((*answer, t), grammar.advance(state, t), p * q)

    walk((), START, 1.0)
    assert sum(exact.values()) == pytest.approx(1.0)
    n = 6000
    for speculate, share in [(True, True), (True, False), (False, False)]:
        samples, _ = sample(runtime, PROMPT, n=n, temperature=temperature, top_p=top_p, seed=11, max_new_tokens=cap,
                            stop_ids={STOP}, speculate=speculate, share=share, max_draft=4, grammar=grammar)
        counts = Counter(tuple(s.tokens) for s in samples)
        assert not within(counts, exact, n), (speculate, share)
        for s in samples:
            assert s.tokens[0] in (1, 2)  # an answer starts with a marker
            if s.stop == "stop":
                closing = [t for t in s.tokens[1:-1] if t in (1, 2)]
                assert len(closing) == 1 and closing[0] >= s.tokens[0] and s.tokens[-2] == closing[0]


def test_constrained_samples_of_the_tiny_pack_always_parse(tiny, dev_jsonl):
    """On dev prompts the tiny model's free samples leave the format; inside the grammar every finished one parses."""
    from zeta2_capture.grammar import AnswerGrammar
    from zeta2_capture.prompt import FormatError

    runtime, renderer, stops = tiny
    free_errors = finished = 0
    for example in itertools.islice(read_examples(dev_jsonl), 5, 400, 40):
        prompt = renderer.render_prompt(example)
        for grammar in (None, AnswerGrammar.for_prompt(renderer, prompt)):
            samples, _ = sample(runtime, prompt.token_ids, n=4, temperature=1.0, top_p=0.95, seed=2, max_new_tokens=40,
                                stop_ids=stops, grammar=grammar)
            for s in samples:
                if s.stop != "stop":
                    continue
                parsed = renderer.parse_output(prompt, renderer.decode(s.tokens))
                if grammar is None:
                    free_errors += isinstance(parsed, FormatError)
                else:
                    finished += 1
                    assert not isinstance(parsed, FormatError), (example.id, parsed)
    assert free_errors > 0 and finished > 0


@pytest.mark.parametrize("speculate", [False, True])
def test_a_sampled_loop_stops_where_the_guard_sees_it(speculate):
    """A model that loops at any temperature: each candidate ends as soon as its tail is a loop."""
    cycle = list(range(30, 40))
    prompt = [1, 2, *cycle, 3]
    guard = LoopGuard(prompt)
    samples, _ = sample(CycleRuntime(cycle), prompt, n=6, temperature=0.5, seed=11, max_new_tokens=400,
                        stop_ids={63}, speculate=speculate, loop_guard=guard)
    assert {s.stop for s in samples} == {"loop"}
    for s in samples:
        assert guard.looping(s.tokens) and not guard.looping(s.tokens[:-1]), s.tokens  # the first place it shows
    unguarded, _ = sample(CycleRuntime(cycle), prompt, n=2, temperature=0.5, seed=11, max_new_tokens=60,
                          stop_ids={63}, speculate=speculate)
    assert {s.stop for s in unguarded} == {"cap"}
