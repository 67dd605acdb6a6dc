"""Settled-edit tracking under a driven clock (no sleeping)."""

from __future__ import annotations

import pytest

from zeta2_capture.schema import Example
from zeta2_capture.settle import Dropped, Retention, Settled, SettleTracker, settled_example

DOC = "".join(f"line {i}\n" for i in range(30))
REGION = (DOC.index("line 10"), DOC.index("line 13"))  # lines 10..12
PREDICTED = "line 10\nline 11 = predicted\nline 12\n"


def shown(tracker, clock, id="s1", **kw):
    tracker.on_shown(id, "a.py", DOC, *REGION, PREDICTED, model="m@1", latency_ms=42.0, now=clock(), **kw)


def test_settles_10_seconds_after_the_last_overlapping_edit(clock):
    t = SettleTracker(clock)
    shown(t, clock)
    clock.advance(6)
    typed = DOC.replace("line 11\n", "line 11 = pred\n")
    t.on_edit("a.py", DOC, typed)  # overlapping: the 10 s start again
    clock.advance(9.9)
    assert t.tick() == []
    clock.advance(0.1)
    [out] = t.tick()
    assert isinstance(out, Settled)
    assert out.settled_region == "line 10\nline 11 = pred\nline 12\n"
    assert out.region_before == DOC[REGION[0]:REGION[1]] and out.predicted_region == PREDICTED
    assert 0 < out.kept_rate < 1 and out.recall_rate == 1.0
    assert out.model == "m@1" and out.latency_ms == 42.0 and not out.accepted
    assert out.settled_at - out.shown_at == pytest.approx(16.0)
    assert t.tick(clock.advance(100)) == [] and len(t) == 0


def test_edits_outside_the_region_move_it_but_do_not_delay_settling(clock):
    t = SettleTracker(clock)
    shown(t, clock)
    clock.advance(5)
    above = DOC.replace("line 2\n", "line 2 with more text\n")
    t.on_edit("a.py", DOC, above)  # before the region: shifts it
    below = above.replace("line 25\n", "changed 25\n")
    t.on_edit("a.py", above, below)  # after the region
    t.on_edit("b.py", "x", "y")  # another file
    clock.advance(5)
    [out] = t.tick()
    assert isinstance(out, Settled) and out.settled_region == DOC[REGION[0]:REGION[1]]
    assert out.kept_rate == 0.0  # the suggestion was ignored


def test_dropped_after_five_minutes_of_editing(clock):
    t = SettleTracker(clock)
    shown(t, clock)
    text = DOC
    for i in range(40):  # keep editing the region every 8 s
        clock.advance(8)
        new = text.replace("line 11", f"line 11{i % 10}", 1) if i % 2 == 0 else text.replace(f"line 11{(i - 1) % 10}", "line 11", 1)
        t.on_edit("a.py", text, new)
        text = new
        outs = t.tick()
        if outs:
            break
    assert outs == [Dropped("s1", "a.py", "timeout")]
    assert clock.now - 1000.0 >= 300


def test_dropped_when_the_region_grows_over_4_kib(clock):
    t = SettleTracker(clock)
    shown(t, clock)
    pasted = DOC.replace("line 11\n", "line 11\n" + "x" * 5000 + "\n")
    t.on_edit("a.py", DOC, pasted)
    assert t.tick() == [Dropped("s1", "a.py", "too large")]
    t.on_shown("big", "a.py", "y" * 5000, 0, 5000, "z", now=clock())
    assert t.tick() == [Dropped("big", "a.py", "too large")]


def test_closed_documents_drop_their_suggestions(clock):
    t = SettleTracker(clock)
    shown(t, clock)
    t.on_closed("a.py")
    assert t.tick() == [Dropped("s1", "a.py", "closed")]


def test_accepted_suggestions_report_retention_at_each_mark(clock):
    t = SettleTracker(clock)
    shown(t, clock)
    t.on_accepted("s1")
    accepted = DOC[: REGION[0]] + PREDICTED + DOC[REGION[1]:]
    t.on_edit("a.py", DOC, accepted)
    start = clock.now
    outs = []
    clock.advance(10)
    outs += t.tick()
    assert isinstance(outs[0], Settled) and outs[0].accepted and outs[0].kept_rate == 1.0
    clock.advance(5)
    outs += t.tick()  # 15 s
    partly = accepted.replace("= predicted", "= pre")
    t.on_edit("a.py", accepted, partly)
    clock.advance(15)
    outs += t.tick()  # 30 s
    clock.advance(300)
    outs += t.tick()  # 60, 120 and 300 s all due now
    retention = [o for o in outs if isinstance(o, Retention)]
    assert [r.seconds for r in retention] == [15, 30, 60, 120, 300]
    assert retention[0].retained == 1.0 and 0 < retention[1].retained < 1
    assert clock.now - start >= 300 and len(t) == 0


def test_next_deadline_tells_the_daemon_when_to_tick(clock):
    t = SettleTracker(clock)
    assert t.next_deadline() is None
    shown(t, clock)
    assert t.next_deadline() == clock.now + 10


def test_settled_example_puts_the_settled_region_in_expected(clock):
    t = SettleTracker(clock)
    example = Example("ex1", "a.py", "python", DOC, REGION[0] + 5, meta={"repo": "r"})
    shown(t, clock, example=example)
    typed = DOC.replace("line 11\n", "line 11 = pred\n")
    t.on_edit("a.py", DOC, typed)
    clock.advance(10)
    [out] = t.tick()
    ex = settled_example(out)
    assert ex.expected == typed and ex.before == DOC
    assert ex.meta["kind"] == "settled" and ex.meta["repo"] == "r" and ex.meta["model"] == "m@1"
    assert ex.meta["predicted_region"] == PREDICTED and 0 < ex.meta["kept_rate"] < 1


def test_region_must_lie_in_the_document(clock):
    with pytest.raises(ValueError, match="region 5..99 is outside the document"):
        SettleTracker(clock).on_shown("x", "a.py", "short", 5, 99, "")
