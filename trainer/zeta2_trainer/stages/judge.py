"""The rules judge behind `qa` and `repair`: what is wrong with a predicted edit, if anything.

Flags:
* `reversal`: the prediction undoes the user's latest edit (reversal ratio > 0.9);
* `outside_region`: it changes text outside the editable region;
* `syntax`: it adds tree-sitter syntax errors;
* `noop_continuation`: it suggests nothing although the history shows an obvious continuation
  (the latest edit left the cursor line open: an unbalanced bracket, a trailing operator, or a syntax
  error on that line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

REVERSAL_THRESHOLD = 0.9
FLAGS = ("reversal", "outside_region", "syntax", "noop_continuation")
DESCRIPTIONS = {
    "reversal": "It undoes the edit the user just made (reversal ratio {reversal_ratio:.2f} > 0.9).",
    "outside_region": "It changes text outside the editable region (characters {edit_start}..{edit_end}, region {region_start}..{region_end}).",
    "syntax": "It breaks the syntax: {syntax_error_delta} more tree-sitter error(s) than the current file.",
    "noop_continuation": "It suggests no edit, but the user's latest edit left the line at the cursor unfinished: {continuation}.",
    "llm_judge": "A reviewing model found: {llm_problems}. {llm_reason}",
}
LLM_PROBLEMS = ("reversal", "outside_region", "syntax", "noop_continuation", "other")
_OPEN, _CLOSE = "([{", ")]}"
_TRAILING_OPERATOR = re.compile(r"(?:[-+*/%=<>&|^!~,.(\[{:?]|=>|->|::)\s*$")


@dataclass
class Verdict:
    flags: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    judge: str = "rules"

    def to_json(self) -> dict[str, Any]:
        return {"judge": self.judge, "flags": list(self.flags), **self.details}

    def problems(self) -> str:
        """One line per flag; a detail missing from an edited or older record reads as '?'."""

        class Details(dict):
            def __missing__(self, key: str) -> str:
                return "?"

        details = Details(self.details)
        lines = []
        for flag in self.flags:
            template = DESCRIPTIONS.get(flag, f"Flagged {flag}.")
            try:
                lines.append(f"- {template.format_map(details)}")
            except (ValueError, TypeError):  # a detail of the wrong type for its format
                lines.append(f"- Flagged {flag}.")
        return "\n".join(lines)


def changed_span(before: str, after: str) -> tuple[int, int]:
    """[start, end) in `before` of the text an edit replaced (common prefix and suffix trimmed)."""
    from zeta2_capture.metrics import common_prefix_length, common_suffix_length

    p = common_prefix_length(before, after)
    s = common_suffix_length(before, after, min(len(before), len(after)) - p)
    return p, len(before) - s


def open_continuation(example: Any) -> str | None:
    """Why the line at the cursor is obviously unfinished, or None."""
    from zeta2_capture.languages import normalize_language, parse

    if not example.events or example.events[-1].predicted:
        return None
    before, cursor = example.before, example.cursor
    line_start = before.rfind("\n", 0, cursor) + 1
    line_end = before.find("\n", cursor)
    line_end = len(before) if line_end < 0 else line_end
    head = before[line_start:cursor]
    if before[cursor:line_end].strip():
        return None  # text after the cursor: not an obvious end-of-line continuation
    depth = sum(head.count(c) for c in _OPEN) - sum(head.count(c) for c in _CLOSE)
    if depth > 0:
        return "an unclosed bracket"
    if head.strip() and _TRAILING_OPERATOR.search(head):
        return "it ends with an operator"
    language = normalize_language(example.language, example.path)
    tree = parse(language, before) if language else None
    if tree is not None and tree.root_node.has_error:
        row = before.count("\n", 0, cursor)
        stack = [tree.root_node]
        while stack:
            node = stack.pop()
            if not node.has_error and not node.is_missing:
                continue
            if node.start_point[0] <= row <= node.end_point[0]:
                if node.type == "ERROR" or node.is_missing:
                    if node.end_point[0] - node.start_point[0] <= 3:
                        return "a syntax error on the cursor line"
                stack.extend(node.children)
    return None


def judge(example: Any, predicted: str, region: tuple[int, int]) -> Verdict:
    from zeta2_capture.metrics import reversal_ratio, syntax_error_delta

    verdict = Verdict()
    before = example.before
    if predicted == before:
        why = open_continuation(example)
        if why:
            verdict.flags.append("noop_continuation")
            verdict.details["continuation"] = why
        return verdict
    try:
        ratio = reversal_ratio(before, predicted, example.events, path=example.path)
    except ValueError:
        ratio = 0.0  # an event diff that does not parse cannot be reverted
    verdict.details["reversal_ratio"] = round(ratio, 4)
    if ratio > REVERSAL_THRESHOLD:
        verdict.flags.append("reversal")
    start, end = changed_span(before, predicted)
    if start < region[0] or end > region[1]:
        verdict.flags.append("outside_region")
        verdict.details.update(edit_start=start, edit_end=end, region_start=region[0], region_end=region[1])
    delta = syntax_error_delta(example.language, before, predicted, path=example.path)
    verdict.details["syntax_error_delta"] = delta
    if delta is not None and delta > 0:
        verdict.flags.append("syntax")
    return verdict


def render_judge(example: Any, predicted: str, region: tuple[int, int], templates: Any) -> tuple[str, str]:
    """(system, user) prompts asking a model to review one prediction (templates/judge_*.md)."""
    from .teacher_prompt import fenced, load_template, render_distill, word_diff

    _, task = render_distill(example, region[0], region[1], templates)
    system = load_template("judge_system.md", templates).substitute()
    user = load_template("judge_user.md", templates).substitute(task=task, word_diff=fenced(word_diff(example.before, predicted), ""))
    return system, user


def parse_judge(text: str) -> tuple[list[str], str] | None:
    """(problems, reason) from the FLAGS and REASON lines, or None when there is no FLAGS line."""
    flags_line = re.search(r"^\W*FLAGS\W*:\s*(.*)$", text, re.MULTILINE | re.IGNORECASE)
    if flags_line is None:
        return None
    reason = re.search(r"^\W*REASON\W*:\s*(.*)$", text, re.MULTILINE | re.IGNORECASE)
    words = [w.strip().lower().replace(" ", "_") for w in re.split(r"[,|]", flags_line.group(1)) if w.strip()]
    problems = [w for w in words if w in LLM_PROBLEMS]
    if not problems and any(w not in ("none", "") for w in words):
        problems = ["other"]
    return problems, (reason.group(1).strip() if reason else "")
