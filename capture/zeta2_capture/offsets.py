"""Convert between code-point offsets, LSP positions and UTF-8 byte offsets in one text.

Everything in zeta2 stores offsets as Unicode code points (Python `str` indices). Editors speak LSP
positions, `(line, character)`, where `character` counts UTF-16 code units unless the client and
server negotiated "utf-8" or "utf-32" (`positionEncoding`); tree-sitter speaks UTF-8 bytes.

`LineIndex(text)` is built once per document version (one regex pass over the text) and answers
each conversion with a bisect over the line starts plus unit counting inside that one line only,
so a conversion costs O(log lines + line length), never O(text).

Lines follow the LSP spec: "\\r\\n", "\\n" and "\\r" all end a line, so a text of n terminators has
n + 1 lines and the last one may be empty. A position inside a "\\r\\n" pair (between the two
characters) is treated as the end of that line's content, i.e. just before the "\\r".
"""

from __future__ import annotations

import re
from bisect import bisect_right

ENCODINGS = ("utf-8", "utf-16", "utf-32")

_LINE_END = re.compile(r"\r\n|\r|\n")


class PositionError(ValueError):
    """A position, offset or byte offset that does not lie in the text."""


def _check_encoding(encoding: str) -> None:
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown position encoding {encoding!r}; expected one of {', '.join(ENCODINGS)}")


def units(segment: str, encoding: str = "utf-16") -> int:
    """How many `encoding` code units `segment` takes (code points for "utf-32")."""
    if encoding == "utf-32" or segment.isascii():
        _check_encoding(encoding)
        return len(segment)
    if encoding == "utf-16":
        # Astral characters (above U+FFFF) take a surrogate pair, everything else one unit.
        return len(segment.encode("utf-16-le")) // 2
    if encoding == "utf-8":
        return len(segment.encode("utf-8"))
    _check_encoding(encoding)
    raise AssertionError("unreachable")


def _code_points_in(segment: str, count: int, encoding: str) -> tuple[int, int, bool]:
    """Code points of `segment` covered by its first `count` units, as
    (code points, units in the whole segment, whether `count` ends inside a character).

    A count past the segment's end covers all of it; one that ends inside a character (half a
    surrogate pair, part of a UTF-8 sequence) rounds down to the start of that character.
    """
    if encoding == "utf-32" or segment.isascii():
        return min(count, len(segment)), len(segment), False
    codec, width = ("utf-16-le", 2) if encoding == "utf-16" else ("utf-8", 1)
    data = segment.encode(codec)  # encoded once: this is the per-line cost of a conversion
    end = count * width
    if end >= len(data):
        return len(segment), len(data) // width, False
    if width == 2:
        split = 0xDC <= data[end + 1] <= 0xDF  # the next unit is a low surrogate
        prefix = data[: end - 2] if split else data[:end]
        return len(prefix.decode(codec)), len(data) // 2, split
    split = (data[end] & 0xC0) == 0x80  # the next byte continues a character
    # errors="ignore" drops the unfinished trailing sequence, which is the round-down we want.
    return len(data[:end].decode(codec, errors="ignore")), len(data), split


class LineIndex:
    """Line starts of one text, for O(log n) conversions between offsets and positions."""

    __slots__ = ("text", "_starts", "_ends", "_byte_starts")

    def __init__(self, text: str):
        self.text = text
        starts = [0]
        ends = []
        if "\r" not in text:
            # The common case; str.split is several times faster than the regex on non-ASCII text.
            at = 0
            for piece in text.split("\n"):
                at += len(piece)
                ends.append(at)
                at += 1
                starts.append(at)
            starts.pop()
        else:
            for match in _LINE_END.finditer(text):
                ends.append(match.start())
                starts.append(match.end())
            ends.append(len(text))
        self._starts = starts
        # Where each line's content ends (before its terminator).
        self._ends = ends
        self._byte_starts: list[int] | None = None

    @property
    def line_count(self) -> int:
        return len(self._starts)

    def line_start(self, line: int) -> int:
        """Code-point offset where `line` starts."""
        self._check_line(line)
        return self._starts[line]

    def line_end(self, line: int) -> int:
        """Code-point offset where `line`'s content ends (before "\\n", "\\r\\n" or "\\r")."""
        self._check_line(line)
        return self._ends[line]

    def line_text(self, line: int) -> str:
        """The content of `line`, without its terminator."""
        self._check_line(line)
        return self.text[self._starts[line] : self._ends[line]]

    def line_of(self, offset: int) -> int:
        """The line holding code-point `offset` (an offset on a terminator belongs to its line)."""
        self._check_offset(offset)
        return bisect_right(self._starts, offset) - 1

    def position(self, offset: int, encoding: str = "utf-16") -> tuple[int, int]:
        """The LSP position (line, character in `encoding` units) of code-point `offset`."""
        _check_encoding(encoding)
        line = self.line_of(offset)
        start = self._starts[line]
        # Only an offset between "\r" and "\n" lies past the content end; it means the line end.
        offset = min(offset, self._ends[line])
        return line, units(self.text[start:offset], encoding)

    def offset(self, line: int, character: int, encoding: str = "utf-16", clamp: bool = True) -> int:
        """The code-point offset of LSP position (line, character).

        With `clamp` (the LSP rule), a character past the line's end means the line's end and a
        line past the last line means the end of the text; a character inside a multi-unit
        character rounds down to that character's start. Without `clamp` each of those raises
        `PositionError`. Negative numbers always raise.
        """
        _check_encoding(encoding)
        if line < 0 or character < 0:
            raise PositionError(f"position line {line}, character {character} is negative")
        if line >= len(self._starts):
            if clamp:
                return len(self.text)
            raise PositionError(
                f"position line {line}, character {character}: line {line} is past the last line "
                f"({len(self._starts) - 1})"
            )
        start, end = self._starts[line], self._ends[line]
        points, length, split = _code_points_in(self.text[start:end], character, encoding)
        if character > length and not clamp:
            raise PositionError(
                f"position line {line}, character {character}: line {line} is only {length} "
                f"{encoding} units long"
            )
        if split and not clamp:
            raise PositionError(
                f"position line {line}, character {character}: {encoding} unit {character} falls "
                f"inside a character"
            )
        return start + points

    def to_utf8(self, offset: int) -> int:
        """The UTF-8 byte offset of code-point `offset`."""
        line = self.line_of(offset)
        start = self._starts[line]
        return self._line_byte_starts()[line] + units(self.text[start:offset], "utf-8")

    def from_utf8(self, byte_offset: int) -> int:
        """The code-point offset of UTF-8 `byte_offset` (inside a character: that character's start)."""
        byte_starts = self._line_byte_starts()
        total = byte_starts[-1] + units(self.text[self._starts[-1] :], "utf-8")
        if not 0 <= byte_offset <= total:
            raise PositionError(f"byte offset {byte_offset} is outside the text (0..{total} bytes)")
        line = bisect_right(byte_starts, byte_offset) - 1
        start = self._starts[line]
        following = self._starts[line + 1] if line + 1 < len(self._starts) else len(self.text)
        points, _, _ = _code_points_in(self.text[start:following], byte_offset - byte_starts[line], "utf-8")
        return start + points

    def _line_byte_starts(self) -> list[int]:
        # Computed on first use: most documents never need byte offsets, and ASCII texts need no work.
        if self._byte_starts is None:
            if self.text.isascii():
                self._byte_starts = self._starts
            else:
                starts, acc, text = self._starts, 0, self.text
                byte_starts = [0]
                for line in range(1, len(starts)):
                    acc += units(text[starts[line - 1] : starts[line]], "utf-8")
                    byte_starts.append(acc)
                self._byte_starts = byte_starts
        return self._byte_starts

    def _check_line(self, line: int) -> None:
        if not 0 <= line < len(self._starts):
            raise PositionError(f"line {line} is outside the text (0..{len(self._starts) - 1})")

    def _check_offset(self, offset: int) -> None:
        if not 0 <= offset <= len(self.text):
            raise PositionError(f"offset {offset} is outside the text (0..{len(self.text)} code points)")
