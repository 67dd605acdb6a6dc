"""Diagnostics intake and the snapshot the daemon builds per request."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from zeta2_capture.diagnostics import (
    DiagnosticError,
    DiagnosticsStore,
    collect_diagnostics,
    from_lsp,
    syntax_errors,
)
from zeta2_capture.history import EditHistory
from zeta2_capture.index import WorkspaceIndex
from zeta2_capture.schema import Diagnostic, Example, read_examples
from zeta2_capture.snapshot import snapshot

WORKSPACE = Path(__file__).resolve().parent / "fixtures" / "workspace"


def lsp(line, character, end_line, end_character, message="m", severity=1):
    return {
        "range": {"start": {"line": line, "character": character}, "end": {"line": end_line, "character": end_character}},
        "message": message, "severity": severity, "source": "pyright",
    }


def test_lsp_positions_convert_from_utf16_to_code_points():
    text = "x = '😀😀' + y\n"
    d = from_lsp(lsp(0, 11, 0, 12, "y is undefined", 2), text)  # 😀 takes two UTF-16 units
    assert d.start == (0, 9) and d.end == (0, 10) and d.severity == "warning" and d.source == "pyright"
    assert text[d.start[1]] == "+"


def test_bad_lsp_diagnostics_name_the_field():
    with pytest.raises(DiagnosticError, match=r"diagnostics\[1\]\.range"):
        DiagnosticsStore().set_lsp("a.py", "x\n", [lsp(0, 0, 0, 1), {"message": "no range"}])
    with pytest.raises(DiagnosticError, match=r"diagnostics\[0\]\.severity: expected 1..4, got 9"):
        DiagnosticsStore().set_lsp("a.py", "x\n", [lsp(0, 0, 0, 1, severity=9)])


def test_syntax_errors_come_from_tree_sitter():
    errors = syntax_errors("python", "def f(:\n    return 1\n")
    assert errors and all(e.source == "tree-sitter" and e.severity == "error" for e in errors)
    assert syntax_errors("python", "def f():\n    return 1\n") == []
    assert syntax_errors("text", "anything") == []


def test_collect_puts_the_nearest_first_and_merges_pushed():
    text = "".join(f"v{i} = {i}\n" for i in range(40)) + "def broken(:\n    pass\n"
    pushed = [
        Diagnostic((2, 0), (2, 2), "warning", "far above", "lint"),
        Diagnostic((21, 0), (21, 3), "error", "near", "lint"),
        Diagnostic((21, 0), (21, 3), "error", "near", "lint"),  # duplicate
    ]
    got = collect_diagnostics("python", text, pushed, cursor=text.index("v20"))
    assert [d.message for d in got][:2] == ["near", "far above"]
    assert sum(d.message == "near" for d in got) == 1
    assert got[2].source == "tree-sitter" and got[2].start[0] == 40


def test_snapshot_builds_a_valid_example_with_everything(clock):
    index = WorkspaceIndex(WORKSPACE, watch=False)
    assert index.wait_ready(30)
    history = EditHistory(clock)
    path = "py/inventory/report.py"
    text = (WORKSPACE / path).read_text()
    edited = text.replace("discount: int = 0", "discount: int = 5")
    history.record(path, text, edited)
    store = DiagnosticsStore()
    store.set_lsp(path, edited, [lsp(14, 8, 14, 13, "unused", 3)])
    cursor = edited.index("<cursor py-report>")
    ex = snapshot(str(WORKSPACE / path), "python", edited, cursor, history, store, index, meta={"kind": "serve"})
    index.close()
    assert ex.path == path and ex.before == edited and ex.cursor == cursor and ex.expected is None
    assert len(ex.events) == 1 and "+def build_report(warehouse: Warehouse, discount: int = 5) -> str:" in ex.events[0].diff
    assert {r.path for r in ex.related} == {"py/inventory/models.py", "py/inventory/pricing.py"}
    assert ex.diagnostics[0].message == "unused"
    assert ex.meta["kind"] == "serve"
    assert Example.from_json(ex.to_json()) == ex  # round-trips through the schema's validation


def test_snapshot_tsx_is_typescript_in_the_data_set():
    text = "export const A = () => <div/>;\n"
    ex = snapshot("ui/A.tsx", "typescriptreact", text, 5)
    assert ex.language == "typescript" and ex.related == () and ex.diagnostics == ()


def test_snapshot_rejects_a_cursor_outside_the_text():
    with pytest.raises(ValueError, match=r"cursor 9 is outside a.py \(3 chars\)"):
        snapshot("a.py", "python", "abc", 9)


def test_snapshot_on_real_examples_without_crashing(dev_jsonl):
    """Every language of the shared dev set: real files, real cursors, buffer-only context."""
    seen = set()
    for ex in itertools.islice(read_examples(dev_jsonl), 0, 400, 8):
        got = snapshot(ex.path, ex.language, ex.before, ex.cursor)
        assert got.before == ex.before and got.cursor == ex.cursor
        assert Example.from_json(got.to_json()).path == ex.path
        seen.add(ex.language)
    assert seen


def test_a_100k_line_buffer_gets_history_but_no_parse(clock):
    text = "".join(f"def f{i}(a):\n    return a + {i}\n" for i in range(50_000))
    history = EditHistory(clock)
    edited = text[:500] + "x" + text[500:]
    history.record("big.py", text, edited)
    pushed = [Diagnostic((3, 0), (3, 1), "warning", "pushed", "lint")]
    ex = snapshot("big.py", "python", edited, 501, history, pushed)
    assert ex.related == () and [d.message for d in ex.diagnostics] == ["pushed"]
    assert ex.meta["context_skipped"] == "buffer over 1000000 bytes" and len(ex.events) == 1
    short_lines = "x\n" * 30_000
    assert snapshot("many.py", "python", short_lines, 0).meta["context_skipped"] == "buffer over 20000 lines"
