"""`zeta2-trainer ingest` on a real capture export: SettleTracker -> CaptureStore -> export_captures."""

from __future__ import annotations

import json

from zeta2_capture.export import export_captures
from zeta2_capture.schema import Example, read_examples
from zeta2_capture.settle import Settled, SettleTracker, settled_example
from zeta2_capture.store import CaptureStore
from zeta2_trainer.cli import main as cli

TEXT = "def area(w, h):\n    return w * h\n\n\ndef perimeter(w, h):\n    pass\n"


def settled_capture(tracker: SettleTracker) -> Example:
    """A suggestion shown over perimeter's body, accepted, then edited further by the user."""
    start = TEXT.index("    pass")
    end = start + len("    pass\n")
    snapshot = Example(id="cap-1", path="geo.py", language="python", before=TEXT, cursor=start + 4, meta={"source": "zeta2-daemon"})
    tracker.on_shown("cap-1", "geo.py", TEXT, start, end, "    return 2 * (w + h)\n", model="student-v1", latency_ms=42.0, example=snapshot, now=0.0)
    tracker.on_accepted("cap-1", now=1.0)
    accepted = TEXT.replace("    pass\n", "    return 2 * (w + h)\n")
    tracker.on_edit("geo.py", TEXT, accepted, now=1.0)
    final = accepted.replace("2 * (w + h)", "2 * w + 2 * h")
    tracker.on_edit("geo.py", accepted, final, now=2.0)
    outcomes = [o for o in tracker.tick(now=20.0) if isinstance(o, Settled)]
    assert len(outcomes) == 1
    example = settled_example(outcomes[0])
    assert example is not None and example.expected == final
    return example


def test_ingest_real_capture_export(tmp_path, capsys):
    store = CaptureStore(tmp_path / "captures.sqlite", max_bytes=10_000_000)
    store.add(settled_capture(SettleTracker(clock=lambda: 0.0)), "settled", created_at=1_767_225_600.0)
    store.add(Example(id="shown-1", path="geo.py", language="python", before=TEXT, cursor=3), "shown", created_at=1_767_225_601.0)
    export = tmp_path / "export.jsonl"
    assert export_captures(store, str(export)) == 2
    store.close()

    out = tmp_path / "examples.jsonl"
    assert cli(["ingest", "-i", str(export), "-o", str(out), "--repo", "me/geo", "--no-progress"]) == 0
    assert "ingest: read 2, written 1, rejected 0, skipped 1 (kind shown: 1)" in capsys.readouterr().err
    (example,) = read_examples(out)
    assert example.id == "cap-1" and example.before == TEXT
    assert example.expected == TEXT.replace("    pass\n", "    return 2 * w + 2 * h\n")  # the settled region is the label
    meta = example.meta
    assert meta["repo"] == "me/geo" and meta["label"] == "settled" and meta["kind"] == "settled"
    assert meta["committed_at"] == meta["captured_at"] and meta["committed_at"].startswith("2026-01-01")
    outcome = meta["outcome"]
    assert outcome["accepted"] is True and outcome["model"] == "student-v1" and outcome["latency_ms"] == 42.0
    assert 0 < outcome["kept_rate"] < 1 and outcome["settle_seconds"] == 20.0
    assert meta["source"] == "zeta2-daemon"  # original provenance kept

    # other kinds on request; a record without a label is rejected with the reason
    both = tmp_path / "both.jsonl"
    assert cli(["ingest", "-i", str(export), "-o", str(both), "--kinds", "settled,shown", "--no-progress"]) == 0
    assert "written 1, rejected 1 (no label: 1)" in capsys.readouterr().err
    (rejected,) = [json.loads(line) for line in (tmp_path / "both.rejects.jsonl").read_text().splitlines()]
    assert rejected["id"] == "shown-1" and rejected["meta"]["ingest"]["error"] == "no label (expected is null)"

    assert cli(["ingest", "-i", str(export), "-o", str(both), "--kinds", "settld"]) == 2
    assert "zeta2-trainer ingest: error: --kinds: unknown capture kind settld (known: settled, shown, accepted, rejected, manual)" in capsys.readouterr().err
    assert cli(["ingest", "-i", str(tmp_path / "missing.jsonl"), "-o", str(both)]) == 2
    assert f"zeta2-trainer ingest: error: input file {tmp_path / 'missing.jsonl'} does not exist" in capsys.readouterr().err
