"""zeta2_capture.offsets against a slow, obviously-right reference and hand-checked cases."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zeta2_capture.offsets import ENCODINGS, LineIndex, PositionError, units

# ASCII, 2-byte (é), 3-byte BMP CJK (中), a combining mark (U+0301), astral emoji (😀, 4 bytes and a
# UTF-16 surrogate pair), and every LSP line ending including a lone "\r".
ALPHABET = ["a", "b", " ", "é", "中", "\u0301", "😀", "\n", "\r\n", "\r"]
texts = st.lists(st.sampled_from(ALPHABET), max_size=40).map("".join)


def reference_lines(text: str) -> list[tuple[int, int]]:
    """(content start, content end) of every LSP line, by scanning character by character."""
    lines, start, i = [], 0, 0
    while i < len(text):
        if text[i] == "\r" and text[i + 1 : i + 2] == "\n":
            lines.append((start, i))
            i += 2
            start = i
        elif text[i] in "\r\n":
            lines.append((start, i))
            i += 1
            start = i
        else:
            i += 1
    lines.append((start, len(text)))
    return lines


def reference_units(char: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(char.encode("utf-8"))
    if encoding == "utf-16":
        return 2 if ord(char) > 0xFFFF else 1
    return 1


def reference_position(text: str, offset: int, encoding: str) -> tuple[int, int]:
    for line, (start, end) in enumerate(reference_lines(text)):
        following = (
            reference_lines(text)[line + 1][0] if line + 1 < len(reference_lines(text)) else len(text) + 1
        )
        if start <= offset < following:
            return line, sum(reference_units(c, encoding) for c in text[start : min(offset, end)])
    raise AssertionError("offset outside text")


def inside_crlf(text: str, offset: int) -> bool:
    return 0 < offset < len(text) and text[offset - 1] == "\r" and text[offset] == "\n"


@settings(max_examples=300, deadline=None)
@given(text=texts)
def test_round_trips_match_reference(text: str) -> None:
    index = LineIndex(text)
    assert index.line_count == len(reference_lines(text))
    for offset in range(len(text) + 1):
        assert index.to_utf8(offset) == len(text[:offset].encode("utf-8"))
        assert index.from_utf8(index.to_utf8(offset)) == offset
        for encoding in ENCODINGS:
            line, character = index.position(offset, encoding)
            assert (line, character) == reference_position(text, offset, encoding)
            back = index.offset(line, character, encoding, clamp=False)
            # Between "\r" and "\n" is not a position of its own: it is the end of the line's content.
            assert back == (offset - 1 if inside_crlf(text, offset) else offset)


@settings(max_examples=200, deadline=None)
@given(text=texts, line=st.integers(0, 12), character=st.integers(0, 30), encoding=st.sampled_from(ENCODINGS))
def test_any_position_clamps_into_the_text(text: str, line: int, character: int, encoding: str) -> None:
    index = LineIndex(text)
    lines = reference_lines(text)
    offset = index.offset(line, character, encoding)
    if line >= len(lines):
        assert offset == len(text)
        return
    start, end = lines[line]
    assert start <= offset <= end
    # The offset is the last character start whose units do not exceed `character`.
    covered = sum(reference_units(c, encoding) for c in text[start:offset])
    assert covered <= character
    assert offset == end or covered + reference_units(text[offset], encoding) > character


def test_hand_checked_astral() -> None:
    index = LineIndex("a😀b")
    assert index.position(2) == (0, 3)
    assert index.position(2, "utf-8") == (0, 5)
    assert index.position(2, "utf-32") == (0, 2)
    assert index.to_utf8(2) == 5
    assert index.from_utf8(5) == 2
    assert index.offset(0, 3) == 2
    # UTF-16 unit 2 is the low half of the surrogate pair: clamps to the emoji's start, or raises.
    assert index.offset(0, 2) == 1
    with pytest.raises(PositionError) as error:
        index.offset(0, 2, clamp=False)
    assert str(error.value) == "position line 0, character 2: utf-16 unit 2 falls inside a character"
    # Byte 3 is inside the emoji's 4 UTF-8 bytes.
    assert index.from_utf8(3) == 1


def test_hand_checked_cjk_combining_and_line_ends() -> None:
    text = "中文\r\ne\u0301x\ry\n"
    index = LineIndex(text)
    assert index.line_count == 4
    assert [index.line_start(line) for line in range(4)] == [0, 4, 8, 10]
    assert [index.line_text(line) for line in range(4)] == ["中文", "e\u0301x", "y", ""]
    assert index.position(2) == (0, 2)
    assert index.position(2, "utf-8") == (0, 6)
    assert index.position(3) == (0, 2)  # between \r and \n: the line's end
    assert index.position(4) == (1, 0)
    assert index.position(6) == (1, 2)  # the combining mark is a code point of its own
    assert index.position(7, "utf-8") == (1, 4)
    assert index.position(7) == (1, 3)
    assert index.position(8) == (2, 0)  # the lone \r ended line 1
    assert index.position(9) == (2, 1)
    assert index.offset(0, 99) == 2  # past the end: the content end, before "\r\n"
    assert index.offset(9, 0) == len(text)
    assert index.to_utf8(len(text)) == len(text.encode("utf-8"))
    assert index.from_utf8(len(text.encode("utf-8"))) == len(text)


def test_empty_text_and_trailing_newline() -> None:
    empty = LineIndex("")
    assert empty.line_count == 1
    assert empty.position(0) == (0, 0)
    assert empty.offset(0, 5) == 0
    assert empty.to_utf8(0) == 0 and empty.from_utf8(0) == 0
    trailing = LineIndex("x\n")
    assert trailing.line_count == 2
    assert trailing.position(2) == (1, 0)


def test_errors_name_what_is_wrong() -> None:
    index = LineIndex("ab\ncd")
    cases = [
        (
            lambda: index.offset(5, 0, clamp=False),
            "position line 5, character 0: line 5 is past the last line (1)",
        ),
        (
            lambda: index.offset(0, 3, clamp=False),
            "position line 0, character 3: line 0 is only 2 utf-16 units long",
        ),
        (lambda: index.offset(-1, 0), "position line -1, character 0 is negative"),
        (lambda: index.position(6), "offset 6 is outside the text (0..5 code points)"),
        (lambda: index.from_utf8(9), "byte offset 9 is outside the text (0..5 bytes)"),
        (lambda: index.line_start(2), "line 2 is outside the text (0..1)"),
    ]
    for call, message in cases:
        with pytest.raises(PositionError) as error:
            call()
        assert str(error.value) == message
    with pytest.raises(ValueError) as error:
        index.position(0, "utf-7")
    assert str(error.value) == "unknown position encoding 'utf-7'; expected one of utf-8, utf-16, utf-32"


def test_units() -> None:
    assert units("a😀中é") == 5
    assert units("a😀中é", "utf-8") == 1 + 4 + 3 + 2
    assert units("a😀中é", "utf-32") == 4


def test_long_document_conversions_touch_one_line() -> None:
    # Not a timing test: checks the answers on a document big enough that a per-call O(text) scan
    # would stand out in the benchmark, and that lines far apart are independent.
    lines = [f"{i} 😀 中 {'x' * (i % 50)}" for i in range(20000)]
    text = "\n".join(lines)
    index = LineIndex(text)
    offset = index.line_start(15000) + len("15000 😀")
    assert index.position(offset) == (15000, 8)  # the emoji is 2 UTF-16 units
    assert index.to_utf8(offset) - index.to_utf8(index.line_start(15000)) == len("15000 😀".encode())
    assert index.offset(*index.position(offset)) == offset
    assert index.from_utf8(index.to_utf8(offset)) == offset
