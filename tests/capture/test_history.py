"""Edit history under a driven clock: coalescing, pauses, limits, predicted events."""

from __future__ import annotations

from zeta2_capture.diffs import apply_diff
from zeta2_capture.history import EditHistory, changed_span

TEXT = "".join(f"line {i}\n" for i in range(60))


def edit_line(text: str, line: int, new: str) -> str:
    lines = text.split("\n")
    lines[line] = new
    return "\n".join(lines)


def test_changed_span_finds_the_one_changed_region():
    assert changed_span("abcdef", "abXYef") == (2, 4, 4)
    assert changed_span("abc", "abc!") == (3, 3, 4)
    assert changed_span("aaa", "aa") == (2, 3, 2)


def test_typing_within_a_second_coalesces_into_one_event(clock):
    h = EditHistory(clock)
    text = TEXT
    for i in range(5):
        new = edit_line(text, 10, "line 10" + "hello"[: i + 1])
        h.record("a.py", text, new)
        text = new
        clock.advance(0.3)
    events = h.events()
    assert len(events) == 1
    assert apply_diff(TEXT, events[0].diff) == text
    assert "+line 10hello" in events[0].diff and events[0].predicted is False


def test_a_one_second_pause_splits_events(clock):
    h = EditHistory(clock)
    a = edit_line(TEXT, 10, "changed 10")
    h.record("a.py", TEXT, a)
    clock.advance(1.0)
    b = edit_line(a, 11, "changed 11")
    h.record("a.py", a, b)
    events = h.events()
    assert len(events) == 2
    assert apply_diff(apply_diff(TEXT, events[0].diff), events[1].diff) == b


def test_edits_more_than_8_lines_apart_split_and_within_8_coalesce(clock):
    h = EditHistory(clock)
    a = edit_line(TEXT, 10, "x")
    h.record("a.py", TEXT, a)
    clock.advance(0.1)
    b = edit_line(a, 18, "y")  # 8 lines away: same event
    h.record("a.py", a, b)
    clock.advance(0.1)
    c = edit_line(b, 40, "z")  # far away: new event
    h.record("a.py", b, c)
    events = h.events()
    assert len(events) == 2
    assert "+x" in events[0].diff and "+y" in events[0].diff and "+z" in events[1].diff


def test_another_file_starts_a_new_event_and_recent_paths_are_newest_first(clock):
    h = EditHistory(clock)
    h.record("a.py", "a\n", "ab\n")
    h.record("b.py", "b\n", "bc\n")
    assert [e.path for e in h.events()] == ["a.py", "b.py"]
    assert h.recent_paths() == ["b.py", "a.py"]
    assert h.events()[1].diff.startswith("--- a/b.py\n+++ b/b.py\n")


def test_ten_events_kept_and_max_events_takes_the_newest(clock):
    h = EditHistory(clock)
    text = TEXT
    for i in range(14):
        new = edit_line(text, i * 4 % 60, f"edit {i}")
        h.record("a.py", text, new)
        text = new
        clock.advance(2)
    events = h.events()
    assert len(events) == 10
    assert "+edit 13" in events[-1].diff and "+edit 4" in events[0].diff
    assert h.events(3) == events[-3:]
    assert h.events(0) == ()


def test_events_over_6_kib_are_dropped(clock):
    h = EditHistory(clock)
    big = TEXT + "x" * 7000 + "\n"
    h.record("a.py", TEXT, big)
    clock.advance(2)
    small = edit_line(big, 0, "small")
    h.record("a.py", big, small)
    events = h.events()
    assert len(events) == 1 and "+small" in events[0].diff


def test_typed_then_deleted_leaves_no_event(clock):
    h = EditHistory(clock)
    a = edit_line(TEXT, 5, "line 5 oops")
    h.record("a.py", TEXT, a)
    clock.advance(0.2)
    h.record("a.py", a, TEXT)
    assert h.events() == ()


def test_accepted_suggestion_is_its_own_predicted_event(clock):
    h = EditHistory(clock)
    a = edit_line(TEXT, 5, "typed")
    h.record("a.py", TEXT, a)
    clock.advance(0.1)
    b = edit_line(a, 6, "suggested")
    h.record("a.py", a, b, predicted=True)
    clock.advance(0.1)
    c = edit_line(b, 7, "typed again")
    h.record("a.py", b, c)
    events = h.events()
    assert [e.predicted for e in events] == [False, True, False]
    assert "+suggested" in events[1].diff and "+typed again" in events[2].diff


def test_windowed_diff_equals_the_whole_file_diff(dev_jsonl):
    """The history renders events on a window around the change; it must give make_diff's exact text."""
    import itertools
    import random

    from zeta2_capture.diffs import make_diff
    from zeta2_capture.history import windowed_diff
    from zeta2_capture.schema import read_examples

    rng = random.Random(7)
    checked = 0
    for ex in itertools.islice(read_examples(dev_jsonl), 0, 400, 4):
        pairs = [(ex.before, ex.expected)]
        for _ in range(3):
            a = rng.randrange(len(ex.before) + 1)
            b = min(len(ex.before), a + rng.randrange(60))
            pairs.append((ex.before, ex.before[:a] + rng.choice(["", "x", "\n", "a\nb\n", "    pass\n"]) + ex.before[b:]))
        for old, new in pairs:
            assert windowed_diff(old, new, ex.path) == make_diff(old, new, ex.path), ex.id
            checked += 1
    assert checked >= 400


def test_events_replayed_in_order_rebuild_the_text_property():
    """Whatever the edits and pauses, the events chain: applying them in order to the text before
    the first one gives the text after the last one."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    edit = st.tuples(
        st.integers(min_value=0, max_value=10_000),  # position (mod len)
        st.integers(min_value=0, max_value=12),  # characters deleted
        st.sampled_from(["", "x", "\n", "abc\n", "    return 1\n", "é", "😀"]),  # inserted
        st.sampled_from([0.05, 0.3, 0.99, 1.0, 3.0]),  # pause before it
    )

    @settings(max_examples=60, deadline=None)
    @given(st.lists(edit, min_size=1, max_size=9))
    def check(edits):
        clock = [100.0]
        history = EditHistory(lambda: clock[0])
        text = start = TEXT
        for pos, deleted, inserted, pause in edits:
            clock[0] += pause
            pos %= len(text) + 1
            new = text[:pos] + inserted + text[pos + deleted :]
            history.record("a.py", text, new)
            text = new
        replay = start
        for event in history.events():
            replay = apply_diff(replay, event.diff)
        assert replay == text

    check()
