"""From a predicted full text to the smallest edit to show, and the cache that survives typing.

The model rewrites a whole span of marker blocks; showing that span would flash unchanged lines.
`minimal_edit` trims the common prefix and suffix so the edit is exactly what changes (it may still
span several lines). `inline_insertion` says whether that edit is ghost text on the cursor line.

`SuggestionCache` keeps the last suggestion per document. While the user types exactly the text the
suggestion inserts, the rest of it is answered from the cache with no model call (BRIEF section 4).
"""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass, field, replace


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace before[start:end] (code points) with new_text."""

    start: int
    end: int
    new_text: str

    def apply(self, text: str) -> str:
        return text[: self.start] + self.new_text + text[self.end :]

    @property
    def size(self) -> int:
        """Characters deleted plus inserted."""
        return (self.end - self.start) + len(self.new_text)


def minimal_edit(before: str, after: str, anchor: int | None = None) -> Edit | None:
    """The single smallest contiguous edit turning `before` into `after`; None when they are equal.

    When several placements are equally small (inserting "o" into "foo"), the one nearest `anchor`
    (the cursor) is chosen, so ghost text appears where the user is typing.
    """
    if before == after:
        return None
    limit = min(len(before), len(after))
    prefix = 0
    # Compare in chunks first: the common prefix is usually most of a large file.
    step = 4096
    while prefix + step <= limit and before[prefix : prefix + step] == after[prefix : prefix + step]:
        prefix += step
    while prefix < limit and before[prefix] == after[prefix]:
        prefix += 1
    suffix = 0
    max_suffix = limit - prefix
    while suffix + step <= max_suffix and before[len(before) - suffix - step : len(before) - suffix] == after[
        len(after) - suffix - step : len(after) - suffix
    ]:
        suffix += step
    while suffix < max_suffix and before[len(before) - 1 - suffix] == after[len(after) - 1 - suffix]:
        suffix += 1
    edit = Edit(prefix, len(before) - suffix, after[prefix : len(after) - suffix])
    if anchor is not None and edit.start == edit.end and edit.start != anchor:
        edit = _slide_insertion(before, edit, anchor)
    return edit


def _slide_insertion(before: str, edit: Edit, anchor: int) -> Edit:
    """A pure insertion can slide left or right while the text it passes equals its own rotation."""
    start, text = edit.start, edit.new_text
    # Slide left towards the anchor: inserting X at s equals inserting X' at s-1 when before[s-1] == X[-1].
    while start > anchor and start > 0 and before[start - 1] == text[-1]:
        text = before[start - 1] + text[:-1]
        start -= 1
    while start < anchor and start < len(before) and before[start] == text[0]:
        text = text[1:] + before[start]
        start += 1
    return Edit(start, start, text)


def inline_insertion(before: str, edit: Edit, cursor: int) -> tuple[int, int, str] | None:
    """The edit as an inline completion (range on the cursor line, containing the cursor), or None.

    Only insertions qualify: at the cursor it is plain ghost text; elsewhere on the cursor line the
    range stretches to the cursor and the insert text repeats what lies between, as LSP 3.18 allows.
    """
    if edit.start != edit.end:
        return None
    line_start = before.rfind("\n", 0, cursor) + 1
    line_end = before.find("\n", cursor)
    line_end = len(before) if line_end == -1 else line_end
    if not line_start <= edit.start <= line_end:
        return None
    if edit.start == cursor:
        return cursor, cursor, edit.new_text
    if edit.start < cursor:
        return edit.start, cursor, edit.new_text + before[edit.start : cursor]
    return cursor, edit.start, before[cursor : edit.start] + edit.new_text


_ids = itertools.count(1)
_prefix = f"{os.getpid():x}-{int(time.time()):x}"


def new_suggestion_id() -> str:
    return f"s-{_prefix}-{next(_ids)}"


@dataclass
class Suggestion:
    """A suggestion the daemon answered with, in terms of the text it was computed on."""

    id: str
    uri: str
    version: int
    before: str
    cursor: int
    edit: Edit
    variant: str
    model: str
    latency_ms: dict[str, float] = field(default_factory=dict)
    shown: bool = False
    from_cache: bool = False
    example: object | None = None  # the zeta2_capture Example the model saw (for capture)
    region: tuple[int, int] | None = None  # the prompt's editable region in `before`

    @property
    def predicted(self) -> str:
        return self.edit.apply(self.before)


def typed_through(s: Suggestion, text: str, cursor: int) -> Edit | None:
    """The rest of `s` when `text` is its `before` plus a typed prefix of its new text, else None.

    The user types at the edit's start, so the old text the edit replaces is still after the typed
    characters: text == before[:start] + new_text[:k] + before[start:], with 0 < k < len(new_text).
    """
    e = s.edit
    k = len(text) - len(s.before)
    if k <= 0 or k >= len(e.new_text) or cursor != e.start + k:
        return None
    if text[e.start : e.start + k] != e.new_text[:k]:
        return None
    if not (text.startswith(s.before[: e.start]) and text.endswith(s.before[e.start :])):
        return None
    return Edit(e.start + k, e.end + k, e.new_text[k:])


class SuggestionCache:
    """The latest suggestion per document, and suggestions by id (for accept/reject), bounded."""

    def __init__(self, max_ids: int = 256):
        self._latest: dict[str, Suggestion] = {}
        self._by_id: dict[str, Suggestion] = {}
        self.max_ids = max_ids
        self.hits = 0

    def put(self, s: Suggestion) -> None:
        self._latest[s.uri] = s
        self._by_id[s.id] = s
        while len(self._by_id) > self.max_ids:
            self._by_id.pop(next(iter(self._by_id)))

    def get(self, suggestion_id: str) -> Suggestion | None:
        return self._by_id.get(suggestion_id)

    def latest(self, uri: str) -> Suggestion | None:
        return self._latest.get(uri)

    def lookup(self, uri: str, version: int, text: str, cursor: int) -> Suggestion | None:
        """A suggestion for this exact state of the document from the cache, or None."""
        s = self._latest.get(uri)
        if s is None:
            return None
        if s.version == version and s.before == text:
            hit = replace(s, from_cache=True)
        else:
            rest = typed_through(s, text, cursor)
            if rest is None:
                return None
            # Same id: accepting or rejecting the remainder is about the suggestion the user saw.
            hit = replace(s, version=version, before=text, cursor=cursor, edit=rest, from_cache=True)
            self._latest[uri] = hit
            self._by_id[s.id] = hit
        self.hits += 1
        return hit

    def discard(self, uri: str) -> None:
        self._latest.pop(uri, None)

    def forget_document(self, uri: str) -> None:
        self._latest.pop(uri, None)
        for sid in [sid for sid, s in self._by_id.items() if s.uri == uri]:
            del self._by_id[sid]
