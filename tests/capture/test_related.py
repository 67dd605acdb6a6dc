"""Related context on the labelled fixture workspace (labels in fixtures/related_labels.json were
written before the workspace code): expected definitions found, negatives never pulled in."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from zeta2_capture.index import WorkspaceIndex
from zeta2_capture.related import related_context

FIXTURES = Path(__file__).resolve().parent / "fixtures"
WORKSPACE = FIXTURES / "workspace"
LABELS = json.loads((FIXTURES / "related_labels.json").read_text())["cursors"]


@pytest.fixture(scope="module")
def index():
    idx = WorkspaceIndex(WORKSPACE, watch=False)
    assert idx.wait_ready(30)
    yield idx
    idx.close()


def find(index, key):
    path, name = key.split(":")
    parent, _, short = name.rpartition(".")
    for d in index.outline_for(path).definitions:
        if d.name == short and (d.parent or "") == parent:
            return d
    raise AssertionError(f"label {key} names no definition in the fixture workspace")


def covers(related, definition) -> bool:
    """An excerpt shows a definition when it starts at or before it, in its file, with its signature."""
    return (
        related.path == definition.path
        and related.start_line <= definition.start_line
        and definition.signature.splitlines()[0].strip() in related.text
    )


def run_cursor(index, label):
    text = (WORKSPACE / label["file"]).read_text()
    cursor = text.index(f"<cursor {label['id']}>")
    return related_context(index, label["file"], text, cursor, 4096, language=label["language"])


def evaluate(index):
    per_language = defaultdict(lambda: {"tp": 0, "returned": 0, "relevant_returned": 0, "expected": 0, "negatives": []})
    for label in LABELS:
        got = run_cursor(index, label)
        expected = [find(index, k) for k in label["expected"]]
        negatives = [find(index, k) for k in label["negatives"]]
        stats = per_language[label["language"]]
        stats["expected"] += len(expected)
        stats["tp"] += sum(any(covers(r, d) for r in got) for d in expected)
        stats["returned"] += len(got)
        stats["relevant_returned"] += sum(any(covers(r, d) for d in expected) for r in got)
        stats["negatives"] += [k for k, d in zip(label["negatives"], negatives, strict=True) if any(covers(r, d) for r in got)]
    return per_language


def test_precision_and_recall_per_language(index, record_property):
    report = evaluate(index)
    lines = []
    for language, s in sorted(report.items()):
        precision = s["relevant_returned"] / s["returned"] if s["returned"] else 0.0
        recall = s["tp"] / s["expected"]
        lines.append(f"{language}: precision {precision:.2f} recall {recall:.2f} ({s['tp']}/{s['expected']})")
        record_property(f"related_{language}", f"P={precision:.2f} R={recall:.2f}")
        assert not s["negatives"], f"{language}: negatives pulled in: {s['negatives']}"
        assert recall >= 0.99, lines[-1]
        # measured (docs/capture.md): 0.60 (rust) .. 1.00; the extras are a type's impl next to the
        # type and definitions used within ±3 lines of the cursor but not labelled
        assert precision >= 0.55, lines[-1]
    print("\n".join(lines))
    assert set(report) == {"python", "javascript", "typescript", "tsx", "rust", "go"}


def test_budget_cuts_and_ranking_is_buffer_then_imports(index):
    label = next(c for c in LABELS if c["id"] == "py-report")
    full = run_cursor(index, label)
    assert all(r.source == "import" for r in full)
    smallest = min(len(r.text.encode()) + len(r.path) + 16 for r in full)
    cut = related_context(index, label["file"], (WORKSPACE / label["file"]).read_text(),
                          (WORKSPACE / label["file"]).read_text().index("<cursor py-report>"), smallest)
    assert len(cut) == 1
    assert related_context(index, label["file"], "x = 1\n", 0, 0) == []


def test_works_without_an_index_using_the_buffer_only():
    text = "def helper(a):\n    return a * 2\n" + "\n" * 30 + "def main():\n    return helper(3)\n"
    got = related_context(None, "m.py", text, text.index("helper(3)"), 2048)
    assert [(r.path, r.start_line, r.source) for r in got] == [("m.py", 0, "buffer")]
    assert got[0].text.startswith("def helper(a):")


def test_unparseable_and_unsupported_buffers_do_not_crash(index):
    assert related_context(index, "notes.txt", "hello", 3, 4096) == []
    text = "def (:\n  ))) format_price(\n"
    related_context(index, "py/inventory/broken.py", text, len(text), 4096)
