"""Prompt format "zeta2-markers": the prompt for serving and the target for training, side by side.

One module renders both, so the daemon and the trainer cannot drift apart. Layout of a prompt, stable
parts first so consecutive keystrokes share a long prefix whose KV cache the daemon keeps:

    <|related|>path:line            definitions the cursor's code uses (most relevant first)
    <|file|>path                    the file around the editable region, the region itself elided
    ... lines above ...<|region_gap|>... lines below ...
    <|history|>                     the earlier edit events (up to 5) as unified diffs, oldest first
    <|editable_region|>path:line    <|marker_0|>block 0<|marker_1|>block 1 ...<|user_cursor|>...<|marker_n|>
    <|diagnostics|>                 diagnostics nearest the cursor
    <|last_edit|>                   the newest edit event: usually the edit still being typed
    <|answer|>

The answer is one marker span and the end token: `<|marker_i|>` new text of blocks i..j-1 `<|marker_j|>`
`<|edit_end|>`. "No edit" is the same marker twice with nothing between. The stable sections are sized from
fixed reserves, never from what the volatile sections (history, diagnostics, region) happen to use, so a
keystroke inside the region does not move them. The newest event and the diagnostics change with nearly every
keystroke, so they come after the region: a keystroke then leaves everything up to the cursor untouched.

Token budgets are enforced with the real tokenizer. Change anything here that changes a rendered prompt or
target and FORMAT_VERSION must go up (the golden-file test fails until it does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tokenizers import Tokenizer

from . import languages
from .region import RegionLayout, layout_region, line_of_offset, line_starts, split_lines
from .schema import Diagnostic, Event, Example, Related
from .tokenmap import TOKEN_MAPS, TokenMap, add_format_tokens, load_tokenizer, token_map_for

FORMAT_NAME = "zeta2-markers"
FORMAT_VERSION = 1

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "TOKEN_MAPS",
    "FormatError",
    "OutOfRegion",
    "ParsedEdit",
    "PromptConfig",
    "PromptError",
    "RegionLayout",
    "RenderedPrompt",
    "Renderer",
    "Target",
    "TokenMap",
    "add_format_tokens",
    "load_tokenizer",
    "token_map_for",
]


@dataclass(frozen=True)
class PromptConfig:
    """Token budgets. Reserves default to shares of `max_prompt_tokens` so a smaller budget scales down."""

    max_prompt_tokens: int = 2048
    region_tokens: int | None = None  # default min(350, 17% of the budget)
    max_region_tokens: int | None = None  # growth to syntax nodes stops here; default 1.5 x region_tokens
    history_tokens: int | None = None  # reserve for edit events; default 20% of the budget
    diagnostics_tokens: int | None = None  # reserve for diagnostics; default 4% of the budget
    max_events: int = 6
    max_related_share: float = 0.5  # of the stable budget; the file context gets the rest

    def __post_init__(self) -> None:
        if self.max_prompt_tokens < 256:
            raise ValueError(f"max_prompt_tokens must be at least 256, got {self.max_prompt_tokens}")
        budget = self.max_prompt_tokens
        if self.region_tokens is None:
            object.__setattr__(self, "region_tokens", min(350, int(budget * 0.17)))
        if self.max_region_tokens is None:
            object.__setattr__(self, "max_region_tokens", int(self.region_tokens * 1.5))
        if self.history_tokens is None:
            object.__setattr__(self, "history_tokens", int(budget * 0.2))
        if self.diagnostics_tokens is None:
            object.__setattr__(self, "diagnostics_tokens", int(budget * 0.04))
        reserved = self.max_region_tokens + self.history_tokens + self.diagnostics_tokens + OVERHEAD_TOKENS
        if reserved >= budget:
            raise ValueError(f"reserves ({reserved} tokens) leave nothing of max_prompt_tokens={budget}")

    @property
    def stable_tokens(self) -> int:
        """What related definitions and file context may use together."""
        return (
            self.max_prompt_tokens
            - self.max_region_tokens
            - self.history_tokens
            - self.diagnostics_tokens
            - OVERHEAD_TOKENS
        )

    def max_output_tokens(self) -> int:
        """Enough for the model to rewrite the whole region plus a fifth more."""
        return int(self.max_region_tokens * 1.2) + 8


# Section tokens, headers and the final answer token.
OVERHEAD_TOKENS = 48
LINE_CACHE_SIZE = 200_000
SECTIONS = ("related", "file", "history", "region", "diagnostics", "last_edit", "answer")


class PromptError(ValueError):
    """An example that cannot be rendered within the budget (e.g. the cursor line alone is too long)."""


@dataclass(frozen=True)
class RenderedPrompt:
    text: str
    token_ids: list[int]
    layout: RegionLayout
    before: str
    example_id: str = ""
    # tokens per section, and what was left out to fit the budget
    sections: dict[str, int] = field(default_factory=dict)
    events_included: int = 0
    events_dropped: int = 0
    last_event_truncated: bool = False
    related_included: int = 0

    @property
    def n_tokens(self) -> int:
        return len(self.token_ids)

    @property
    def answer_budget(self) -> int:
        """Most tokens an answer to this prompt may take: its whole region rewritten and half as much
        again, plus the markers. An answer still open past it is almost always a loop, so decoding stops
        there and training drops longer targets (in the shared data: no dev target and 0.3% of train
        targets, big insertions into small regions, need more). Decoding also keeps to
        `PromptConfig.max_output_tokens()` (the largest region and a fifth more), whichever is smaller."""
        return int(self.sections["region"] * 1.5) + 16


@dataclass(frozen=True)
class Target:
    """The training target: the answer text and its token ids (ending with the end token)."""

    text: str
    token_ids: list[int]
    first_marker: int
    last_marker: int
    new_text: str

    @property
    def is_noop(self) -> bool:
        return self.first_marker == self.last_marker and not self.new_text


@dataclass(frozen=True)
class OutOfRegion:
    """The expected change lies (partly) outside the editable region the example gets."""

    reason: str
    change_lines: tuple[int, int]  # [first, last) changed lines of before
    region_lines: tuple[int, int]


@dataclass(frozen=True)
class ParsedEdit:
    """A model answer applied to `before`: replace before[start:end] with new_text."""

    start: int
    end: int
    new_text: str
    predicted: str
    first_marker: int
    last_marker: int
    before: str = field(default="", repr=False)

    @property
    def is_noop(self) -> bool:
        return self.predicted == self.before


@dataclass(frozen=True)
class FormatError:
    """A model answer that does not follow the format. A value, not an exception: callers check for it."""

    reason: str
    output: str

    def __str__(self) -> str:
        return f"model output does not follow {FORMAT_NAME} v{FORMAT_VERSION}: {self.reason}"


class Renderer:
    """Renders prompts and targets and parses answers for one tokenizer and token map."""

    def __init__(self, tokenizer: Tokenizer, token_map: TokenMap | str = "smollm2", config: PromptConfig | None = None):
        self.token_map = token_map_for(token_map) if isinstance(token_map, str) else token_map
        self.tokenizer = add_format_tokens(tokenizer, self.token_map)
        self.config = config or PromptConfig()
        tm = self.token_map
        self.end_token_id: int = self._id(tm.end)
        self.eos_token_id: int | None = tokenizer.token_to_id(tm.eos)
        self.marker_ids: tuple[int, ...] = tuple(self._id(m) for m in tm.markers)
        self.special_token_ids: frozenset[int] = frozenset(self._id(t) for t in tm.special_tokens)
        self._marker_index = {m: i for i, m in enumerate(tm.markers)}
        self._line_cache: dict[str, int] = {}

    @classmethod
    def from_file(cls, tokenizer_json: Any, family: str = "smollm2", config: PromptConfig | None = None) -> Renderer:
        return cls(load_tokenizer(tokenizer_json, family), family, config)

    def _id(self, token: str) -> int:
        token_id = self.tokenizer.token_to_id(token)
        if token_id is None:
            raise KeyError(f"tokenizer lacks the format token {token}")
        return token_id

    def count(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids) if text else 0

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=False)

    def _line_counts(self, lines: list[str]) -> list[int]:
        """Tokens per line. Cached by line text: consecutive keystrokes change one line of hundreds."""
        cache = self._line_cache
        missing = [line for line in dict.fromkeys(lines) if line not in cache]
        if missing:
            if len(cache) + len(missing) > LINE_CACHE_SIZE:
                cache.clear()
            for line, encoding in zip(missing, self.tokenizer.encode_batch(missing, add_special_tokens=False), strict=True):
                cache[line] = len(encoding.ids)
        return [cache[line] for line in lines]

    # ------------------------------------------------------------------------------------------
    # prompt

    def render_prompt(self, example: Example) -> RenderedPrompt:
        cfg, tm = self.config, self.token_map
        before = example.before
        lines = split_lines(before)
        counts = self._line_counts(lines)
        language = languages.normalize_language(example.language, example.path)
        layout = layout_region(
            before,
            example.cursor,
            counts,
            region_tokens=cfg.region_tokens,
            max_region_tokens=cfg.max_region_tokens,
            language=language,
            lines=lines,
        )
        region = self._region_text(example, layout)
        region_count = len(self.encode(region))
        # The region was sized by per-line counts; its markers, cursor and header come on top.
        allowance = layout.n_blocks + 2 + len(self.encode(region[: region.index("\n") + 1])) + 16
        if region_count > cfg.max_region_tokens + allowance:
            raise PromptError(
                f"{example.path}: the editable region around line {layout.start_line + 1} needs {region_count} "
                f"tokens, over the limit of {cfg.max_region_tokens} (a very long line?)"
            )
        spare_region = max(0, cfg.max_region_tokens - region_count)

        history, last_edit, n_events, dropped, truncated = self._history_text(
            example.events, cfg.history_tokens + spare_region
        )
        diagnostics = self._diagnostics_text(example.diagnostics, layout, before, cfg.diagnostics_tokens)
        related_budget = int(cfg.stable_tokens * cfg.max_related_share)
        related, n_related, related_used = self._related_text(example.related, related_budget)
        file_context = self._file_context(example.path, lines, counts, layout, cfg.stable_tokens - related_used)

        # Every section starts with a special token, where the tokenizer splits its input anyway, so the
        # concatenated ids of the sections are exactly the ids of the whole prompt.
        texts = dict(
            zip(SECTIONS, (related, file_context, history, region, diagnostics, last_edit, tm.answer), strict=True)
        )
        ids_by_section = {name: self.encode(text) for name, text in texts.items()}
        total = sum(len(ids) for ids in ids_by_section.values())
        # Per-line counts only plan the file context; the real count decides. Trim until it fits.
        while total > cfg.max_prompt_tokens and texts["file"]:
            texts["file"] = self._shrink_file_context(example.path, texts["file"])
            ids_by_section["file"] = self.encode(texts["file"])
            total = sum(len(ids) for ids in ids_by_section.values())
        if total > cfg.max_prompt_tokens:
            raise PromptError(f"{example.path}: prompt needs {total} tokens, over {cfg.max_prompt_tokens}")
        text = "".join(texts.values())
        ids = [token for name in SECTIONS for token in ids_by_section[name]]
        sections = {name: len(ids_by_section[name]) for name in SECTIONS if name != "answer"}
        return RenderedPrompt(
            text=text,
            token_ids=ids,
            layout=layout,
            before=before,
            example_id=example.id,
            sections=sections,
            events_included=n_events,
            events_dropped=dropped,
            last_event_truncated=truncated,
            related_included=n_related,
        )

    def _region_text(self, example: Example, layout: RegionLayout) -> str:
        tm, before = self.token_map, example.before
        out = [f"{tm.region}{example.path}:{layout.start_line + 1}\n"]
        offsets = layout.marker_offsets
        for k in range(layout.n_blocks):
            out.append(tm.marker(k))
            block_start, block_end = offsets[k], offsets[k + 1]
            cursor = layout.cursor
            if block_start <= cursor < block_end or (k == layout.n_blocks - 1 and cursor == block_end):
                out.append(before[block_start:cursor] + tm.cursor + before[cursor:block_end])
            else:
                out.append(before[block_start:block_end])
        if layout.n_blocks == 0:
            out.append(tm.marker(0) + tm.cursor)
        else:
            out.append(tm.marker(layout.n_blocks))
        out.append("\n")
        return "".join(out)

    def _history_text(self, events: tuple[Event, ...], budget: int) -> tuple[str, str, int, int, bool]:
        """(earlier events, newest event, kept, dropped, newest truncated).

        Newest events are kept first until the budget is spent; earlier ones render oldest first. The newest
        always stays, cut short if it alone exceeds the budget.
        """
        tm = self.token_map
        candidates = list(events[-self.config.max_events :])
        if not candidates:
            return "", "", 0, len(events), False
        budget -= self.count(tm.history + "\n") + self.count(tm.last_edit + "\n")
        newest = _event_text(candidates[-1])
        cost = self.count(newest)
        truncated = cost > budget
        if truncated:
            newest = self._truncate_event(newest, budget)
            cost = self.count(newest)
        budget -= cost
        kept: list[str] = []
        for event in reversed(candidates[:-1]):
            text = _event_text(event)
            cost = self.count(text)
            if cost > budget:
                break
            kept.append(text)
            budget -= cost
        kept.reverse()
        earlier = tm.history + "\n" + "".join(kept) if kept else ""
        return earlier, tm.last_edit + "\n" + newest, len(kept) + 1, len(events) - len(kept) - 1, truncated

    def _truncate_event(self, text: str, budget: int) -> str:
        """Keeps the headers and the head of the hunk of an event too large for the budget."""
        lines = split_lines(text)
        marker = "...\n"
        out: list[str] = []
        used = self.count(marker)
        for line in lines:
            cost = self.count(line)
            if used + cost > budget and len(out) >= 3:
                break
            out.append(line)
            used += cost
        return "".join(out) + marker

    def _diagnostics_text(self, diagnostics: tuple[Diagnostic, ...], layout: RegionLayout, before: str, budget: int) -> str:
        if not diagnostics:
            return ""
        cursor_line = line_of_offset(line_starts(split_lines(before)), layout.cursor)
        ordered = sorted(diagnostics, key=lambda d: (abs(d.start[0] - cursor_line), d.start))
        header = self.token_map.diagnostics + "\n"
        used = self.count(header)
        out = [header]
        for diag in ordered:
            source = f" ({diag.source})" if diag.source else ""
            line = f"{diag.start[0] + 1}:{diag.start[1] + 1} {diag.severity}: {diag.message.strip()}{source}\n"
            cost = self.count(line)
            if used + cost > budget:
                break
            out.append(line)
            used += cost
        return "".join(out) if len(out) > 1 else ""

    def _related_text(self, related: tuple[Related, ...], budget: int) -> tuple[str, int, int]:
        out: list[str] = []
        used = 0
        for item in related:
            text = f"{self.token_map.related}{item.path}:{item.start_line + 1}\n{item.text}"
            if not text.endswith("\n"):
                text += "\n"
            cost = self.count(text)
            if used + cost > budget:
                continue
            out.append(text)
            used += cost
        return "".join(out), len(out), used

    def _file_context(self, path: str, lines: list[str], counts: list[int], layout: RegionLayout, budget: int) -> str:
        """Lines above and below the region, nearest first, alternating, within `budget`."""
        tm = self.token_map
        header = f"{tm.file}{path}\n"
        used = self.count(header) + self.count(tm.region_gap + "\n") + 4
        above, below = layout.start_line, layout.end_line
        n = len(lines)
        while above > 0 or below < n:
            grew = False
            if above > 0 and used + counts[above - 1] <= budget:
                above -= 1
                used += counts[above]
                grew = True
            if below < n and used + counts[below] <= budget:
                used += counts[below]
                below += 1
                grew = True
            if not grew:
                break
        head = "..." + "\n" if above > 0 else ""
        tail = "..." + "\n" if below < n else ""
        upper = "".join(lines[above : layout.start_line])
        lower = "".join(lines[layout.end_line : below])
        if upper and not upper.endswith("\n"):
            upper += "\n"
        if lower and not lower.endswith("\n"):
            lower += "\n"
        return f"{header}{head}{upper}{tm.region_gap}\n{lower}{tail}"

    def _shrink_file_context(self, path: str, file_context: str) -> str:
        """Drops the outermost line on each side of the gap; '' once nothing is left around it."""
        tm = self.token_map
        header = f"{tm.file}{path}\n"
        body = file_context[len(header) :]
        upper, _, lower = body.partition(tm.region_gap + "\n")
        up = split_lines(upper.removeprefix("...\n"))
        low = split_lines(lower.removesuffix("...\n"))
        if not up and not low:
            return ""
        up, low = up[1:], low[:-1]
        return f"{header}...\n{''.join(up)}{tm.region_gap}\n{''.join(low)}...\n"

    # ------------------------------------------------------------------------------------------
    # target

    def render_target(self, prompt: RenderedPrompt, expected: str) -> Target | OutOfRegion:
        """The answer that turns `prompt.before` into `expected`, or OutOfRegion when it cannot."""
        layout, before = prompt.layout, prompt.before
        old, new = split_lines(before), split_lines(expected)
        prefix = 0
        limit = min(len(old), len(new))
        while prefix < limit and old[prefix] == new[prefix]:
            prefix += 1
        suffix = 0
        while suffix < limit - prefix and old[-1 - suffix] == new[-1 - suffix]:
            suffix += 1
        old_end = len(old) - suffix
        if before == expected:
            k = layout.cursor_marker()
            return self._target(k, "", k)
        region = (layout.start_line, layout.end_line)
        if prefix < layout.start_line or old_end > layout.end_line:
            return OutOfRegion(
                reason=(
                    f"change on lines {prefix + 1}-{max(old_end, prefix + 1)} is outside the editable region "
                    f"(lines {layout.start_line + 1}-{layout.end_line})"
                ),
                change_lines=(prefix, old_end),
                region_lines=region,
            )
        blocks = layout.block_lines
        i = max(k for k in range(len(blocks)) if blocks[k] <= prefix)
        j = min(k for k in range(len(blocks)) if blocks[k] >= old_end)
        if i == j and prefix != old_end:
            raise AssertionError("a non-empty change cannot sit between two equal markers")
        delta = len(new) - len(old)
        new_text = "".join(new[blocks[i] : blocks[j] + delta])
        return self._target(i, new_text, j)

    def _target(self, i: int, new_text: str, j: int) -> Target:
        tm = self.token_map
        text = tm.marker(i) + new_text + tm.marker(j) + tm.end
        return Target(text=text, token_ids=self.encode(text), first_marker=i, last_marker=j, new_text=new_text)

    def render_training_pair(self, example: Example) -> tuple[RenderedPrompt, Target] | OutOfRegion:
        if example.expected is None:
            raise ValueError(f"{example.id}: example has no expected text to train on")
        prompt = self.render_prompt(example)
        target = self.render_target(prompt, example.expected)
        if isinstance(target, OutOfRegion):
            return target
        return prompt, target

    # ------------------------------------------------------------------------------------------
    # answer

    def parse_output(self, prompt: RenderedPrompt, output: str) -> ParsedEdit | FormatError:
        """Applies a model answer to the prompt's `before`. Never raises for a malformed answer."""
        tm, layout, before = self.token_map, prompt.layout, prompt.before
        text = output
        end_at = text.find(tm.end)
        if end_at >= 0:
            text = text[:end_at]
        elif tm.eos in text:
            text = text[: text.find(tm.eos)]
        text = text.lstrip(" \t\r\n")
        first = _leading_marker(text, self._marker_index)
        if first is None:
            return FormatError("the answer does not start with a marker token", output)
        i, rest = first
        j_found = _find_marker(rest, self._marker_index)
        if j_found is None:
            return FormatError(f"no closing marker after {tm.marker(i)}", output)
        j, body, trailing = j_found
        if trailing.strip():
            return FormatError(f"text after the closing marker {tm.marker(j)}", output)
        n = layout.n_blocks
        if i > n or j > n:
            return FormatError(f"marker {max(i, j)} is past the region's last marker {n}", output)
        if j < i:
            return FormatError(f"closing marker {j} comes before opening marker {i}", output)
        body = body.replace(tm.cursor, "")
        for token in tm.special_tokens:
            if token in body:
                return FormatError(f"special token {token} inside the new text", output)
        start, end = layout.marker_offsets[i], layout.marker_offsets[j]
        replaced = before[start:end]
        # Blocks are whole lines: a rewrite that lost its final newline would glue the next line on.
        at_line_start = start == 0 or before[start - 1] == "\n"
        followed = end < len(before)
        if body and not body.endswith("\n") and at_line_start and followed and (replaced.endswith("\n") or i == j):
            body += "\n"
        predicted = before[:start] + body + before[end:]
        return ParsedEdit(
            start=start,
            end=end,
            new_text=body,
            predicted=predicted,
            first_marker=i,
            last_marker=j,
            before=before,
        )


def _event_text(event: Event) -> str:
    diff = event.diff
    if not diff.endswith("\n"):
        diff += "\n"
    if event.predicted:
        # Edits that came from accepted suggestions are marked so the model can tell them apart.
        return "# accepted suggestion\n" + diff
    return diff


def _leading_marker(text: str, index: dict[str, int]) -> tuple[int, str] | None:
    if not text.startswith("<|marker_"):
        return None
    close = text.find("|>")
    if close < 0:
        return None
    token = text[: close + 2]
    if token not in index:
        return None
    return index[token], text[close + 2 :]


def _find_marker(text: str, index: dict[str, int]) -> tuple[int, str, str] | None:
    at = text.find("<|marker_")
    while at >= 0:
        close = text.find("|>", at)
        if close < 0:
            return None
        token = text[at : close + 2]
        if token in index:
            return index[token], text[:at], text[close + 2 :]
        at = text.find("<|marker_", at + 1)
    return None
