"""Character-level alignment of two texts, shared by the edit metrics.

`edit_spans` aligns lines first, then tokens inside small replaced blocks, then growth-only token runs
character by character; an insertion or deletion that could go in several equivalent places always goes in
the same one (the lowest place that starts a line), so two separate alignments agree. `lcs_length` is a
bit-parallel longest common subsequence.
"""

from __future__ import annotations

import difflib
import re


def common_prefix_length(a: str, b: str) -> int:
    """Length of the longest common prefix; binary search over slice compares (memcmp, not a loop)."""
    hi = min(len(a), len(b))
    if a[:hi] == b[:hi]:
        return hi
    lo = 0  # invariant: a[:lo] == b[:lo] and a[:hi] != b[:hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid
    return lo


def common_suffix_length(a: str, b: str, limit: int | None = None) -> int:
    """Length of the longest common suffix, at most `limit` (so it cannot overlap a common prefix)."""
    la, lb = len(a), len(b)
    hi = min(la, lb) if limit is None else max(0, min(limit, la, lb))
    if a[la - hi :] == b[lb - hi :]:
        return hi
    lo = 0  # invariant: the last lo characters agree, the last hi do not
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[la - mid : la - lo] == b[lb - mid : lb - lo]:
            lo = mid
        else:
            hi = mid
    return lo


def edit_spans(old: str, new: str, *, by_tokens: bool = True) -> list[tuple[int, int, int, int]]:
    """The changes turning `old` into `new`, in characters: `(old_start, old_end, new_start, new_end)`.

    Aligned the way a reader sees an edit, like Zed's `text_diff` (character-level alignment of code
    pairs up stray letters of unrelated words):
    1. the common prefix and suffix are trimmed, widened to whole lines (so a deleted line comes out
       as "    x = 1\n", not the rotated "x = 1\n    " plain trimming finds);
    2. the rest is aligned by lines (difflib's SequenceMatcher, autojunk off);
    3. a replaced block of at most 8 lines and 512 characters a side is aligned again by tokens
       (identifier runs, runs of blanks, newlines, single other characters);
    4. a replaced token run whose characters only grew or only shrank ("epr" -> "eprintln!()") is
       split into the character insertions or deletions; other replacements stay whole.
    `by_tokens=False` stops after step 2 (whole changed lines; cheaper, still exact spans).
    Spans are sorted, disjoint, and never equal on both sides.
    """
    if old == new:
        return []
    prefix = common_prefix_length(old, new)
    suffix = common_suffix_length(old, new, min(len(old), len(new)) - prefix)
    prefix = old.rfind("\n", 0, prefix) + 1
    old_end = len(old) - suffix
    if old_end > 0 and old[old_end - 1] != "\n":
        newline = old.find("\n", old_end)
        old_end = len(old) if newline < 0 else newline + 1
    suffix = len(old) - old_end
    new_end = len(new) - suffix
    spans = _align_lines(old[prefix:old_end], new[prefix:new_end], prefix, prefix, by_tokens)
    return _canonical_slides(old, new, spans)


def _canonical_slides(old: str, new: str, spans: list[Span]) -> list[Span]:
    """Moves each pure insertion or deletion to one chosen place among the places it could go.

    Inserting "b\na\n" after "a\n" gives the same text as inserting "a\nb\n" before it, and two
    alignments of similar texts may pick different ones; kept rate and reversal compare the texts of
    spans from separate alignments, so the choice is made canonical: among all equivalent places,
    the lowest one where the span starts a line, else the lowest one.
    """
    out: list[Span] = []
    for k, (o0, o1, n0, n1) in enumerate(spans):
        if (o0 == o1) == (n0 == n1):  # a replacement (or nothing): cannot slide
            out.append((o0, o1, n0, n1))
            continue
        moved = old if n0 == n1 else new  # the text that moves: deleted from old or inserted into new
        m0, m1 = (o0, o1) if n0 == n1 else (n0, n1)
        floor = out[-1][1] if out else 0
        ceiling = spans[k + 1][0] if k + 1 < len(spans) else len(old)
        # slide down to the last equivalent place: the first moved character equals the one after it
        while o1 < ceiling and moved[m0] == old[o1 if n0 == n1 else o0]:
            o0, o1, n0, n1, m0, m1 = o0 + 1, o1 + 1, n0 + 1, n1 + 1, m0 + 1, m1 + 1
        best = (o0, o1, n0, n1)
        found_line_start = o0 == 0 or old[o0 - 1] == "\n"
        # then walk up while the last moved character equals the one before, to the lowest line start
        while not found_line_start and o0 > floor and moved[m1 - 1] == old[o0 - 1]:
            o0, o1, n0, n1, m0, m1 = o0 - 1, o1 - 1, n0 - 1, n1 - 1, m0 - 1, m1 - 1
            if o0 == 0 or old[o0 - 1] == "\n":
                best, found_line_start = (o0, o1, n0, n1), True
        out.append(best)
    return out


LINE_PATTERN = re.compile(r"[^\n]*\n|[^\n]+")
_TOKEN = re.compile(r"\w+|\n|[^\S\n]+|.", re.DOTALL)
_TOKEN_DIFF_CHARS = 512
_TOKEN_DIFF_LINES = 8

Span = tuple[int, int, int, int]


def _opcodes(old: list[str], new: list[str]) -> list[tuple[str, int, int, int, int]]:
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    return [op for op in matcher.get_opcodes() if op[0] != "equal"]


def _align_lines(old: str, new: str, old_base: int, new_base: int, by_tokens: bool = True) -> list[Span]:
    if not old or not new:
        return [(old_base, old_base + len(old), new_base, new_base + len(new))]
    old_lines, new_lines = LINE_PATTERN.findall(old), LINE_PATTERN.findall(new)
    old_at, new_at = piece_starts(old_lines), piece_starts(new_lines)
    spans: list[Span] = []
    for tag, i1, i2, j1, j2 in _opcodes(old_lines, new_lines):
        o0, o1, n0, n1 = old_at[i1], old_at[i2], new_at[j1], new_at[j2]
        if (
            by_tokens
            and tag == "replace"
            and max(i2 - i1, j2 - j1) <= _TOKEN_DIFF_LINES
            and max(o1 - o0, n1 - n0) <= _TOKEN_DIFF_CHARS
        ):
            spans.extend(_align_tokens(old[o0:o1], new[n0:n1], old_base + o0, new_base + n0))
        else:
            spans.append((old_base + o0, old_base + o1, new_base + n0, new_base + n1))
    return spans


def _align_tokens(old: str, new: str, old_base: int, new_base: int) -> list[Span]:
    old_tokens, new_tokens = _TOKEN.findall(old), _TOKEN.findall(new)
    old_at, new_at = piece_starts(old_tokens), piece_starts(new_tokens)
    spans: list[Span] = []
    for tag, i1, i2, j1, j2 in _opcodes(old_tokens, new_tokens):
        o0, o1, n0, n1 = old_at[i1], old_at[i2], new_at[j1], new_at[j2]
        if tag == "replace":
            chars = _opcodes(list(old[o0:o1]), list(new[n0:n1]))
            if chars and (all(op[0] == "insert" for op in chars) or all(op[0] == "delete" for op in chars)):
                spans.extend(
                    (old_base + o0 + a0, old_base + o0 + a1, new_base + n0 + b0, new_base + n0 + b1)
                    for _, a0, a1, b0, b1 in chars
                )
                continue
        spans.append((old_base + o0, old_base + o1, new_base + n0, new_base + n1))
    return spans


def piece_starts(lines: list[str]) -> list[int]:
    """Offsets where each piece starts, plus the end: the pieces are consecutive slices of one text."""
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    return starts


def lcs_length(a: str, b: str) -> int:
    """Length of the longest common subsequence of two strings.

    Bit-parallel (Crochemore et al. / Hyyrö): one bit per character of `a` in a Python int, one
    big-int add/or/and per character of `b`, so 6 KiB against 6 KiB takes milliseconds, not the
    36 million steps of the textbook table.
    """
    prefix = common_prefix_length(a, b)
    suffix = common_suffix_length(a, b, min(len(a), len(b)) - prefix)
    a, b = a[prefix : len(a) - suffix], b[prefix : len(b) - suffix]
    if not a or not b:
        return prefix + suffix
    if len(b) > len(a):
        a, b = b, a  # loop over the shorter string, keep the longer in the bits
    width = (len(a) + 7) // 8
    bits: dict[str, bytearray] = {}
    for i, ch in enumerate(a):
        row = bits.get(ch)
        if row is None:
            row = bits[ch] = bytearray(width)
        row[i >> 3] |= 1 << (i & 7)
    masks = {ch: int.from_bytes(row, "little") for ch, row in bits.items()}
    full = (1 << len(a)) - 1
    v = full  # a zero bit i means a[i] ends a match in the current LCS row
    for ch in b:
        m = masks.get(ch)
        if m is None:
            continue
        u = v & m
        v = ((v + u) | (v - u)) & full
    return prefix + suffix + len(a) - v.bit_count()
