"""Diagnostics for the cursor file: what the editor's other language servers pushed, plus
tree-sitter syntax errors of the buffer itself, nearest to the cursor first.

    store = DiagnosticsStore()
    store.set_lsp(path, text, lsp_diagnostics, encoding="utf-16")  # the daemon's zeta2/diagnostics
    store.get(path) -> list[Diagnostic]
    collect_diagnostics(language, text, pushed, cursor, limit=8) -> list[Diagnostic]

Positions in `Diagnostic` are (line, column in code points), 0-based, as in the schema. LSP
diagnostics are converted from their position encoding with `zeta2_capture.offsets.LineIndex`.
A malformed LSP diagnostic raises `DiagnosticError` naming the index and field at fault.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

from zeta2_capture.languages import parse
from zeta2_capture.schema import Diagnostic

LSP_SEVERITIES = {1: "error", 2: "warning", 3: "information", 4: "hint"}
MAX_SYNTAX_ERRORS = 20
MAX_MESSAGE_CHARS = 300


class DiagnosticError(ValueError):
    """An LSP diagnostic that does not have the shape the spec gives it."""


def from_lsp(diagnostic: Any, text: str, *, encoding: str = "utf-16", where: str = "diagnostics[0]") -> Diagnostic:
    """One LSP `Diagnostic` object -> the schema's `Diagnostic`."""
    from zeta2_capture.offsets import LineIndex

    if not isinstance(diagnostic, dict):
        raise DiagnosticError(f"{where}: expected an object, got {type(diagnostic).__name__}")
    rng = diagnostic.get("range")
    try:
        s, e = rng["start"], rng["end"]
        points = [(int(s["line"]), int(s["character"])), (int(e["line"]), int(e["character"]))]
    except (TypeError, KeyError, ValueError):
        raise DiagnosticError(f"{where}.range: expected {{start: {{line, character}}, end: {{line, character}}}}") from None
    message = diagnostic.get("message")
    if not isinstance(message, str):
        raise DiagnosticError(f"{where}.message: expected a string")
    severity = diagnostic.get("severity", 1)
    if severity not in LSP_SEVERITIES:
        raise DiagnosticError(f"{where}.severity: expected 1..4, got {severity!r}")
    index = LineIndex(text)
    converted = []
    for line, character in points:
        line = max(0, min(line, index.line_count - 1))
        offset = index.offset(line, max(0, character), encoding)
        converted.append((line, offset - index.line_start(line)))
    source = diagnostic.get("source") or ""
    return Diagnostic(
        converted[0], converted[1], LSP_SEVERITIES[severity], message[:MAX_MESSAGE_CHARS], str(source)
    )


class DiagnosticsStore:
    """Latest pushed diagnostics per document path (thread-safe; replaced wholesale on each push)."""

    def __init__(self) -> None:
        self._by_path: dict[str, tuple[Diagnostic, ...]] = {}
        self._lock = threading.Lock()

    def set(self, path: str, diagnostics: Iterable[Diagnostic]) -> None:
        with self._lock:
            self._by_path[path] = tuple(diagnostics)

    def set_lsp(self, path: str, text: str, diagnostics: Sequence[Any], *, encoding: str = "utf-16") -> None:
        if not isinstance(diagnostics, (list, tuple)):
            raise DiagnosticError(f"diagnostics for {path}: expected a list, got {type(diagnostics).__name__}")
        self.set(path, [from_lsp(d, text, encoding=encoding, where=f"diagnostics[{i}]") for i, d in enumerate(diagnostics)])

    def get(self, path: str) -> list[Diagnostic]:
        with self._lock:
            return list(self._by_path.get(path, ()))

    def clear(self, path: str) -> None:
        with self._lock:
            self._by_path.pop(path, None)


def syntax_errors(language: str | None, text: str, limit: int = MAX_SYNTAX_ERRORS, *, tree=None) -> list[Diagnostic]:
    """ERROR and MISSING nodes of the buffer's parse as diagnostics (source "tree-sitter").
    `tree`: the buffer's parse when the caller has it already."""
    if tree is None:
        tree = parse(language, text) if language else None
    if tree is None or not tree.root_node.has_error:
        return []
    lines = text.encode("utf-8").split(b"\n")

    def column(row: int, byte_col: int) -> int:
        line = lines[row] if row < len(lines) else b""
        return len(line[:byte_col].decode("utf-8", "replace"))

    out: list[Diagnostic] = []
    stack = [tree.root_node]
    while stack and len(out) < limit:
        node = stack.pop()
        if node.is_missing:
            message = f"syntax error: missing {node.type}"
        elif node.is_error:
            message = "syntax error: unexpected " + (node.children[0].type if node.children else "text")
        else:
            if node.has_error:
                stack.extend(reversed(node.children))
            continue
        (sr, sc), (er, ec) = node.start_point, node.end_point
        out.append(Diagnostic((sr, column(sr, sc)), (er, column(er, ec)), "error", message, "tree-sitter"))
    return out


def collect_diagnostics(
    language: str | None, text: str, pushed: Iterable[Diagnostic], cursor: int, limit: int = 8, *, tree=None
) -> list[Diagnostic]:
    """Pushed diagnostics plus syntax errors, de-duplicated, nearest to `cursor` (code points) first."""
    row = text.count("\n", 0, max(0, min(cursor, len(text))))
    seen: set[tuple] = set()
    merged: list[Diagnostic] = []
    for d in [*pushed, *syntax_errors(language, text, tree=tree)]:
        key = (d.start, d.end, d.message)
        if key in seen:
            continue
        seen.add(key)
        merged.append(d)

    def distance(d: Diagnostic) -> tuple[int, int, int]:
        if d.start[0] <= row <= d.end[0]:
            lines = 0
        else:
            lines = min(abs(d.start[0] - row), abs(d.end[0] - row))
        return (lines, ("error", "warning", "information", "hint").index(d.severity), d.start[1])

    merged.sort(key=distance)
    return merged[:limit]
