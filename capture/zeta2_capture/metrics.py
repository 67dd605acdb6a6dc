"""Edit metrics: how good one predicted edit is. The definitions every report uses (BRIEF section 6).

All functions take full file texts: `original` (the file when the prediction was asked for, an
example's `before`), `expected` (the ideal next edit, or the settled text) and `actual` / `predicted`
(the file after the model's edit). Offsets and lengths are in Unicode code points.

- `delta_chrf`: Zed's delta chrF, character n-grams of the *change* rather than of the text.
- `reversal_ratio`: how much of a prediction undoes the user's own latest edit.
- `kept_rate` / `recall_rate` (`kept_counts` gives both): how much of the prediction survives in the
  settled text, and how much of the settled change the prediction had.
- `exact_match`, `syntax_error_delta`, and `score_example` bundling all of them for `eval`.

Learned from Zed's `edit_prediction_metrics` crate; where we differ, the docstring says so.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .alignment import (
    LINE_PATTERN,
    common_prefix_length,
    common_suffix_length,
    edit_spans,
    lcs_length,
    piece_starts,
)

CHRF_ORDER = 6
CHRF_BETA = 0.5
# An n-gram of order <= 6 that touches a changed character starts at most 5 characters before it.
CHRF_CONTEXT = CHRF_ORDER - 1

# Rust's char::is_whitespace (Unicode White_Space) minus '\n'. Python's str.isspace() would also
# take \x1c-\x1f, which Zed keeps as ordinary characters.
_SPACE_RUN = re.compile("[\t\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
_NEWLINE_RUN = re.compile("\n+")
# Above this many characters between the first and the last change of an edit, delta chrF aligns
# the edit's lines to window each hunk separately.
_SINGLE_WINDOW_CHARS = 2000


def _require_str(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"metrics: argument {name!r} must be a str, got {type(value).__name__}")
    return value


# ---------------------------------------------------------------------------------------------
# delta chrF


def collapse_whitespace(text: str) -> str:
    """Zed's chrF whitespace rule: each run of spaces/tabs/other blanks -> ' ', each run of '\\n' -> '\\n'.

    The two kinds collapse separately, so ' \\n ' stays ' \\n ' ('\\r\\n' becomes ' \\n').
    """
    return _NEWLINE_RUN.sub("\n", _SPACE_RUN.sub(" ", text))


def _ngrams(text: str, n: int) -> Counter[str]:
    return Counter(text[i : i + n] for i in range(len(text) - n + 1))


@dataclass(frozen=True, slots=True)
class _OrderCounts:
    tp: int
    fp: int
    fn: int


def _delta_counts(before: Counter[str], after: Counter[str]) -> tuple[Counter[str], Counter[str]]:
    """(added grams, deleted grams): a negative count is kept as a distinct 'deleted gram' entry."""
    return after - before, before - after


def _compare(expected: Counter[str], actual: Counter[str]) -> tuple[int, int, int]:
    tp = fp = fn = 0
    for gram, count in expected.items():
        got = actual.get(gram, 0)
        tp += min(count, got)
        fn += max(0, count - got)
    for gram, count in actual.items():
        fp += max(0, count - expected.get(gram, 0))
    return tp, fp, fn


@dataclass(frozen=True, slots=True)
class DeltaChrf:
    """delta chrF with its parts: `precision` and `recall` are the means over orders (0..1)."""

    score: float
    precision: float
    recall: float


_PERFECT = DeltaChrf(100.0, 1.0, 1.0)


def _chrf_from_orders(orders: list[_OrderCounts | None]) -> DeltaChrf:
    """F-beta of precision and recall averaged over orders; None marks an order where both deltas are empty."""
    precision = recall = 0.0
    for counts in orders:
        if counts is None:
            precision += 1.0
            recall += 1.0
            continue
        precision += counts.tp / (counts.tp + counts.fp) if counts.tp + counts.fp else 0.0
        recall += counts.tp / (counts.tp + counts.fn) if counts.tp + counts.fn else 0.0
    precision /= len(orders)
    recall /= len(orders)
    if precision + recall == 0.0:
        return DeltaChrf(0.0, precision, recall)
    beta2 = CHRF_BETA * CHRF_BETA
    return DeltaChrf(
        (1 + beta2) * precision * recall / (beta2 * precision + recall) * 100.0, precision, recall
    )


def _order_counts(original: str, expected: str, actual: str, n: int) -> _OrderCounts | None:
    return _order_counts_from(_ngrams(original, n), _ngrams(expected, n), _ngrams(actual, n))


def _order_counts_from(
    original: Counter[str], expected: Counter[str], actual: Counter[str]
) -> _OrderCounts | None:
    """TP/FP/FN of one order from the three texts' gram counts; None when both deltas are empty."""
    exp_added, exp_deleted = _delta_counts(original, expected)
    act_added, act_deleted = _delta_counts(original, actual)
    if not (exp_added or exp_deleted or act_added or act_deleted):
        return None
    tp_a, fp_a, fn_a = _compare(exp_added, act_added)
    tp_d, fp_d, fn_d = _compare(exp_deleted, act_deleted)
    return _OrderCounts(tp_a + tp_d, fp_a + fp_d, fn_a + fn_d)


def delta_chrf(original: str, expected: str, actual: str) -> float:
    """Zed's delta chrF score in 0..100; see `delta_chrf_detail` for the definition."""
    return delta_chrf_detail(original, expected, actual).score


def delta_chrf_detail(original: str, expected: str, actual: str) -> DeltaChrf:
    """Zed's delta chrF in 0..100: how well the change original->actual matches original->expected.

    Texts are whitespace-collapsed (`collapse_whitespace`). For each order n = 1..6, with grams(t) the
    multiset of n-character substrings of t:
      Δexpected = grams(expected) - grams(original), Δactual = grams(actual) - grams(original), a
      negative count kept as its own "deleted gram" entry (so deleting the wrong text is a false
      positive, failing to delete is a false negative);
      TP = Σ min(Δexpected, Δactual), FP = Σ excess of Δactual, FN = Σ excess of Δexpected;
      P_n = TP/(TP+FP), R_n = TP/(TP+FN); 0 when the denominator is 0; P_n = R_n = 1 when both Δ are
      empty, i.e. neither change alters the order-n gram counts.
    P and R are the means over the 6 orders; score = (1+β²)·P·R / (β²·P + R) × 100 with β = 0.5.
    original == expected == actual scores 100.

    One deliberate difference from Zed's code: Zed calls a Δ map "empty" only when it has no keys,
    and keys with a zero count stay in it, so a perfect prediction of a change that leaves some
    order's counts unchanged (swapping "ab" -> "ba" leaves the 1-grams alone) scores P_1 = R_1 = 0
    there; here that order counts as agreement (1). Every other case is identical.

    Fast path: grams wholly inside text that all three share cancel out, so only windows around the
    changes (each change plus 5 characters either side, `_change_windows`) are counted. The result
    is identical to counting whole texts (`delta_chrf_naive`; a property test checks it).
    """
    _require_str("original", original)
    _require_str("expected", expected)
    _require_str("actual", actual)
    if original == expected == actual:
        return _PERFECT
    o, e, a = _collapsed_changes(original, expected, actual)
    if o == e == a:
        return _PERFECT
    windows = _change_windows(o, e, a)
    grams = [_window_ngrams(windows, n) for n in range(1, CHRF_ORDER + 1)]
    return _chrf_from_orders([_order_counts_from(*g) for g in grams])


def _is_blank(ch: str) -> bool:
    return ch == "\n" or _SPACE_RUN.match(ch) is not None


def _collapsed_changes(original: str, expected: str, actual: str) -> tuple[str, str, str]:
    """The collapsed texts without the collapsed text all three share at both ends, bar 5 characters.

    Collapsing 20k characters three times costs more than the rest of delta chrF, so the raw common
    prefix and suffix are cut off first, at a non-blank character (whitespace runs never straddle the
    cut, so collapsing the pieces equals collapsing the whole), and only 5 collapsed characters of
    each are kept as context.
    """
    o, e, a = original, expected, actual
    prefix = min(common_prefix_length(o, e), common_prefix_length(o, a))
    while prefix > 0 and _is_blank(o[prefix - 1]):
        prefix -= 1
    limit = min(len(o), len(e), len(a)) - prefix
    suffix = min(common_suffix_length(o, e, limit), common_suffix_length(o, a, limit))
    while suffix > 0 and _is_blank(o[len(o) - suffix]):
        suffix -= 1
    # the collapse of a text's tail is a tail of its collapse, so grow the tail until it has 5 characters
    left, size = "", 16
    while True:
        left = collapse_whitespace(o[max(0, prefix - size) : prefix])
        if len(left) >= CHRF_CONTEXT or size >= prefix:
            break
        size *= 4
    right, size = "", 16
    while True:
        right = collapse_whitespace(o[len(o) - suffix : len(o) - suffix + size])
        if len(right) >= CHRF_CONTEXT or size >= suffix:
            break
        size *= 4
    left, right = left[len(left) - CHRF_CONTEXT :] if len(left) > CHRF_CONTEXT else left, right[:CHRF_CONTEXT]
    return tuple(left + collapse_whitespace(x[prefix : len(x) - suffix]) + right for x in (o, e, a))  # type: ignore[return-value]


def _change_windows(o: str, e: str, a: str) -> list[tuple[str, str, str]]:
    """Matching slices of the three texts that hold every change plus 5 characters either side.

    The changes original->expected and original->actual are located separately (`_pair_spans`);
    their ranges in `original`, widened by 5 and merged where they meet, are cut out of all three
    texts. Outside the windows the texts agree piece by piece, so every n-gram (n <= 6) not wholly
    inside a window occurs equally often in all three and cancels out of both deltas.
    """
    spans_e, spans_a = _pair_spans(o, e), _pair_spans(o, a)
    ranges = sorted(
        (max(0, o0 - CHRF_CONTEXT), min(len(o), o1 + CHRF_CONTEXT)) for o0, o1, _, _ in spans_e + spans_a
    )
    merged: list[list[int]] = []
    for lo, hi in ranges:
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [(o[lo:hi], _mapped(e, spans_e, lo, hi), _mapped(a, spans_a, lo, hi)) for lo, hi in merged]


def _pair_spans(o: str, x: str) -> list[tuple[int, int, int, int]]:
    """Where `x` differs from `o`: one span between the common prefix and suffix when that is short,
    else the changed lines (`edit_spans` by lines; a multi-hunk edit then gets a window per hunk)."""
    if o == x:
        return []
    prefix = common_prefix_length(o, x)
    suffix = common_suffix_length(o, x, min(len(o), len(x)) - prefix)
    if max(len(o), len(x)) - prefix - suffix <= _SINGLE_WINDOW_CHARS:
        return [(prefix, len(o) - suffix, prefix, len(x) - suffix)]
    return edit_spans(o, x, by_tokens=False)


def _mapped(text: str, spans: list[tuple[int, int, int, int]], lo: int, hi: int) -> str:
    """The slice of `text` that `original[lo:hi]` became; lo and hi lie outside every span's inside.

    A pure insertion sitting exactly at `lo` or `hi` (only possible at the ends of the text, since
    windows reach 5 characters past every change) belongs inside the window.
    """
    return text[_position(spans, lo, False) : _position(spans, hi, True)]


def _position(spans: list[tuple[int, int, int, int]], at: int, after_insertion: bool) -> int:
    shift = 0
    for o0, o1, _, n1 in spans:
        if o1 < at or (o1 == at and (after_insertion or o0 < at)):
            shift = n1 - o1
        else:
            break
    return at + shift


def _window_ngrams(
    windows: list[tuple[str, str, str]], n: int
) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """n-gram counts of the original, expected and actual windows, each summed over the windows."""
    totals: tuple[Counter[str], Counter[str], Counter[str]] = (Counter(), Counter(), Counter())
    for window in windows:
        for total, piece in zip(totals, window, strict=True):
            total.update(_ngrams(piece, n))
    return totals


def delta_chrf_naive(original: str, expected: str, actual: str) -> DeltaChrf:
    """`delta_chrf_detail` counting grams over the whole texts: the slow reference the fast path must equal."""
    if original == expected == actual:
        return _PERFECT
    o, e, a = collapse_whitespace(original), collapse_whitespace(expected), collapse_whitespace(actual)
    return _chrf_from_orders([_order_counts(o, e, a, n) for n in range(1, CHRF_ORDER + 1)])


# ---------------------------------------------------------------------------------------------
# reversal ratio


class EventDiffError(ValueError):
    """An event's diff that is not a unified diff; the message names the event and the diff line."""


@dataclass(frozen=True, slots=True)
class UserChange:
    """One character-level change of a user's edit, placed in the text after that edit.

    `inserted` now occupies `text[start:end]` and `deleted` used to stand at `start` (so `start ==
    end` for a pure deletion). `start` and `end` are None when the hunk could not be found in the text.
    """

    start: int | None
    end: int | None
    deleted: str
    inserted: str


_HUNK_HEADER = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def parse_user_changes(diff: str, text: str | None = None, *, where: str = "diff") -> list[UserChange]:
    """The changes of a unified diff, reduced to characters and placed in `text` (the file after it).

    Kept deliberately tiny: '@@ -a,b +c,d @@' headers and their counted '-', '+', ' ' lines (a bare
    empty line counts as context) and '\\ No newline at end of file'; anything outside hunks (---/+++
    headers, 'diff --git', 'index') is skipped. Each run of '-'/'+' lines is reduced by `edit_spans`
    to the characters it deleted and inserted. A hunk is placed where its post-edit lines (context
    and '+') stand in `text`: at the header's line when they match there, else at their first match
    starting a line, else nowhere (positions None; also when `text` is None).
    Raises `EventDiffError` with `where` and the diff line for a malformed or truncated hunk.
    """
    lines = diff.split("\n")
    if lines[-1] == "":
        lines.pop()  # the newline ending the last line does not start another one
    line_starts = None if text is None else piece_starts(LINE_PATTERN.findall(text))
    changes: list[UserChange] = []
    i = 0
    while i < len(lines):
        header = _HUNK_HEADER.match(lines[i])
        if header is None:
            if lines[i].startswith("@@"):
                raise EventDiffError(f"{where}: line {i + 1}: malformed hunk header {lines[i]!r}")
            i += 1
            continue
        old_left = int(header[2]) if header[2] is not None else 1
        new_left = int(header[4]) if header[4] is not None else 1
        # "+c,0" names the line *after which* nothing was inserted, so the 0-based next line is c
        stated = max(0, int(header[3]) - 1) if new_left else int(header[3])
        header_line = i + 1
        i += 1
        body: list[list[str]] = []  # [tag, line text with its newline unless marked absent]
        while old_left > 0 or new_left > 0:
            if i >= len(lines):
                raise EventDiffError(
                    f"{where}: hunk at line {header_line} ends early: "
                    f"{max(old_left, 0)} old and {max(new_left, 0)} new lines missing"
                )
            line = lines[i]
            tag = line[:1] or " "
            i += 1
            if tag == "\\":
                if body:
                    body[-1][1] = body[-1][1].removesuffix("\n")
                continue
            if tag not in " -+":
                raise EventDiffError(
                    f"{where}: line {i}: expected ' ', '-' or '+' in a hunk, got {line[:20]!r}"
                )
            old_left -= tag in " -"
            new_left -= tag in " +"
            if old_left < 0 or new_left < 0:
                raise EventDiffError(
                    f"{where}: line {i}: more lines than the hunk header at line {header_line} counts"
                )
            body.append([tag, line[1:] + "\n"])
        if i < len(lines) and lines[i].startswith("\\") and body:
            body[-1][1] = body[-1][1].removesuffix("\n")
            i += 1
        start = None if text is None or line_starts is None else _place_hunk(body, stated, text, line_starts)
        changes.extend(_hunk_changes(body, start))
    return changes


def _place_hunk(body: list[list[str]], stated: int, text: str, line_starts: list[int]) -> int | None:
    """Offset in `text` of the hunk's first post-edit line: at the stated line when it matches, else searched."""
    after = "".join(piece for tag, piece in body if tag != "-")
    if stated < len(line_starts):
        at = line_starts[stated]
        if text.startswith(after, at):
            return at
    if not after:
        return None
    at = text.find(after)
    while at > 0 and text[at - 1] != "\n":
        at = text.find(after, at + 1)
    return None if at < 0 else at


def _hunk_changes(body: list[list[str]], start: int | None) -> list[UserChange]:
    changes: list[UserChange] = []
    offset = start  # where the next post-edit line starts in the text
    run_start, old_run, new_run = offset, [], []

    def flush() -> None:
        old, new = "".join(old_run), "".join(new_run)
        for o0, o1, n0, n1 in edit_spans(old, new):
            at = None if run_start is None else run_start + n0
            changes.append(UserChange(at, None if at is None else at + n1 - n0, old[o0:o1], new[n0:n1]))
        old_run.clear()
        new_run.clear()

    for tag, piece in body:
        if tag == " ":
            flush()
        elif not old_run and not new_run:
            run_start = offset
        if tag == "-":
            old_run.append(piece)
            continue
        if tag == "+":
            new_run.append(piece)
        offset = None if offset is None else offset + len(piece)
    flush()
    return changes


def latest_user_event(events: Iterable[Any], path: str | None = None) -> tuple[int, Any] | None:
    """(index, event) of the last event with `predicted == False` (for `path` when given), or None."""
    latest = None
    for index, event in enumerate(events):
        if not event.predicted and (path is None or event.path == path):
            latest = (index, event)
    return latest


def indel_distance(old: str, new: str) -> int:
    """Characters to delete and insert to turn `old` into `new`: Σ over `edit_spans` of
    len(deleted) + len(inserted) - 2·LCS(deleted, inserted). Exact when the spans split the edit where
    an optimal alignment would; never below the true LCS distance len(old) + len(new) - 2·LCS."""
    total = 0
    for o0, o1, n0, n1 in edit_spans(old, new):
        total += o1 - o0 + n1 - n0 - 2 * lcs_length(old[o0:o1], new[n0:n1])
    return total


def undo_user_changes(text: str, changes: list[UserChange]) -> str | None:
    """`text` as it was before the user's edit (placed changes swapped back), or None if one is unplaced."""
    pieces: list[str] = []
    at = 0
    for change in sorted(changes, key=lambda c: c.start or 0):
        if change.start is None or change.end is None or change.start < at:
            return None
        pieces += [text[at : change.start], change.deleted]
        at = change.end
    return "".join(pieces) + text[at:]


def reversal_ratio(original: str, actual: str, events: Iterable[Any], *, path: str | None = None) -> float:
    """Share (0..1) of the characters a prediction changes that undo the user's latest own edit.

    Computed exactly so, with d(x, y) = `indel_distance` (characters deleted plus inserted, LCS-based):
    1. The user's edit is the last event with `predicted == False` (only events for `path` when given);
       none, or an empty diff, gives 0.0; so does a prediction with d(original, actual) = 0.
    2. Its unified diff is parsed by `parse_user_changes` and placed in `original` (the file with
       the edit applied); swapping the placed changes back gives `undone`, the file before the edit.
    3. reversing = (d(original, undone) + d(original, actual) - d(actual, undone)) / 2: the part of the
       prediction's path that lies on the way back to `undone` (it is d(original, actual) when the
       prediction undoes the edit exactly, 0 when it changes other text). In LCS terms this counts
       the characters the prediction deletes out of what the user inserted plus those it inserts
       matching what the user deleted, at their places.
    4. ratio = reversing / d(original, actual), clamped to 0..1.
    When a hunk of the diff cannot be placed in `original` (its lines are not there), the changes are
    compared by text alone, as in the issue's definition: ratio = (LCS(P_del, U_ins) + LCS(P_ins,
    U_del)) / (len(P_del) + len(P_ins)), with P_* / U_* the concatenated deleted and inserted text of
    the prediction's `edit_spans` and of the user's changes.

    Zed's `compute_prediction_reversal_ratio_from_history` is the reference: it counts deleted
    characters inside the user's added ranges plus LCS of re-inserted text at the user's deletion
    points over an alignment of tokens; the distance form above measures the same thing without
    depending on how two separately computed alignments happen to line up. For "the quick brown fox"
    -> user "the slow brown fox" -> prediction "the fast brown fox" both give 0.5.
    Raises `EventDiffError` naming the event for a diff that is not a unified diff.
    """
    _require_str("original", original)
    _require_str("actual", actual)
    latest = latest_user_event(events, path)
    if latest is None or not latest[1].diff or original == actual:
        return 0.0
    index, event = latest
    changes = parse_user_changes(event.diff, original, where=f"event {index} ({event.path}) diff")
    undone = undo_user_changes(original, changes)
    if undone is None:
        spans = edit_spans(original, actual)
        p_del = "".join(original[o0:o1] for o0, o1, _, _ in spans)
        p_ins = "".join(actual[n0:n1] for _, _, n0, n1 in spans)
        u_del = "".join(c.deleted for c in changes)
        u_ins = "".join(c.inserted for c in changes)
        total = len(p_del) + len(p_ins)
        return min(1.0, (lcs_length(p_del, u_ins) + lcs_length(p_ins, u_del)) / total) if total else 0.0
    changed = indel_distance(original, actual)
    if changed == 0:
        return 0.0
    reversing = (indel_distance(original, undone) + changed - indel_distance(actual, undone)) / 2
    return min(1.0, max(0.0, reversing / changed))


# ---------------------------------------------------------------------------------------------
# kept rate / recall rate


@dataclass(frozen=True, slots=True)
class KeptCounts:
    """Character counts behind `kept_rate` and `recall_rate` (see `kept_counts`)."""

    predicted_inserted: int
    predicted_deleted: int
    settled_inserted: int
    settled_deleted: int
    kept_inserted: int
    kept_deleted: int

    @property
    def predicted_chars(self) -> int:
        return self.predicted_inserted + self.predicted_deleted

    @property
    def settled_chars(self) -> int:
        return self.settled_inserted + self.settled_deleted

    @property
    def matched_chars(self) -> int:
        return self.kept_inserted + self.kept_deleted

    @property
    def kept_rate(self) -> float:
        if self.predicted_chars == 0:
            return 1.0 if self.settled_chars == 0 else 0.0
        return self.matched_chars / self.predicted_chars

    @property
    def recall_rate(self) -> float:
        if self.settled_chars == 0:
            return 1.0 if self.predicted_chars == 0 else 0.0
        return self.matched_chars / self.settled_chars


def _overlap(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> int:
    """Total length of the intersection of two sorted lists of disjoint intervals."""
    i = j = total = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        total += max(0, hi - lo)
        if a[i][1] <= b[j][1]:
            i += 1
        else:
            j += 1
    return total


def kept_counts(original: str, predicted: str, settled: str) -> KeptCounts:
    """Character-level comparison of the prediction's change with the settled change.

    Both changes are aligned against `original` with `edit_spans` (difflib on characters). Then:
    - predicted_inserted / settled_inserted: characters each change inserts (all its new spans);
    - predicted_deleted / settled_deleted: characters of `original` each change deletes;
    - kept_inserted = LCS(predicted's inserted text, settled's inserted text), spans concatenated in
      order: inserted characters still there, in order, after the user settled;
    - kept_deleted: characters of `original` both changes delete (same positions).
    kept_rate = (kept_inserted + kept_deleted) / (predicted_inserted + predicted_deleted);
    recall_rate = the same / (settled_inserted + settled_deleted). Both are 1.0 when both changes
    are empty; an empty change on one side only gives 0.0 for both.

    Zed's `compute_kept_rate` is the reference; it aligns identifier-grouped tokens where this aligns
    characters, and it gives up (0/0) when the two length changes differ by over 512 characters,
    which this does not.
    """
    _require_str("original", original)
    _require_str("predicted", predicted)
    _require_str("settled", settled)
    pred, settle = edit_spans(original, predicted), edit_spans(original, settled)
    pred_new = "".join(predicted[n0:n1] for _, _, n0, n1 in pred)
    settled_new = "".join(settled[n0:n1] for _, _, n0, n1 in settle)
    pred_gone = [(o0, o1) for o0, o1, _, _ in pred if o1 > o0]
    settled_gone = [(o0, o1) for o0, o1, _, _ in settle if o1 > o0]
    return KeptCounts(
        predicted_inserted=len(pred_new),
        predicted_deleted=sum(o1 - o0 for o0, o1 in pred_gone),
        settled_inserted=len(settled_new),
        settled_deleted=sum(o1 - o0 for o0, o1 in settled_gone),
        kept_inserted=lcs_length(pred_new, settled_new),
        kept_deleted=_overlap(pred_gone, settled_gone),
    )


def kept_rate(original: str, predicted: str, settled: str) -> float:
    """Of the characters the prediction inserted or deleted, the share the settled text agrees with (0..1)."""
    return kept_counts(original, predicted, settled).kept_rate


def recall_rate(original: str, predicted: str, settled: str) -> float:
    """Of the characters the settled change inserted or deleted, the share the prediction had (0..1)."""
    return kept_counts(original, predicted, settled).recall_rate


# ---------------------------------------------------------------------------------------------
# exact match, syntax errors, and everything for one example


def exact_match(expected: str, actual: str) -> bool:
    """The predicted file equals the expected file exactly, whitespace included.

    No normalisation: a trailing-space or newline difference is a different file, and the near misses
    are what delta chrF (which collapses whitespace) is for.
    """
    return _require_str("expected", expected) == _require_str("actual", actual)


def syntax_error_delta(language: str | None, before: str, after: str, *, path: str = "") -> int | None:
    """Tree-sitter ERROR and MISSING nodes in `after` minus those in `before`; None when not parsed.

    `language` is normalised with the file `path` (`normalize_language`), so 'typescriptreact' or a
    '.tsx' path picks the TSX grammar. Positive means the edit broke the syntax.
    """
    from zeta2_capture.languages import count_syntax_errors, normalize_language

    language = normalize_language(language, path)
    if language is None:
        return None
    errors_before = count_syntax_errors(language, _require_str("before", before))
    errors_after = (
        errors_before if after == before else count_syntax_errors(language, _require_str("after", after))
    )
    if errors_before is None or errors_after is None:
        return None
    return errors_after - errors_before


def _example_reversal(example: Any, predicted_text: str) -> float:
    try:
        return reversal_ratio(example.before, predicted_text, example.events, path=example.path)
    except EventDiffError as error:
        raise EventDiffError(f"example {example.id!r}: {error}") from None


def score_example(example: Any, predicted_text: str) -> dict[str, Any]:
    """Every metric for one example and the full text a model predicted for it.

    Keys: `exact_match`, `delta_chrf`, `kept_rate`, `recall_rate` (None when the example has no
    `expected`), `reversal_ratio` (against the example's events for its path), `syntax_error_delta`
    (None for a language tree-sitter does not parse here), `predicted_noop` and `expected_noop`
    (None without `expected`). A malformed event diff raises `EventDiffError` naming the example id.
    """
    _require_str("predicted_text", predicted_text)
    before, expected = example.before, example.expected
    scores: dict[str, Any] = {
        "exact_match": None,
        "delta_chrf": None,
        "kept_rate": None,
        "recall_rate": None,
        "reversal_ratio": _example_reversal(example, predicted_text),
        "syntax_error_delta": syntax_error_delta(example.language, before, predicted_text, path=example.path),
        "predicted_noop": predicted_text == before,
        "expected_noop": None,
    }
    if expected is not None:
        counts = kept_counts(before, predicted_text, expected)
        scores.update(
            exact_match=exact_match(expected, predicted_text),
            delta_chrf=delta_chrf(before, expected, predicted_text),
            kept_rate=counts.kept_rate,
            recall_rate=counts.recall_rate,
            expected_noop=expected == before,
        )
    return scores
