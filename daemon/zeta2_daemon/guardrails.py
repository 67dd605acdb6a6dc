"""Suggestions the daemon never shows, and why.

Checked in order of cost: a no-op, a whitespace-only change, an edit larger than the configured
aggressiveness allows, an edit that reverts the user's own latest edit (reversal ratio > 0.5 —
stricter for showing than the trainer's 0.9 repair threshold), and an edit that breaks the syntax
of a file that parsed before (tree-sitter error count goes up). The reason string is logged and
written to the usage log, so it is short and stable.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .config import MAX_EDIT_CHARS
from .suggestions import Edit

log = logging.getLogger(__name__)

REVERSAL_LIMIT = 0.5
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Verdict:
    reason: str  # "" when the suggestion may be shown
    detail: str = ""

    @property
    def ok(self) -> bool:
        return not self.reason


SHOW = Verdict("")


def _squash(text: str) -> str:
    return _WHITESPACE.sub("", text)


def check(
    before: str,
    edit: Edit | None,
    *,
    language: str | None,
    events: Sequence[object] = (),
    aggressiveness: str = "medium",
) -> Verdict:
    """Whether a suggestion may be shown; `events` are the schema's Event objects, oldest first."""
    if edit is None or (edit.start == edit.end and not edit.new_text):
        return Verdict("no-op")
    old = before[edit.start : edit.end]
    if old == edit.new_text:
        return Verdict("no-op")
    if _squash(old) == _squash(edit.new_text):
        return Verdict("whitespace-only")
    cap = MAX_EDIT_CHARS.get(aggressiveness)
    if cap is not None and edit.size > cap:
        return Verdict("too-large", f"{edit.size} characters > {cap} at aggressiveness {aggressiveness}")
    after = edit.apply(before)
    if events:
        ratio = _reversal(before, after, events)
        if ratio is not None and ratio > REVERSAL_LIMIT:
            return Verdict("reverts-last-edit", f"reversal ratio {ratio:.2f} > {REVERSAL_LIMIT}")
    if language:
        delta = _syntax_delta(language, before, after)
        if delta is not None and delta > 0:
            return Verdict("breaks-syntax", f"{delta} more tree-sitter errors")
    return SHOW


def _reversal(before: str, after: str, events: Sequence[object]) -> float | None:
    try:
        from zeta2_capture.metrics import reversal_ratio
    except ImportError:  # the metrics module is part of the foundation; without it the check cannot run
        log.warning("zeta2_capture.metrics is missing: the revert guardrail is off")
        return None
    return reversal_ratio(before, after, list(events))


def _syntax_delta(language: str, before: str, after: str) -> int | None:
    from zeta2_capture.languages import count_syntax_errors

    # Only a file that parsed cleanly can be "broken"; while the user is mid-edit the file usually
    # has errors, and the model's job is often exactly to finish that code.
    errors_before = count_syntax_errors(language, before)
    if errors_before is None or errors_before > 0:
        return None
    errors_after = count_syntax_errors(language, after)
    return None if errors_after is None else errors_after - errors_before
