"""Edit metrics: hand-derived values (worked out in the comments) and properties checked with hypothesis."""

from __future__ import annotations

from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zeta2_capture import metrics
from zeta2_capture.metrics import (
    CHRF_BETA,
    EventDiffError,
    UserChange,
    collapse_whitespace,
    common_prefix_length,
    common_suffix_length,
    delta_chrf,
    delta_chrf_detail,
    delta_chrf_naive,
    edit_spans,
    exact_match,
    indel_distance,
    kept_counts,
    kept_rate,
    lcs_length,
    parse_user_changes,
    recall_rate,
    reversal_ratio,
    score_example,
    syntax_error_delta,
    undo_user_changes,
)
from zeta2_capture.schema import Event, Example, read_examples

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def lcs_table(a: str, b: str) -> int:
    """Textbook O(len(a)·len(b)) LCS, the reference for the bit-parallel one."""
    previous = [0] * (len(b) + 1)
    for x in a:
        row = [0]
        for j, y in enumerate(b):
            row.append(previous[j] + 1 if x == y else max(previous[j + 1], row[j]))
        previous = row
    return previous[-1]


def apply_spans(old: str, new: str, spans: list[tuple[int, int, int, int]]) -> str:
    """Rebuilds `new` from `old`, taking only the spans' inserted text from `new`."""
    out, at = [], 0
    for o0, o1, n0, n1 in spans:
        out += [old[at:o0], new[n0:n1]]
        at = o1
    return "".join(out) + old[at:]


# Texts over a small alphabet with blanks and newlines, so n-grams repeat and whitespace collapses.
chars = st.sampled_from(list("ab c\t\n\nx"))
text = st.text(chars, max_size=30)


@st.composite
def edited(draw: st.DrawFn) -> tuple[str, str, str]:
    """(original, expected, actual): two local edits of a shared original, like real predictions."""
    original = draw(st.text(chars, max_size=60))

    def edit() -> str:
        i = draw(st.integers(0, len(original)))
        j = draw(st.integers(i, min(len(original), i + 8)))
        return original[:i] + draw(st.text(chars, max_size=8)) + original[j:]

    return original, edit(), edit()


# ---------------------------------------------------------------------------------------------
# helpers


@PROPERTY
@given(text, text)
def test_common_prefix_and_suffix_match_a_plain_loop(a: str, b: str) -> None:
    prefix = 0
    while prefix < min(len(a), len(b)) and a[prefix] == b[prefix]:
        prefix += 1
    assert common_prefix_length(a, b) == prefix
    limit = min(len(a), len(b)) - prefix
    suffix = 0
    while suffix < limit and a[-1 - suffix] == b[-1 - suffix]:
        suffix += 1
    assert common_suffix_length(a, b, limit) == suffix


@PROPERTY
@given(text, text)
def test_bit_parallel_lcs_equals_the_textbook_table(a: str, b: str) -> None:
    assert lcs_length(a, b) == lcs_table(a, b) == lcs_length(b, a)


def test_lcs_on_long_strings_is_exact() -> None:
    a = "abcde" * 300 + "xyz"
    b = "xyz" + "abcde" * 290
    assert lcs_length(a, b) == 1450  # all of b's "abcde" run fits in a's
    assert lcs_length("", "abc") == 0 and lcs_length("abc", "abc") == 3


@PROPERTY
@given(edited())
def test_edit_spans_rebuild_the_new_text(triple: tuple[str, str, str]) -> None:
    old, new, _ = triple
    spans = edit_spans(old, new)
    assert apply_spans(old, new, spans) == new
    assert all(a1 <= b0 for (_, a1, _, _), (b0, _, _, _) in zip(spans, spans[1:], strict=False))
    assert all(old[o0:o1] != new[n0:n1] for o0, o1, n0, n1 in spans)
    assert (spans == []) == (old == new)


def test_edit_spans_keep_a_deleted_line_whole() -> None:
    # plain prefix/suffix trimming finds the rotated "x = 1\n    "; we want the line as the user sees it
    before = "def f():\n    x = 1\n    return 1\n"
    after = "def f():\n    return 1\n"
    assert edit_spans(before, after) == [(9, 19, 9, 9)]
    assert before[9:19] == "    x = 1\n"


def test_edit_spans_split_a_growing_token_into_insertions() -> None:
    # "epr" -> "eprintln!()" is typing, not a replacement: 8 inserted characters
    assert edit_spans("    epr\n", "    eprintln!()\n") == [(7, 7, 7, 15)]
    # an unrelated word is replaced whole, not letter by letter
    assert edit_spans("a = slow\n", "a = fast\n") == [(4, 8, 4, 8)]


def test_an_ambiguous_insertion_is_placed_the_same_way_by_every_alignment() -> None:
    # inserting "A\nB\n" into "x\nA\nB\ny\n" could go at offset 2 or 6 (or rotated in between);
    # the lowest place starting a line is chosen, also when another edit changes how the rest aligns
    old, settled = "x\nA\nB\ny\n", "x\nA\nB\nA\nB\ny\n"
    assert edit_spans(old, settled) == [(6, 6, 6, 10)]
    assert edit_spans(old, "top\n" + settled) == [(0, 0, 0, 4), (6, 6, 10, 14)]
    # so the prediction (settled edit plus an extra line) recalls all 4 settled characters
    counts = kept_counts(old, "top\n" + settled, settled)
    assert (counts.kept_inserted, counts.recall_rate, counts.kept_rate) == (4, 1.0, 0.5)


def test_kept_rate_of_a_superset_prediction_on_real_examples(dev_jsonl) -> None:
    # the settled (expected) edit plus one extra line at the top: recall must be full, whatever the
    # alignments of the two edits pick for repeated lines (the canonical slides see to that)
    examples = [e for e in read_examples(dev_jsonl) if e.expected not in (None, e.before)][::4]
    full = [e.id for e in examples if recall_rate(e.before, "# extra\n" + e.expected, e.expected) == 1.0]
    assert len(full) >= len(examples) - 1, sorted({e.id for e in examples} - set(full))


def test_indel_distance_counts_deleted_plus_inserted_characters() -> None:
    assert indel_distance("the slow fox", "the fast fox") == 6  # slow -> fast keeps the "s": 3 + 3
    assert indel_distance("abc", "abc") == 0
    assert indel_distance("", "hello") == 5


# ---------------------------------------------------------------------------------------------
# delta chrF


def test_collapse_whitespace_follows_zed() -> None:
    assert collapse_whitespace("a  \t b") == "a b"
    assert collapse_whitespace("a\n\n\nb") == "a\nb"
    # spaces and newlines collapse separately, so alternations survive
    assert collapse_whitespace("a \n \n b") == "a \n \n b"
    assert collapse_whitespace("a  \n\n  b") == "a \n b"
    assert collapse_whitespace("a\r\nb") == "a \nb"
    assert collapse_whitespace("a\u00a0\u3000b") == "a b"
    assert collapse_whitespace("a\x1cb") == "a\x1cb"  # not White_Space in Rust, unlike str.isspace()


def test_identical_texts_score_100() -> None:
    assert delta_chrf("x = 1\n", "x = 1\n", "x = 1\n") == 100.0
    assert delta_chrf("", "", "") == 100.0


def test_a_perfect_insertion_scores_100() -> None:
    assert delta_chrf("def f():\n    pass\n", "def f(x):\n    pass\n", "def f(x):\n    pass\n") == 100.0


def test_whitespace_only_difference_in_the_prediction_is_not_penalised() -> None:
    # collapsed, "f(a,  b)" and "f(a, b)" are the same text
    assert delta_chrf("f(a)\n", "f(a, b)\n", "f(a,  b)\n") == 100.0


def test_no_change_where_a_change_was_expected_scores_0() -> None:
    # "hello world" -> "hello, world": every order 1..6 gains grams with the comma, so Δexpected is
    # non-empty everywhere while Δactual is empty: TP = FP = 0, so P_n = R_n = 0 and F = 0
    assert delta_chrf("hello world", "hello, world", "hello world") == 0.0


def test_half_right_insertion_hand_computed() -> None:
    # original "ab", expected "abXY", actual "abX"
    # n=1: Δe = {X, Y}, Δa = {X}:                 TP 1, FP 0, FN 1 -> P 1, R 1/2
    # n=2: Δe = {bX, XY}, Δa = {bX}:              TP 1, FP 0, FN 1 -> P 1, R 1/2
    # n=3: Δe = {abX, bXY}, Δa = {abX}:           TP 1, FP 0, FN 1 -> P 1, R 1/2
    # n=4: Δe = {abXY}, Δa = {} (3 chars):        TP 0, FP 0, FN 1 -> P 0 (0/0), R 0
    # n=5, 6: no text has that many chars, both Δ empty -> P 1, R 1
    # P = 5/6, R = (1/2 + 1/2 + 1/2 + 0 + 1 + 1)/6 = 7/12
    # F0.5 = 1.25·P·R / (0.25·P + R) = 1.25·(35/72) / (19/24) = 1.25·35/57 = 0.767543859...
    detail = delta_chrf_detail("ab", "abXY", "abX")
    assert detail.precision == pytest.approx(5 / 6)
    assert detail.recall == pytest.approx(7 / 12)
    assert detail.score == pytest.approx(100 * 1.25 * 35 / 57)
    assert CHRF_BETA == 0.5


def test_deleting_the_wrong_text_is_a_false_positive() -> None:
    # original "abc", expected "ac" (delete b), actual "ab" (delete c): deleted grams are their own entries
    # n=1: Δe = {¬b}, Δa = {¬c}:                 TP 0 -> P 0, R 0
    # n=2: Δe = {ac, ¬ab, ¬bc}, Δa = {¬bc}:       TP 1, FP 0, FN 2 -> P 1, R 1/3
    # n=3: Δe = {¬abc}, Δa = {¬abc}:             TP 1 -> P 1, R 1
    # n=4..6: both Δ empty -> 1, 1
    # P = 5/6, R = (0 + 1/3 + 1 + 3)/6 = 13/18
    detail = delta_chrf_detail("abc", "ac", "ab")
    assert detail.precision == pytest.approx(5 / 6)
    assert detail.recall == pytest.approx(13 / 18)
    p, r = 5 / 6, 13 / 18
    assert detail.score == pytest.approx(100 * 1.25 * p * r / (0.25 * p + r))


def test_a_perfect_swap_scores_100_where_zeds_code_would_not() -> None:
    # "ab" -> "ba" leaves the 1-gram counts alone; both Δ_1 are empty, which counts as agreement
    assert delta_chrf("xx ab yy", "xx ba yy", "xx ba yy") == 100.0


@PROPERTY
@given(edited())
def test_windowed_equals_naive_whole_text(triple: tuple[str, str, str]) -> None:
    assert delta_chrf_detail(*triple) == delta_chrf_naive(*triple)


# Long runs of blanks and newlines around the changes, so cuts land next to (not inside) runs.
runs = st.lists(
    st.sampled_from(["ab", "c", " ", "\t", "\n"]).flatmap(
        lambda piece: st.integers(1, 40).map(lambda k: piece * k)
    ),
    max_size=8,
).map("".join)


@PROPERTY
@given(runs, runs, runs, runs, runs)
def test_windowed_equals_naive_with_long_whitespace_runs(
    head: str, tail: str, old: str, new: str, other: str
) -> None:
    original = head + old + tail
    for expected, actual in (
        (head + new + tail, head + other + tail),
        (head + new + tail, original),
        (original, other + original),
    ):
        assert delta_chrf_detail(original, expected, actual) == delta_chrf_naive(original, expected, actual)


@PROPERTY
@given(edited(), edited())
def test_per_change_windows_equal_naive(first: tuple[str, str, str], second: tuple[str, str, str]) -> None:
    # two edited regions in one file, and the per-change windows forced on however close they are
    original, expected, actual = (x + "\n" + y for x, y in zip(first, second, strict=True))
    with patch.object(metrics, "_SINGLE_WINDOW_CHARS", 0):
        assert delta_chrf_detail(original, expected, actual) == delta_chrf_naive(original, expected, actual)
        assert delta_chrf_detail(*first) == delta_chrf_naive(*first)


@PROPERTY
@given(text, text, text)
def test_windowed_equals_naive_on_unrelated_texts(original: str, expected: str, actual: str) -> None:
    assert delta_chrf_detail(original, expected, actual) == delta_chrf_naive(original, expected, actual)


@PROPERTY
@given(edited())
def test_scores_lie_in_range_and_precision_recall_swap(triple: tuple[str, str, str]) -> None:
    original, expected, actual = triple
    detail = delta_chrf_detail(original, expected, actual)
    assert 0.0 <= detail.score <= 100.0
    # swapping expected and actual swaps false positives and false negatives, hence P and R
    swapped = delta_chrf_detail(original, actual, expected)
    assert swapped.precision == pytest.approx(detail.recall)
    assert swapped.recall == pytest.approx(detail.precision)
    assert delta_chrf(original, expected, expected) == 100.0


def test_delta_chrf_names_a_bad_argument() -> None:
    with pytest.raises(TypeError, match="argument 'actual' must be a str, got NoneType"):
        delta_chrf("a", "b", None)  # type: ignore[arg-type]


def test_windowed_equals_naive_on_real_examples(dev_jsonl) -> None:
    examples = [e for e in read_examples(dev_jsonl) if e.expected is not None][:400:40]
    for example in examples:
        assert example.expected is not None
        # a prediction that does half the edit: the expected text cut at the middle of the change
        cut = (len(example.expected) + common_prefix_length(example.before, example.expected)) // 2
        half = example.expected[:cut] + example.before[cut:] if cut < len(example.before) else example.before
        far_away = "# edited elsewhere\n" + example.before + "\n# and here\n"
        for actual in (example.before, example.expected, half, far_away):
            assert delta_chrf_detail(example.before, example.expected, actual) == delta_chrf_naive(
                example.before, example.expected, actual
            ), example.id
        assert delta_chrf(example.before, example.expected, example.expected) == 100.0


# ---------------------------------------------------------------------------------------------
# reversal ratio

BEFORE_INSERT = "def f():\n    return 1\n"
AFTER_INSERT = "def f():\n    x = 1\n    return 1\n"
INSERT_DIFF = "--- a/f.py\n+++ b/f.py\n@@ -1,2 +1,3 @@\n def f():\n+    x = 1\n     return 1\n"
DELETE_DIFF = "--- a/f.py\n+++ b/f.py\n@@ -1,3 +1,2 @@\n def f():\n-    x = 1\n     return 1\n"


def user(diff: str, path: str = "f.py") -> Event:
    return Event(path, diff, predicted=False)


def test_parse_user_changes_places_the_inserted_line() -> None:
    assert parse_user_changes(INSERT_DIFF, AFTER_INSERT) == [UserChange(9, 19, "", "    x = 1\n")]
    assert parse_user_changes(DELETE_DIFF, BEFORE_INSERT) == [UserChange(9, 9, "    x = 1\n", "")]
    assert undo_user_changes(AFTER_INSERT, parse_user_changes(INSERT_DIFF, AFTER_INSERT)) == BEFORE_INSERT


def test_parse_user_changes_reduces_a_changed_line_to_characters() -> None:
    diff = "@@ -1 +1 @@\n-print(a)\n+print(a, b)\n\\ No newline at end of file\n"
    # the '-' line ends with a newline, the '+' line does not (the marker follows it)
    changes = parse_user_changes(diff, "print(a, b)")
    assert changes == [UserChange(7, 10, "", ", b"), UserChange(11, 11, "\n", "")]


def test_a_hunk_moved_by_earlier_lines_is_found_by_its_text() -> None:
    # the header says line 1, but two lines were added above since: found at line 3 instead
    text = "# one\n# two\n" + AFTER_INSERT
    assert parse_user_changes(INSERT_DIFF, text) == [UserChange(21, 31, "", "    x = 1\n")]


def test_undoing_the_users_insertion_is_a_full_reversal() -> None:
    assert reversal_ratio(AFTER_INSERT, BEFORE_INSERT, [user(INSERT_DIFF)]) == 1.0


def test_restoring_what_the_user_deleted_is_a_full_reversal() -> None:
    assert reversal_ratio(BEFORE_INSERT, AFTER_INSERT, [user(DELETE_DIFF)]) == 1.0


def test_deleting_part_of_what_the_user_typed_is_a_reversal() -> None:
    # the prediction deletes " = 1" of the line the user just typed: all 4 characters undo it
    predicted = "def f():\n    x\n    return 1\n"
    assert reversal_ratio(AFTER_INSERT, predicted, [user(INSERT_DIFF)]) == 1.0


def test_an_unrelated_edit_is_no_reversal() -> None:
    # "return 1" -> "return 2" on the next line shares the character "1" with the typed line,
    # but it is not the user's text
    assert (
        reversal_ratio(AFTER_INSERT, AFTER_INSERT.replace("return 1", "return 2"), [user(INSERT_DIFF)]) == 0.0
    )
    assert reversal_ratio(AFTER_INSERT, AFTER_INSERT + "print(f())\n", [user(INSERT_DIFF)]) == 0.0


def test_a_different_rewrite_of_the_users_word_is_half_a_reversal() -> None:
    # Zed's case: the user turned "quick" into "slow", the prediction turns "slow" into "fast".
    # d = characters deleted + inserted via LCS: d(slow, quick) = 9, d(slow, fast) = 6 ("s" kept),
    # d(fast, quick) = 9; reversing = (9 + 6 - 9)/2 = 3 of the 6 the prediction changes -> 0.5
    diff = "--- a/t.txt\n+++ b/t.txt\n@@ -1 +1 @@\n-the quick brown fox\n+the slow brown fox\n"
    assert reversal_ratio("the slow brown fox\n", "the fast brown fox\n", [user(diff, "t.txt")]) == 0.5


def test_reversal_is_zero_without_a_user_edit_or_a_prediction() -> None:
    assert reversal_ratio(AFTER_INSERT, BEFORE_INSERT, []) == 0.0
    assert reversal_ratio(AFTER_INSERT, AFTER_INSERT, [user(INSERT_DIFF)]) == 0.0
    assert reversal_ratio(AFTER_INSERT, BEFORE_INSERT, [user("")]) == 0.0


def test_reversal_uses_the_users_latest_own_edit() -> None:
    accepted = Event("f.py", "@@ -5 +5 @@\n-a\n+b\n", predicted=True)
    # an accepted suggestion after the user's edit does not hide the user's edit
    assert reversal_ratio(AFTER_INSERT, BEFORE_INSERT, [user(INSERT_DIFF), accepted]) == 1.0
    # an older user edit is not the latest one
    older_only = [user(INSERT_DIFF), user("@@ -1 +1 @@\n-def g():\n+def f():\n")]
    assert reversal_ratio(AFTER_INSERT, BEFORE_INSERT, older_only) == 0.0
    # with a path, edits of other files do not count
    other_file = [user(INSERT_DIFF), user("@@ -1 +1 @@\n-a\n+b\n", "other.py")]
    assert reversal_ratio(AFTER_INSERT, BEFORE_INSERT, other_file, path="f.py") == 1.0


def test_an_unplaceable_hunk_falls_back_to_text_comparison() -> None:
    # the diff's lines are not in the text; the prediction deletes "    x = 1\n" somewhere, which is
    # exactly the text the user inserted: LCS 10 of 10 changed characters
    text = "class A:\n    x = 1\n    y = 2\n"
    assert parse_user_changes(INSERT_DIFF, text)[0].start is None
    assert reversal_ratio(text, "class A:\n    y = 2\n", [user(INSERT_DIFF)]) == 1.0


@pytest.mark.parametrize(
    ("diff", "message"),
    [
        (
            "@@ -1,2 +1,2 @@\n a\n",
            "event 0 (f.py) diff: hunk at line 1 ends early: 1 old and 1 new lines missing",
        ),
        (
            "@@ -1 +1 @@\n-a\n*b\n",
            "event 0 (f.py) diff: line 3: expected ' ', '-' or '+' in a hunk, got '*b'",
        ),
        ("@@ -x +1 @@\n-a\n+b\n", "event 0 (f.py) diff: line 1: malformed hunk header '@@ -x +1 @@'"),
    ],
)
def test_a_broken_event_diff_is_named(diff: str, message: str) -> None:
    with pytest.raises(EventDiffError) as error:
        reversal_ratio("a\n", "b\n", [user(diff)])
    assert str(error.value) == message


def test_reverting_the_last_event_of_real_examples_is_a_full_reversal(dev_jsonl) -> None:
    from zeta2_capture.diffs import apply_diff, reverse_diff

    examples = [e for e in read_examples(dev_jsonl) if e.events][:400:5]
    assert examples
    for example in examples:
        reverted = apply_diff(example.before, reverse_diff(example.events[-1].diff))
        changes = parse_user_changes(example.events[-1].diff, example.before)
        assert undo_user_changes(example.before, changes) == reverted, example.id
        assert reversal_ratio(example.before, reverted, example.events, path=example.path) == 1.0, example.id


@PROPERTY
@given(edited())
def test_reversal_lies_in_range(triple: tuple[str, str, str]) -> None:
    from zeta2_capture.diffs import make_diff

    before_edit, after_edit, predicted = triple
    diff = make_diff(before_edit, after_edit, "f.txt")
    ratio = reversal_ratio(after_edit, predicted, [user(diff, "f.txt")])
    assert 0.0 <= ratio <= 1.0
    if diff and after_edit != before_edit:
        assert reversal_ratio(after_edit, before_edit, [user(diff, "f.txt")]) == 1.0


# ---------------------------------------------------------------------------------------------
# kept rate / recall rate


def test_kept_and_recall_when_nothing_changes() -> None:
    assert (kept_rate("foo bar", "foo bar", "foo bar"), recall_rate("foo bar", "foo bar", "foo bar")) == (
        1.0,
        1.0,
    )


def test_kept_and_recall_of_an_accepted_and_a_missed_edit() -> None:
    assert (kept_rate("old", "new", "new"), recall_rate("old", "new", "new")) == (1.0, 1.0)
    # predicted nothing, the user changed the text: nothing kept, nothing recalled
    assert (kept_rate("old", "old", "new"), recall_rate("old", "old", "new")) == (0.0, 0.0)
    # predicted a change, the user left the text alone
    assert (kept_rate("old", "new", "old"), recall_rate("old", "new", "old")) == (0.0, 0.0)


def test_half_of_the_settled_insertion() -> None:
    # settled inserts "XY", the prediction inserted "X": its one character is kept, half recalled
    counts = kept_counts("ab\n", "abX\n", "abXY\n")
    assert (counts.predicted_inserted, counts.settled_inserted, counts.kept_inserted) == (1, 2, 1)
    assert (counts.kept_rate, counts.recall_rate) == (1.0, 0.5)


def test_a_partly_right_replacement() -> None:
    # "old" -> predicted "new", settled "nex": both delete "old" (3 kept deletions); of the inserted
    # "new" the settled "nex" keeps LCS("new", "nex") = 2. Matched 5 of 6 on both sides.
    counts = kept_counts("x = old\n", "x = new\n", "x = nex\n")
    assert (counts.kept_deleted, counts.kept_inserted) == (3, 2)
    assert counts.kept_rate == pytest.approx(5 / 6)
    assert counts.recall_rate == pytest.approx(5 / 6)


def test_a_wrong_insertion_keeps_nothing() -> None:
    assert kept_rate("f()\n", "f(zzz)\n", "f(a)\n") == 0.0
    assert recall_rate("f()\n", "f(zzz)\n", "f(a)\n") == 0.0


@PROPERTY
@given(edited())
def test_kept_and_recall_properties(triple: tuple[str, str, str]) -> None:
    original, predicted, settled = triple
    counts = kept_counts(original, predicted, settled)
    assert 0.0 <= counts.kept_rate <= 1.0 and 0.0 <= counts.recall_rate <= 1.0
    assert kept_rate(original, predicted, predicted) == recall_rate(original, predicted, predicted) == 1.0
    # the roles are symmetric: what one keeps of the other, the other recalls
    swapped = kept_counts(original, settled, predicted)
    assert swapped.predicted_chars == counts.settled_chars
    assert swapped.kept_inserted == counts.kept_inserted


# ---------------------------------------------------------------------------------------------
# exact match, syntax errors, score_example


def test_exact_match_is_exact() -> None:
    assert exact_match("x = 1\n", "x = 1\n")
    assert not exact_match("x = 1\n", "x = 1")
    assert not exact_match("x = 1\n", "x = 1 \n")


def test_syntax_error_delta_on_broken_python_and_rust() -> None:
    good_py, bad_py = "def f(x):\n    return x\n", "def f(x:\n    return x\n"
    assert syntax_error_delta("python", good_py, bad_py) == 1  # the unclosed "(" is one ERROR node
    assert syntax_error_delta("python", bad_py, good_py) == -1
    good_rs, bad_rs = "fn main() {\n    let x = 1;\n}\n", "fn main() {\n    let x = ;\n}\n"
    assert syntax_error_delta("rust", good_rs, bad_rs) == 1
    assert syntax_error_delta("rust", good_rs, good_rs) == 0


def test_syntax_error_delta_without_a_grammar_is_none() -> None:
    assert syntax_error_delta("markdown", "# a", "# b") is None
    # the path picks the grammar when the language name is missing
    assert syntax_error_delta(None, "fn a() {}\n", "fn a() {\n", path="src/a.rs") == 1


def make_example(expected: str | None) -> Example:
    return Example(
        id="t#0",
        path="f.py",
        language="python",
        before=AFTER_INSERT,
        cursor=0,
        events=(user(INSERT_DIFF),),
        expected=expected,
    )


def test_score_example_bundles_every_metric() -> None:
    expected = "def f():\n    x = 1\n    return x\n"
    scores = score_example(make_example(expected), expected)
    assert scores == {
        "exact_match": True,
        "delta_chrf": 100.0,
        "kept_rate": 1.0,
        "recall_rate": 1.0,
        "reversal_ratio": 0.0,
        "syntax_error_delta": 0,
        "predicted_noop": False,
        "expected_noop": False,
    }
    reverting = score_example(make_example(expected), BEFORE_INSERT)
    assert reverting["reversal_ratio"] == 1.0
    assert reverting["exact_match"] is False
    assert reverting["kept_rate"] == 0.0


def test_score_example_without_expected() -> None:
    scores = score_example(make_example(None), AFTER_INSERT)
    assert scores["delta_chrf"] is None and scores["exact_match"] is None and scores["expected_noop"] is None
    assert scores["predicted_noop"] is True
    assert scores["reversal_ratio"] == 0.0
    assert scores["syntax_error_delta"] == 0


def test_score_example_names_the_example_with_a_broken_event_diff() -> None:
    example = Example(
        id="t#9", path="f.py", language="python", before="a\n", cursor=0, events=(user("@@ -1 +1 @@\n"),)
    )
    with pytest.raises(EventDiffError) as error:
        score_example(example, "b\n")
    assert (
        str(error.value)
        == "example 't#9': event 0 (f.py) diff: hunk at line 1 ends early: 1 old and 1 new lines missing"
    )
