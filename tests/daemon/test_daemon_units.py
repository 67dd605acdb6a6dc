"""Unit tests of the daemon's pure parts: positions, debounce and queue, minimal edits, cache, guardrails,
A/B assignment, settings. No model, no subprocess; clocks are driven by hand."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zeta2_capture.diffs import make_diff
from zeta2_capture.schema import Event
from zeta2_daemon import guardrails
from zeta2_daemon.ab import ABError, assign, bucket, installation_id, parse_ab_option
from zeta2_daemon.config import DEFAULTS, Variant, parse_settings
from zeta2_daemon.documents import Document, DocumentError, DocumentStore, column_to_index, index_to_column
from zeta2_daemon.scheduler import Debouncer, PendingRequests, Scheduler
from zeta2_daemon.suggestions import (
    Edit,
    Suggestion,
    SuggestionCache,
    inline_insertion,
    minimal_edit,
    typed_through,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# ---------------------------------------------------------------- documents


def test_columns_in_each_encoding():
    line = "a😀é中b"  # 1, 2 (astral), 1, 1, 1 code units in UTF-16
    assert column_to_index(line, 3, "utf-16") == 2  # after the emoji
    assert column_to_index(line, 5, "utf-8") == 2  # 'a' + 4-byte emoji
    assert column_to_index(line, 2, "utf-32") == 2
    assert index_to_column(line, 4, "utf-16") == 5
    assert index_to_column(line, 4, "utf-8") == 1 + 4 + 2 + 3
    assert column_to_index(line, 999, "utf-16") == len(line)  # clamped, as LSP says


def test_incremental_changes_in_utf16_and_crlf():
    store = DocumentStore("utf-16")
    store.open("file:///a.py", 1, "x = '😀'\r\ny = 2\r\n")
    edits = store.change("file:///a.py", 2, [((0, 7, 0, 7), "!"), ((1, 4, 1, 5), "3")])
    doc = store.get("file:///a.py")
    assert doc.text == "x = '😀!'\r\ny = 3\r\n"
    assert edits[0].start == 6 and edits[1].old_text == "2"
    assert doc.position_at(doc.text.index("3"), "utf-16") == (1, 4)
    assert doc.line_text(0) == "x = '😀!'"
    with pytest.raises(DocumentError, match="past the end"):
        doc.offset_at(5, 0, "utf-16")
    with pytest.raises(DocumentError, match="not open"):
        store.get("file:///b.py")


@given(st.text(alphabet=st.sampled_from("ab\n😀é"), max_size=30), st.data())
def test_position_roundtrip(text, data):
    doc = Document("file:///t", 1, text)
    offset = data.draw(st.integers(0, len(text)))
    for enc in ("utf-8", "utf-16", "utf-32"):
        line, col = doc.position_at(offset, enc)
        assert doc.offset_at(line, col, enc) == offset


# ---------------------------------------------------------------- scheduling


def test_debouncer_allows_one_start_per_interval():
    clock = FakeClock()
    d = Debouncer(0.3, clock)
    assert d.delay("a") == 0
    d.mark_started("a")
    clock.now += 0.1
    assert d.delay("a") == pytest.approx(0.2)
    assert d.delay("b") == 0  # per document
    clock.now += 0.2
    assert d.delay("a") == 0


def test_pending_queue_keeps_two_and_cancels_the_oldest():
    q = PendingRequests(per_key=2, total=3)
    t1, _ = q.add("a")
    t2, _ = q.add("a")
    t3, displaced = q.add("a")
    assert displaced == [t1] and t1.cancelled and "newer" in t1.reason
    assert q.pending("a") == [t2, t3]
    q.add("b")
    t5, displaced = q.add("c")  # 4 in total > 3: the oldest overall goes
    assert displaced == [t2] and len(q) == 3


async def test_scheduler_waits_for_the_debounce_and_newer_cancels_older():
    clock = FakeClock()
    slept: list[float] = []

    async def sleep(delay: float) -> None:  # drives the clock instead of waiting
        slept.append(delay)
        clock.now += delay
        await asyncio.sleep(0)

    s = Scheduler(0.3, 2, clock=clock, sleep=sleep)
    first = await s.admit("a")
    assert not first.cancelled and slept == []
    second = await s.admit("a")  # must wait 300 ms after the first start
    assert not second.cancelled and slept == [pytest.approx(0.3)]
    s.done(first)
    s.done(second)
    # Three at once while one runs: the oldest waiting one is displaced.
    running = await s.admit("b")
    waiting = [asyncio.ensure_future(s.admit("b")) for _ in range(2)]
    results = await asyncio.gather(*waiting)
    assert [t.cancelled for t in results] == [True, False]
    assert running.cancelled is False


# ---------------------------------------------------------------- suggestions


def test_minimal_edit_trims_prefix_and_suffix():
    before = "def f(a):\n    return a\n"
    after = "def f(a, b):\n    return a + b\n"
    e = minimal_edit(before, after)
    assert e.apply(before) == after
    assert before[: e.start] == "def f(a"
    assert minimal_edit("same", "same") is None


@given(st.text("ab\n", max_size=20), st.text("ab\n", max_size=20), st.integers(0, 20))
def test_minimal_edit_is_exact(before, after, anchor):
    e = minimal_edit(before, after)
    if before == after:
        assert e is None
    else:
        assert e.apply(before) == after
        ghost = inline_insertion(before, e, min(anchor, len(before)))
        if ghost is not None:
            start, end, text = ghost
            assert before[:start] + text + before[end:] == after


def test_inline_insertion_only_on_the_cursor_line():
    before = "x = foo(\ny = 1\n"
    e = minimal_edit(before, "x = foo(a, b)\ny = 1\n")
    assert inline_insertion(before, e, cursor=8) == (8, 8, "a, b)")
    far = minimal_edit(before, "x = foo(\ny = 12\n")
    assert inline_insertion(before, far, cursor=8) is None
    replace = Edit(0, 1, "z")
    assert inline_insertion(before, replace, cursor=0) is None


def _suggestion(before: str, edit: Edit) -> Suggestion:
    return Suggestion("s-1", "file:///a.py", 3, before, edit.start, edit, "v", "m")


def test_typing_through_a_suggestion_is_answered_from_the_cache():
    before = "print(\n"
    s = _suggestion(before, Edit(6, 6, "'hello')"))
    cache = SuggestionCache()
    cache.put(s)
    hit = cache.lookup(s.uri, 4, "print('he\n", 9)
    assert hit is not None and hit.id == "s-1" and hit.from_cache
    assert hit.edit == Edit(9, 9, "llo')") and hit.predicted == "print('hello')\n"
    assert cache.lookup(s.uri, 5, "print('hx\n", 9) is None  # typed something else
    assert typed_through(s, "print('hello')\n", 14) is None  # all typed: nothing left to suggest


# ---------------------------------------------------------------- guardrails


def test_guardrails_reasons():
    before = "def f(x):\n    return x\n"
    assert guardrails.check(before, None, language="python").reason == "no-op"
    assert guardrails.check(before, Edit(0, 0, "  \n"), language="python").reason == "whitespace-only"
    broken = minimal_edit(before, "def f(x):\n    return (x\n")
    assert guardrails.check(before, broken, language="python").reason == "breaks-syntax"
    big = Edit(0, 0, "# " + "x" * 300 + "\n")
    assert guardrails.check(before, big, language="python", aggressiveness="low").reason == "too-large"
    assert guardrails.check(before, big, language="python", aggressiveness="high").ok
    # Undoing the user's own last edit (they renamed y -> x; the model renames it back).
    user_before = "def f(y):\n    return x\n"
    events = [Event("a.py", make_diff(user_before, before, "a.py"))]
    revert = minimal_edit(before, user_before)
    assert guardrails.check(before, revert, language="python", events=events).reason == "reverts-last-edit"
    forward = minimal_edit(before, "def f(x):\n    return x * 2\n")
    assert guardrails.check(before, forward, language="python", events=events).ok


def test_a_file_that_did_not_parse_cannot_be_broken():
    before = "def f(:\n"
    e = minimal_edit(before, "def f(:\n  x = (\n")
    assert guardrails.check(before, e, language="python").ok


# ---------------------------------------------------------------- A/B


def test_assignment_is_stable_and_follows_shares(tmp_path):
    variants = [Variant("/p/a", 1.0, "a"), Variant("/p/b", 3.0, "b")]
    picks = [assign("install-1", f"src/f{i}.py", variants).label for i in range(2000)]
    assert picks == [assign("install-1", f"src/f{i}.py", variants).label for i in range(2000)]
    assert 0.70 < picks.count("b") / len(picks) < 0.80
    other = [assign("install-2", f"src/f{i}.py", variants).label for i in range(2000)]
    assert other != picks  # another installation gets its own split
    assert 0 <= bucket("x", "y") < 1
    ident = installation_id(tmp_path)
    assert installation_id(tmp_path) == ident and len(ident) == 32


def test_ab_option_parsing():
    v = parse_ab_option("/packs/new=0.25")
    assert (v.pack, v.share, v.label) == ("/packs/new", 0.25, "new")
    with pytest.raises(ABError, match="expected PACK_DIR=SHARE"):
        parse_ab_option("/packs/new")
    with pytest.raises(ABError, match="is not a number"):
        parse_ab_option("/packs/new=half")


# ---------------------------------------------------------------- settings


def test_settings_defaults_nesting_and_fallbacks():
    s, problems = parse_settings(None)
    assert s == DEFAULTS and problems == []
    s, problems = parse_settings(
        {"zeta2": {"debounceMs": 50, "capture": {"enabled": True, "shipTo": "/tmp/out"}, "abVariants": [{"pack": "/a", "share": 1}]}}
    )
    assert problems == [] and s.debounce_ms == 50 and s.capture_enabled and s.capture_ship_to == "/tmp/out"
    assert s.ab_variants == (Variant("/a", 1.0),)
    s, problems = parse_settings({"debounceMs": "fast", "maxPending": 0, "device": "tpu"}, base=s)
    assert s.debounce_ms == 300 and s.max_pending == 2 and s.device == "auto"
    assert [p.key for p in problems] == ["debounceMs", "maxPending", "device"]
    assert problems[2].message() == (
        "zeta2: setting 'device' = 'tpu' is invalid (must be one of auto, cpu, cuda); using the default 'auto'"
    )
