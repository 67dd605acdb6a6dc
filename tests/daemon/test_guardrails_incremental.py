"""The guardrail's incremental syntax check gives what two full parses give.

Exactly so whenever the text before is free of ERROR and MISSING nodes. tree-sitter's error recovery
is not always the same in a re-parsed tree as in a fresh parse: a fresh parse can leave a MISSING
node without marking the root `has_error` (so the full-parse check takes a broken file for clean)
where the re-parse marks it; the guardrail then skips the check, as it does for any broken file.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from zeta2_daemon import guardrails
from zeta2_daemon.suggestions import Edit

SESSIONS = Path(__file__).resolve().parent.parent / "fixtures" / "sessions"
SNIPPETS = ["", "x", ")", "(", "{", "}", "\n", "  ", "é", "😀", "def ", "return 1\n", "\"", "'", ";", ", true", "fn f() {}\n"]


def full_delta(language: str, before: str, after: str) -> int | None:
    from zeta2_capture.languages import count_syntax_errors

    errors_before = count_syntax_errors(language, before)
    if errors_before is None or errors_before > 0:
        return None
    errors_after = count_syntax_errors(language, after)
    return None if errors_after is None else errors_after - errors_before


def has_error_nodes(language: str, text: str) -> bool:
    from zeta2_capture.languages import parse

    stack = [parse(language, text).root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            return True
        stack.extend(node.children)
    return False


def random_edit(rng: random.Random, text: str) -> Edit:
    start = rng.randint(0, len(text))
    end = min(len(text), start + rng.choice([0, 0, 1, 2, 5, 20]))
    return Edit(start, end, rng.choice(SNIPPETS))


def typing_edit(rng: random.Random, text: str) -> Edit:
    """A keystroke that mostly keeps the code parseable: a letter inside a word, or a new line."""
    words = [i for i, c in enumerate(text) if c.isalpha()]
    if not words or rng.random() < 0.1:
        return Edit(len(text), len(text), "\n")
    at = rng.choice(words)
    return Edit(at, at, rng.choice("xyzé"))


@pytest.mark.parametrize("session", sorted(p.name for p in SESSIONS.glob("*.json")))
def test_incremental_syntax_delta_equals_full_parses(session):
    s = json.loads((SESSIONS / session).read_text(encoding="utf-8"))
    language = s["language"]
    rng = random.Random(session)
    trees = guardrails.SyntaxTrees(size=2)
    clean = [t for t in (s["initial"], s["final"], s["expected"]["text"]) if full_delta(language, t, t) == 0]
    assert clean
    compared = 0
    text = clean[0]
    # A document typed on (its tree re-parsed incrementally from the last one) with a suggestion
    # checked after every keystroke; now and then the text jumps back to a clean version, or
    # another document is checked in between.
    for _step in range(1000):
        if rng.random() < 0.2:
            text = rng.choice(clean)
        edit = typing_edit(rng, text) if rng.random() < 0.8 else random_edit(rng, text)
        text = edit.apply(text)
        suggestion = typing_edit(rng, text) if rng.random() < 0.5 else random_edit(rng, text)
        expected = full_delta(language, text, suggestion.apply(text))
        got = trees.delta("doc", language, text, suggestion)
        assert got == expected, (text, suggestion)
        compared += expected is not None
        if rng.random() < 0.1:
            trees.delta(f"other-{rng.randint(0, 3)}", language, "x = 1\n", Edit(0, 0, "y"))
    assert compared >= 200  # the clean-before case, where both parses count, is well covered


def test_check_with_trees_suppresses_what_breaks_syntax():
    trees = guardrails.SyntaxTrees()
    before = "def f(a):\n    return a\n"
    assert guardrails.check(before, Edit(10, 10, "(("), language="python", trees=trees, document="d").reason == "breaks-syntax"
    assert guardrails.check(before, Edit(21, 22, "b"), language="python", trees=trees, document="d").ok
