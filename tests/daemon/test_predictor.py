"""Predictor: Example in, parsed edit out; the tiny pack's session answers exactly; sampling is seeded."""

from __future__ import annotations

import time

import pytest

from zeta2_daemon.predictor import Predictor


@pytest.fixture(scope="module")
def tp(tiny_pack_builder):
    return tiny_pack_builder


@pytest.fixture(scope="module")
def predictor(tiny_pack):
    return Predictor(tiny_pack, threads=1)


def test_every_session_gets_its_exact_suggestion(predictor, tp):
    for session in tp.load_sessions():
        ex = tp.session_example(session, state="edit")
        result = predictor.predict(ex)
        assert result.error is None, result.error
        assert result.predicted == session.expected_text, session.name
        edit = result.edit
        assert edit.predicted[: edit.start] == ex.before[: edit.start] and not edit.is_noop
        assert result.stop == "stop" and result.model == "zeta2-tiny-test@0.1.0"
        t = result.timings
        assert t.tokenize_ms > 0 and t.prefill_ms > 0 and t.decode_ms > 0 and t.parse_ms > 0
        assert t.total_ms >= t.tokenize_ms + t.prefill_ms + t.decode_ms
        assert result.tokens_per_forward > 1 and result.prompt_tokens > 0
        pred = result.to_prediction()
        assert pred.id == ex.id and pred.predicted == session.expected_text and pred.latency_ms > 0


def test_no_edit_states_suggest_nothing(predictor, tp):
    for session in tp.load_sessions():
        for i in range(len(session.no_edit)):
            result = predictor.predict(tp.session_example(session, state="noop", no_edit_index=i))
            assert result.edit is not None and result.is_noop, session.name
            assert result.predicted == session.initial


def test_augmented_variants_still_get_the_answer(predictor, tp):
    """Small prompt differences (split history, older events, related, diagnostics) keep the answer."""
    sessions = tp.load_sessions()
    variants = tp.augmented_examples(sessions, seed=4242, per_edit=2, per_noop=0)
    exact = sum(predictor.predict(ex).predicted == ex.expected for ex in variants)
    # Measured: 8/12 with seed 4242 (training reports ~80% on its own held-out set); the canonical
    # prompts, which the daemon sends, are exact (test above).
    assert exact >= 0.6 * len(variants), f"{exact}/{len(variants)}"


def test_deadline_gives_nothing(predictor, tp):
    ex = tp.canonical_examples()[0]
    result = predictor.predict(ex, deadline=time.perf_counter() - 1)
    assert result.timed_out and result.predicted is None and result.edit is None
    assert result.error == "deadline passed before the answer was complete"
    assert result.to_prediction().predicted == ex.before  # no suggestion: the text unchanged


def test_sampling_is_seeded_and_temperature_zero_is_greedy(predictor, tp):
    ex = tp.canonical_examples()[0]
    greedy = predictor.predict(ex, reuse_prefix=False)
    cold = predictor.sample(ex, n=2, temperature=0.0, seed=1)
    assert [s.output_tokens for s in cold] == [greedy.output_tokens] * 2
    a = predictor.sample(ex, n=3, temperature=1.5, top_p=0.9, seed=7, max_output_tokens=12)
    b = predictor.sample(ex, n=3, temperature=1.5, top_p=0.9, seed=7, max_output_tokens=12)
    assert [s.output_tokens for s in a] == [s.output_tokens for s in b]
    assert all(s.logprob is not None and s.logprob <= 0 for s in a)
    assert len({tuple(s.output_tokens) for s in a + predictor.sample(ex, n=3, temperature=1.5, seed=8, max_output_tokens=12)}) > 1


def test_sampling_rejects_bad_arguments(predictor, tp):
    ex = tp.canonical_examples()[0]
    with pytest.raises(ValueError, match="n must be at least 1"):
        predictor.sample(ex, n=0)
    with pytest.raises(ValueError, match=r"top_p must be in \(0, 1\]"):
        predictor.sample(ex, n=1, top_p=0)


def test_answers_stop_at_the_prompts_answer_budget(predictor, tp):
    """Without a cap from the caller, an answer that never closes ends at the prompt's answer budget."""
    ex = tp.canonical_examples()[0]
    budget = predictor.render(ex).answer_budget
    assert budget < predictor.max_output_tokens
    samples = predictor.sample(ex, n=8, temperature=4.0, top_p=1.0, seed=3)
    capped = [s for s in samples if s.stop == "cap"]
    assert capped, [s.stop for s in samples]  # at this temperature some answers wander off
    assert all(len(s.output_tokens) == budget for s in capped)
    assert all(len(s.output_tokens) <= budget for s in samples)
    # A smaller cap from the caller still wins.
    assert all(len(s.output_tokens) <= 5 for s in predictor.sample(ex, n=2, temperature=4.0, seed=3, max_output_tokens=5))
