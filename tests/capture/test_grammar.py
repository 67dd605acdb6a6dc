"""The answer grammar: exactly the token sequences `parse_output` accepts can be generated."""

from __future__ import annotations

import pytest

from zeta2_capture.grammar import CLOSED, DONE, START, AnswerGrammar

MARKERS = list(range(100, 132))
END, EOS, CURSOR, HISTORY = 200, 201, 202, 203
SPECIALS = {*MARKERS, END, CURSOR, HISTORY}


@pytest.fixture
def grammar():
    return AnswerGrammar(MARKERS, END, SPECIALS, n_blocks=3, extra_stops=[EOS])


def test_start_allows_only_the_regions_markers(grammar):
    allowed = grammar.allowed(START)
    assert allowed.only == frozenset(MARKERS[:4])
    assert MARKERS[4] not in allowed and 5 not in allowed and END not in allowed


def test_open_allows_text_and_only_closing_markers_at_or_after_the_opening_one(grammar):
    state = grammar.advance(START, MARKERS[1])
    assert state == 1
    allowed = grammar.allowed(state)
    assert 5 in allowed and 49000 in allowed  # any text token
    assert MARKERS[1] in allowed and MARKERS[3] in allowed
    for banned in (MARKERS[0], MARKERS[4], END, EOS, CURSOR, HISTORY):
        assert banned not in allowed
    assert grammar.state_after([5, 6, 7], state) == 1  # text keeps it open
    assert grammar.advance(state, MARKERS[2]) == CLOSED


def test_closed_allows_only_the_end_token(grammar):
    state = grammar.state_after([MARKERS[0], 5, MARKERS[2]])
    assert state == CLOSED
    assert grammar.allowed(state).only == frozenset({END})
    assert grammar.advance(state, END) == DONE
    assert grammar.allowed(DONE).only == frozenset()


def test_noop_token_is_the_opening_marker_right_after_it(grammar):
    state = grammar.advance(START, MARKERS[2])
    assert grammar.noop_token(state, 1) == MARKERS[2]
    assert grammar.noop_token(state, 2) is None  # after text, the same marker closes an insertion
    assert grammar.noop_token(START, 0) is None


def test_a_region_larger_than_the_token_map_is_refused():
    with pytest.raises(ValueError, match="needs 33 markers"):
        AnswerGrammar(MARKERS, END, SPECIALS, n_blocks=32)
