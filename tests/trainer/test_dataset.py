"""Rendering training samples: what the format cannot train on is dropped and counted, never cut."""

from __future__ import annotations

from zeta2_capture.schema import Example
from zeta2_trainer.dataset import RenderCounts, make_renderer, render_samples


def example(expected: str, id: str) -> Example:
    before = "def f(x):\n    return x\n\n\ndef g(y):\n    return y\n"
    return Example(id=id, path="pkg/mod.py", language="python", before=before, cursor=len(before), events=(), expected=before + expected)


def test_a_target_past_the_prompts_answer_budget_is_dropped(smollm2_tokenizer_json):
    renderer, _ = make_renderer(smollm2_tokenizer_json, "smollm2", 1024)
    small = example("\n\ndef h(z):\n    return z\n", "small")
    # Forty new functions into a six-line region: serving would stop this answer at the budget.
    large = example("".join(f"\n\ndef h{i}(z):\n    return z * {i}\n" for i in range(40)), "large")
    budget = renderer.render_prompt(large).answer_budget
    assert len(renderer.render_training_pair(large)[1].token_ids) > budget  # the case is real
    counts = RenderCounts()
    kept = list(render_samples([small, large], renderer, counts, max_target_tokens=10_000))
    assert [s.id for s in kept] == ["small"]
    assert counts.dropped == {"target over the output budget": 1}
    # The configured cap still applies when it is the smaller one.
    counts = RenderCounts()
    assert not list(render_samples([small], renderer, counts, max_target_tokens=5))
    assert counts.dropped == {"target over the output budget": 1}
