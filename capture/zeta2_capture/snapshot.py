"""One editing moment as a schema `Example`: the single call the daemon makes per request, and the
one capture uses for its records, so what is served and what is trained on are built the same way.

    example = snapshot(
        path, language, text, cursor,            # repo-relative path, LSP/our language id, buffer, code points
        history=edit_history,                    # EditHistory or None
        diagnostics=diagnostics_store,           # DiagnosticsStore, a list of Diagnostic, or None
        index=workspace_index,                   # WorkspaceIndex or None (then only the buffer is searched)
        related_budget_bytes=4096, max_events=6, id=None, meta=None,
    )

`expected` is None (the moment is not labelled yet). Nothing here redacts: snapshots for serving
stay on the machine; `CaptureStore.add` redacts before anything is written. Fast: one tree-sitter
parse of the buffer (cached across calls on the same text), dictionary look-ups into the index —
see bench/capture for p50/p95.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

from zeta2_capture.diagnostics import DiagnosticsStore, collect_diagnostics
from zeta2_capture.languages import normalize_language
from zeta2_capture.related import parsed_buffer, related_context, too_large_for_context
from zeta2_capture.schema import Diagnostic, Example

DEFAULT_RELATED_BUDGET = 4096
DEFAULT_MAX_EVENTS = 6


def snapshot(
    path: str,
    language: str | None,
    text: str,
    cursor: int,
    history=None,
    diagnostics: DiagnosticsStore | Sequence[Diagnostic] | None = None,
    index=None,
    *,
    related_budget_bytes: int = DEFAULT_RELATED_BUDGET,
    max_events: int = DEFAULT_MAX_EVENTS,
    max_diagnostics: int = 8,
    id: str | None = None,
    meta: dict[str, Any] | None = None,
) -> Example:
    if index is not None and path.startswith("/"):
        path = index.relpath(path) or path.lstrip("/")
    path = path.replace("\\", "/")
    if not 0 <= cursor <= len(text):
        raise ValueError(f"cursor {cursor} is outside {path} ({len(text)} chars)")
    lang = normalize_language(language, path) or (language or "text")
    events = history.events(max_events) if history is not None else ()
    recent = history.recent_paths() if history is not None else ()
    pushed = diagnostics.get(path) if isinstance(diagnostics, DiagnosticsStore) else list(diagnostics or ())
    extra_meta: dict[str, Any] = {}
    skipped = too_large_for_context(text)
    if skipped:
        # no parse at all: pushed diagnostics only, no related context; the edit history still works
        extra_meta["context_skipped"] = skipped
        diags = collect_diagnostics(None, text, pushed, cursor, limit=max_diagnostics)
        related = []
    else:
        parsed = parsed_buffer(lang, path, text)  # one parse, shared by related context and diagnostics
        tree = parsed[0] if parsed is not None else None
        diags = collect_diagnostics(lang, text, pushed, cursor, limit=max_diagnostics, tree=tree)
        related = related_context(index, path, text, cursor, related_budget_bytes, language=lang, recent_paths=recent)
    return Example(
        id=id or f"{path}@{uuid.uuid4().hex[:12]}",
        path=path,
        language="typescript" if lang == "tsx" else lang,  # the data set's name; .tsx selects TSX grammar
        before=text,
        cursor=cursor,
        events=tuple(events),
        related=tuple(related),
        diagnostics=tuple(diags),
        expected=None,
        meta={"created_at": time.time(), **extra_meta, **(meta or {})},
    )
