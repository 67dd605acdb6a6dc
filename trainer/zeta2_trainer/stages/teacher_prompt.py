"""The teacher's prompt (from the editable templates in zeta2_trainer/templates/) and its answer.

The teacher sees the edit history, the related context (skipped code marked), and the current file
with the editable region and the cursor marked. It answers with a short statement of intent, then only
the rewritten editable region in one code block; `parse_answer` turns that into the full `expected`
text, or a reason why it cannot.

The editable region is the student's: `RegionFinder` lays it out with the prompt format's renderer and
the student's tokenizer, so a teacher edit always fits the region the student is trained to rewrite.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .common import StageError

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
CURSOR = "<|user_cursor|>"
REGION_START = "<|editable_region_start|>"
REGION_END = "<|editable_region_end|>"
KEEP_PREVIOUS = "KEEP_PREVIOUS"
NO_EDITS = "NO_EDITS"
CONTEXT_LINES = 150  # file lines shown above and below the region; the rest is marked as skipped

FENCE_LANGUAGE = {"python": "python", "javascript": "javascript", "typescript": "typescript", "tsx": "tsx", "rust": "rust", "go": "go"}


def load_template(name: str, directory: str | Path | None = None) -> string.Template:
    """`name` from `directory` (a user's copy) or the packaged templates; `$name` placeholders."""
    for folder in ([Path(directory)] if directory else []) + [TEMPLATES]:
        path = folder / name
        if path.exists():
            return string.Template(path.read_text(encoding="utf-8"))
    raise StageError(f"prompt template {name} not found in {directory or TEMPLATES}")


# ---------------------------------------------------------------------------------------------
# the editable region


class RegionFinder:
    """[start, end) of the editable region in `before`, as the student's prompt format lays it out."""

    def __init__(self, tokenizer_json: str | Path | None = None, family: str = "smollm2"):
        self._renderer = None
        self._tokenizer_json = tokenizer_json
        self._family = family

    def _get_renderer(self) -> Any:
        if self._renderer is None:
            from zeta2_capture.prompt import Renderer

            path = self._tokenizer_json
            if path is None:
                import platformdirs

                from ..smollm2 import extract_tokenizer

                path = extract_tokenizer(Path(platformdirs.user_cache_dir("zeta2")) / "smollm2-tokenizer")
            elif not Path(path).exists():
                raise StageError(f"tokenizer file {path} does not exist")
            self._renderer = Renderer.from_file(path, self._family)
        return self._renderer

    def region(self, example: Any) -> tuple[int, int]:
        """The region `Renderer.render_prompt(example).layout` has, without rendering the whole prompt:
        the layout depends only on the text, the cursor and each line's token count (see region.py), and
        the rest of the prompt costs most of the tokenizing. test_stage_distill checks they agree."""
        from zeta2_capture.languages import normalize_language
        from zeta2_capture.region import layout_region, split_lines

        renderer = self._get_renderer()
        lines = split_lines(example.before)
        counts = [len(e.ids) for e in renderer.tokenizer.encode_batch(lines, add_special_tokens=False)] if lines else []
        layout = layout_region(
            example.before,
            example.cursor,
            counts,
            region_tokens=renderer.config.region_tokens,
            max_region_tokens=renderer.config.max_region_tokens,
            language=normalize_language(example.language, example.path),
            lines=lines,
        )
        return layout.start, layout.end


def region_of(example: Any, finder: RegionFinder) -> tuple[int, int]:
    """The region distill recorded in meta, else a fresh layout."""
    recorded = (example.meta.get("distill") or {}).get("region")
    if isinstance(recorded, list) and len(recorded) == 2 and 0 <= recorded[0] <= recorded[1] <= len(example.before):
        return recorded[0], recorded[1]
    return finder.region(example)


# ---------------------------------------------------------------------------------------------
# rendering


def fence_for(text: str) -> str:
    """A backtick fence longer than any backtick run inside `text`."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def fenced(text: str, language: str = "") -> str:
    fence = fence_for(text)
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"{fence}{language}\n{body}{fence}"


def history_text(example: Any) -> str:
    if not example.events:
        return "(no edits yet)"
    parts = []
    n = len(example.events)
    for i, event in enumerate(example.events):
        label = "most recent" if i == n - 1 else f"{n - 1 - i} before the most recent"
        who = "accepted suggestion" if event.predicted else "user edit"
        parts.append(f"Edit {i + 1} of {n} ({label}, {who}) in {event.path}:\n{fenced(event.diff, 'diff')}")
    return "\n\n".join(parts)


def related_text(example: Any) -> str:
    if not example.related:
        return "(none)"
    parts = []
    for rel in example.related:
        lang = FENCE_LANGUAGE.get(example.language, "")
        parts.append(f"{rel.path} from line {rel.start_line + 1} (code between excerpts skipped, marked with …):\n{fenced(rel.text, lang)}")
    return "\n\n".join(parts)


def diagnostics_text(example: Any) -> str:
    if not example.diagnostics:
        return "(none)"
    return "\n".join(
        f"line {d.start[0] + 1}, column {d.start[1] + 1}: {d.severity}: {d.message}" + (f" [{d.source}]" if d.source else "")
        for d in example.diagnostics
    )


def marked_file(example: Any, start: int, end: int) -> str:
    """The file with region and cursor markers; lines far from the region are replaced by a marker."""
    before, cursor = example.before, example.cursor
    region = before[start:cursor] + CURSOR + before[cursor:end] if start <= cursor <= end else before[start:end]
    above = before[:start].split("\n")
    below = before[end:].split("\n")
    if len(above) > CONTEXT_LINES + 1:
        skipped = len(above) - 1 - CONTEXT_LINES
        above = [f"… ({skipped} lines skipped) …"] + above[-(CONTEXT_LINES + 1):]
    if len(below) > CONTEXT_LINES + 1:
        skipped = len(below) - 1 - CONTEXT_LINES
        below = below[: CONTEXT_LINES + 1] + [f"… ({skipped} lines skipped) …"]
    return "\n".join(above) + REGION_START + region + REGION_END + "\n".join(below)


def render_distill(example: Any, start: int, end: int, templates: str | Path | None = None) -> tuple[str, str]:
    """(system, user) prompts for one example."""
    system = load_template("distill_system.md", templates).substitute(cursor=CURSOR, region_start=REGION_START, region_end=REGION_END, no_edits=NO_EDITS)
    file_text = marked_file(example, start, end)
    user = load_template("distill_user.md", templates).substitute(
        path=example.path,
        language=example.language,
        history=history_text(example),
        related=related_text(example),
        diagnostics=diagnostics_text(example),
        file=fenced(file_text, FENCE_LANGUAGE.get(example.language, "")),
        cursor=CURSOR,
        region_start=REGION_START,
        region_end=REGION_END,
    )
    return system, user


# ---------------------------------------------------------------------------------------------
# answers

_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})[^\n`]*\n(?P<body>.*?)^(?P=fence)[ \t]*$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Answer:
    """A parsed teacher answer: the full predicted text, or a reason it is unusable."""

    predicted: str | None
    intent: str = ""
    reason: str = ""
    verdict: str = "edit"  # edit | no_edits | keep_previous

    @property
    def ok(self) -> bool:
        return self.predicted is not None or self.verdict == KEEP_PREVIOUS.lower()


def _verdict_line(text: str, word: str) -> bool:
    return any(line.strip().strip("*`.") == word for line in text.splitlines())


def parse_answer(example: Any, start: int, end: int, text: str, *, stop_reason: str = "", allow_keep: bool = False) -> Answer:
    """The teacher's answer as the full text after its edit, or the reason it cannot be used."""
    blocks = list(_FENCE.finditer(text))
    outside = _FENCE.sub("", text)
    intent = outside.strip().split("\n\n")[0].strip()[:500]
    if not blocks:
        if allow_keep and _verdict_line(outside, KEEP_PREVIOUS):
            return Answer(None, intent, verdict="keep_previous")
        if _verdict_line(outside, NO_EDITS):
            return Answer(example.before, intent, verdict="no_edits")
        if stop_reason in ("max_tokens", "length"):
            return Answer(None, intent, reason="answer cut off at the token limit")
        if "```" in text:
            return Answer(None, intent, reason="unclosed code block")
        return Answer(None, intent, reason="no code block in the answer")
    body = blocks[-1].group("body")
    if body.startswith(REGION_START):
        body = body[len(REGION_START):]
    body = body.replace(CURSOR, "")
    if REGION_END in body:
        body = body[: body.index(REGION_END)]
    if REGION_START in body or "<|marker_" in body:
        return Answer(None, intent, reason="region markers inside the rewritten region")
    original = example.before[start:end]
    # The fence swallows the region's final newline; give it back.
    if original.endswith("\n") and not body.endswith("\n"):
        body += "\n"
    elif not original.endswith("\n") and body.endswith("\n") and not original.endswith(body[-1:]):
        body = body[:-1]
    return Answer(example.before[:start] + body + example.before[end:], intent)


# ---------------------------------------------------------------------------------------------
# word diff (for the repair critique)

_WORDS = re.compile(r"\w+|\s+|[^\w\s]")


def word_diff(old: str, new: str, context_lines: int = 2) -> str:
    """`git diff --word-diff=plain`-style: [-removed-]{+added+} inline, around the changed lines only."""
    import difflib

    a, b = _WORDS.findall(old), _WORDS.findall(new)
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append("".join(a[i1:i2]))
            continue
        if i2 > i1:
            out.append("[-" + "".join(a[i1:i2]) + "-]")
        if j2 > j1:
            out.append("{+" + "".join(b[j1:j2]) + "+}")
    lines = "".join(out).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    changed = [i for i, line in enumerate(lines) if "[-" in line or "{+" in line or "-]" in line or "+}" in line]
    if not changed:
        return "(no change)"
    keep = sorted({j for i in changed for j in range(max(0, i - context_lines), min(len(lines), i + context_lines + 1))})
    shown, last = [], -1
    for i in keep:
        if i != last + 1:
            shown.append("…")
        shown.append(lines[i])
        last = i
    if last < len(lines) - 1:
        shown.append("…")
    return "\n".join(shown)
