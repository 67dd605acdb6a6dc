"""Open documents: text, version, language, and incremental edits in the negotiated position encoding.

The daemon keeps its own copy of every open buffer (not pygls' workspace) because each change must
also be reported as a code-point edit (start, end, new text) to capture's edit history and settle
tracker. Positions are LSP (line, character) pairs whose character unit is the negotiated
`positionEncoding`: UTF-16 code units by default, UTF-8 bytes or UTF-32 code points when the client
offers them. Offsets everywhere else in zeta2 are code points into the text.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from urllib.parse import unquote, urlparse

from zeta2_capture.languages import normalize_language

ENCODINGS = ("utf-8", "utf-16", "utf-32")


class DocumentError(ValueError):
    """A request about a document the daemon cannot serve (unopened, out of range, ...)."""


def _units(ch: str, encoding: str) -> int:
    code = ord(ch)
    if encoding == "utf-16":
        return 2 if code > 0xFFFF else 1
    if encoding == "utf-8":
        return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
    return 1


def column_to_index(line: str, character: int, encoding: str) -> int:
    """Code-point index into `line` for an LSP character, clamped to the line's length (as LSP says)."""
    if encoding == "utf-32" or line.isascii():
        return min(character, len(line))
    units = 0
    for index, ch in enumerate(line):
        if units >= character:
            return index
        units += _units(ch, encoding)
    return len(line)


def index_to_column(line: str, index: int, encoding: str) -> int:
    """LSP character of code-point `index` in `line`."""
    head = line[:index]
    if encoding == "utf-32" or head.isascii():
        return len(head)
    return sum(_units(ch, encoding) for ch in head)


@dataclass(frozen=True, slots=True)
class TextEdit:
    """A change in code points: text[start:end] was replaced by `new_text`."""

    start: int
    end: int
    new_text: str
    old_text: str


@dataclass
class Document:
    uri: str
    version: int
    text: str
    language_id: str = ""
    _line_starts: list[int] | None = field(default=None, repr=False)

    @property
    def path(self) -> str:
        """The file-system path of a file:// URI (the URI itself otherwise)."""
        parsed = urlparse(self.uri)
        return unquote(parsed.path) if parsed.scheme == "file" else self.uri

    @property
    def language(self) -> str | None:
        return normalize_language(self.language_id, self.path)

    @property
    def is_binary(self) -> bool:
        # A NUL in the first 8 KiB is how git decides a file is binary; we do the same.
        return "\x00" in self.text[:8192]

    def line_starts(self) -> list[int]:
        if self._line_starts is None:
            starts = [0]
            find = self.text.find
            pos = find("\n")
            while pos != -1:
                starts.append(pos + 1)
                pos = find("\n", pos + 1)
            self._line_starts = starts
        return self._line_starts

    @property
    def line_count(self) -> int:
        return len(self.line_starts())

    def line_text(self, line: int) -> str:
        """Line `line` without its line ending (\\n or \\r\\n)."""
        starts = self.line_starts()
        start = starts[line]
        end = starts[line + 1] - 1 if line + 1 < len(starts) else len(self.text)
        text = self.text[start:end]
        return text[:-1] if text.endswith("\r") else text

    def offset_at(self, line: int, character: int, encoding: str, *, clamp_line: bool = False) -> int:
        """Code-point offset of an LSP position. A line past the end raises DocumentError unless clamped."""
        if line < 0 or character < 0:
            raise DocumentError(f"position ({line}, {character}) is negative")
        starts = self.line_starts()
        if line >= len(starts):
            if not clamp_line:
                raise DocumentError(
                    f"position line {line} is past the end of {self.uri} ({len(starts)} lines)"
                )
            return len(self.text)
        return starts[line] + column_to_index(self.line_text(line), character, encoding)

    def position_at(self, offset: int, encoding: str) -> tuple[int, int]:
        starts = self.line_starts()
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(starts, offset) - 1
        return line, index_to_column(self.text[starts[line] : offset], offset - starts[line], encoding)

    def apply(self, start: int, end: int, new_text: str) -> TextEdit:
        old = self.text[start:end]
        self.text = self.text[:start] + new_text + self.text[end:]
        self._line_starts = None
        return TextEdit(start, end, new_text, old)


class DocumentStore:
    """The open documents by URI."""

    def __init__(self, encoding: str = "utf-16"):
        if encoding not in ENCODINGS:
            raise ValueError(f"unknown position encoding {encoding!r}; expected one of {', '.join(ENCODINGS)}")
        self.encoding = encoding
        self._docs: dict[str, Document] = {}

    def __contains__(self, uri: str) -> bool:
        return uri in self._docs

    def __len__(self) -> int:
        return len(self._docs)

    def open(self, uri: str, version: int, text: str, language_id: str = "") -> Document:
        doc = Document(uri, version, text, language_id)
        self._docs[uri] = doc
        return doc

    def close(self, uri: str) -> Document | None:
        return self._docs.pop(uri, None)

    def get(self, uri: str) -> Document:
        doc = self._docs.get(uri)
        if doc is None:
            raise DocumentError(f"document {uri} is not open (send textDocument/didOpen first)")
        return doc

    def change(self, uri: str, version: int, changes: list[tuple[tuple[int, int, int, int] | None, str]]) -> list[TextEdit]:
        """Applies content changes in order; each is ((start line, char, end line, char) | None, text).

        A change without a range replaces the whole text (full sync). Returns the code-point edits.
        """
        doc = self.get(uri)
        edits = []
        for rng, text in changes:
            if rng is None:
                edits.append(doc.apply(0, len(doc.text), text))
                continue
            sl, sc, el, ec = rng
            start = doc.offset_at(sl, sc, self.encoding, clamp_line=True)
            end = doc.offset_at(el, ec, self.encoding, clamp_line=True)
            if end < start:
                raise DocumentError(f"change range ends before it starts in {uri}: ({sl}, {sc})-({el}, {ec})")
            edits.append(doc.apply(start, end, text))
        doc.version = version
        return edits
