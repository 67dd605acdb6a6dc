"""The editable region: the lines around the cursor the model may rewrite, cut into marker blocks.

The region starts at the cursor line and grows a line below, then a line above, until it holds about
`region_tokens` tokens; then each boundary that cuts a
syntax node (a function, a class, a block) grows to the node's edge while the region stays under
`max_region_tokens`. The region is cut into blocks of 6-16 lines at blank lines or indentation drops,
and marker k sits at the start of block k (marker n at the end of the region).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from . import languages
from .tokenmap import MAX_MARKERS

MIN_BLOCK_LINES = 6
MAX_BLOCK_LINES = 16
TARGET_BLOCK_LINES = 10
MAX_REGION_LINES = MAX_BLOCK_LINES * (MAX_MARKERS - 1)


def split_lines(text: str) -> list[str]:
    """Lines with their "\\n" kept; "\\r\\n" stays inside a line. "" has no lines; a final line may lack "\\n"."""
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


def line_starts(lines: Sequence[str]) -> list[int]:
    """Code-point offset of each line's start, plus the text length at the end."""
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    return starts


def line_of_offset(starts: Sequence[int], offset: int) -> int:
    """The line holding `offset` (an offset at a line's end belongs to that line, not the next)."""
    n_lines = len(starts) - 1
    if n_lines == 0:
        return 0
    line = bisect.bisect_right(starts, offset) - 1
    if line >= n_lines:
        # The end of a text whose last line ends in "\n" is the start of an (empty) extra line.
        return n_lines
    return line


@dataclass(frozen=True)
class RegionLayout:
    """Where the editable region and its markers sit in `before` (code-point offsets, lines 0-based)."""

    start_line: int
    end_line: int  # exclusive
    block_lines: tuple[int, ...]  # line of each marker: block_lines[0] == start_line, [-1] == end_line
    marker_offsets: tuple[int, ...]  # offset of each marker in before
    cursor: int

    @property
    def start(self) -> int:
        return self.marker_offsets[0]

    @property
    def end(self) -> int:
        return self.marker_offsets[-1]

    @property
    def n_blocks(self) -> int:
        return len(self.block_lines) - 1

    def cursor_marker(self) -> int:
        """The marker at the start of the block holding the cursor (where "no edit" is anchored)."""
        for k in range(self.n_blocks, -1, -1):
            if self.marker_offsets[k] <= self.cursor and (k < self.n_blocks or self.n_blocks == 0):
                return k
        return 0

    def to_json(self) -> dict[str, object]:
        return {
            "start_line": self.start_line,
            "end_line": self.end_line,
            "block_lines": list(self.block_lines),
            "marker_offsets": list(self.marker_offsets),
            "cursor": self.cursor,
        }


def choose_region(
    lines: Sequence[str],
    line_tokens: Sequence[int],
    cursor_line: int,
    *,
    region_tokens: int,
    max_region_tokens: int,
    tree=None,
) -> tuple[int, int]:
    """Returns [start_line, end_line) of the editable region."""
    n = len(lines)
    if n == 0:
        return 0, 0
    cursor_line = min(cursor_line, n - 1)
    start, end = cursor_line, cursor_line + 1
    total = line_tokens[cursor_line]
    step = 0
    while end - start < MAX_REGION_LINES and (start > 0 or end < n):
        # Alternate below and above: a region centred on the cursor keeps half of it ahead of the cursor,
        # which a keystroke leaves untouched (prefix reuse), at the cost of reaching less far down.
        take_above = (step % 2 == 1 and start > 0) or end >= n
        cost = line_tokens[start - 1] if take_above else line_tokens[end]
        if total + cost > region_tokens:
            break
        total += cost
        if take_above:
            start -= 1
        else:
            end += 1
        step += 1
    if tree is not None:
        start, end = _grow_to_syntax(tree, line_tokens, start, end, total, max_region_tokens)
    return start, end


def _grow_to_syntax(tree, line_tokens, start: int, end: int, total: int, budget: int) -> tuple[int, int]:
    """Moves each boundary that cuts a multi-line node to the node's edge, while the region fits `budget`."""
    n = len(line_tokens)
    for _ in range(8):
        grown = False
        if start > 0:
            node = _smallest_node_crossing(tree.root_node, start, upward=True)
            if node is not None:
                new_start = node.start_point[0]
                cost = sum(line_tokens[new_start:start])
                if total + cost <= budget and end - new_start <= MAX_REGION_LINES:
                    total += cost
                    start = new_start
                    grown = True
        if end < n:
            node = _smallest_node_crossing(tree.root_node, end, upward=False)
            if node is not None:
                new_end = min(n, node.end_point[0] + 1)
                cost = sum(line_tokens[end:new_end])
                if total + cost <= budget and new_end - start <= MAX_REGION_LINES:
                    total += cost
                    end = new_end
                    grown = True
        if not grown:
            break
    return start, end


def _smallest_node_crossing(root, boundary: int, *, upward: bool):
    """The smallest named node that starts above line `boundary` and ends on or below it.

    upward=True: the boundary is the region's first line; a node crossing it starts before it.
    upward=False: the boundary is the first line after the region; a node crossing it starts inside.
    """
    best = None
    node = root
    while True:
        child_found = None
        for child in node.named_children:
            s, e = child.start_point[0], child.end_point[0]
            if s < boundary <= e:
                child_found = child
                break
        if child_found is None:
            return best
        if child_found.start_point[0] != child_found.end_point[0]:
            best = child_found
        node = child_found


def cut_blocks(lines: Sequence[str], start: int, end: int) -> tuple[int, ...]:
    """Lines where markers go: blocks of 6-16 lines, cut at blank lines or where indentation drops."""
    cuts = [start]
    pos = start
    while end - pos > MAX_BLOCK_LINES:
        remaining = end - pos
        lo = pos + MIN_BLOCK_LINES
        hi = pos + min(MAX_BLOCK_LINES, remaining - MIN_BLOCK_LINES)
        if hi < lo:
            hi = lo
        best, best_score = lo, None
        for cut in range(lo, hi + 1):
            score = _cut_score(lines, cut) - abs(cut - pos - TARGET_BLOCK_LINES) * 0.1
            if best_score is None or score > best_score:
                best, best_score = cut, score
        cuts.append(best)
        pos = best
    cuts.append(end)
    if len(cuts) - 1 > MAX_MARKERS - 1:
        # Too many blocks: fall back to equal sizes that fit the marker count.
        n_blocks = MAX_MARKERS - 1
        size = -(-(end - start) // n_blocks)
        cuts = list(range(start, end, size)) + [end]
    return tuple(cuts)


def _cut_score(lines: Sequence[str], cut: int) -> float:
    """How good a block boundary is before line `cut`: after a blank line, or at an outdented line."""
    previous = lines[cut - 1]
    line = lines[cut] if cut < len(lines) else ""
    score = 0.0
    if not previous.strip():
        score += 3.0
    if line.strip():
        indent = len(line) - len(line.lstrip(" \t"))
        score += 2.0 / (1 + indent)
    else:
        score -= 1.0
    return score


def layout_region(
    text: str,
    cursor: int,
    line_tokens: Sequence[int],
    *,
    region_tokens: int,
    max_region_tokens: int,
    language: str | None,
    lines: Sequence[str] | None = None,
) -> RegionLayout:
    lines = split_lines(text) if lines is None else lines
    starts = line_starts(lines)
    cursor_line = min(line_of_offset(starts, cursor), max(len(lines) - 1, 0))
    tree = languages.parse(language, text) if language else None
    start, end = choose_region(
        lines,
        line_tokens,
        cursor_line,
        region_tokens=region_tokens,
        max_region_tokens=max_region_tokens,
        tree=tree,
    )
    # An empty file has no block: marker 0 alone, where an insertion goes.
    blocks = cut_blocks(lines, start, end) if end > start else (start,)
    return RegionLayout(
        start_line=start,
        end_line=end,
        block_lines=blocks,
        marker_offsets=tuple(starts[b] for b in blocks),
        cursor=cursor,
    )
