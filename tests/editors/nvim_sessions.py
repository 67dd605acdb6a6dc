"""Scripted editing sessions (tests/fixtures/sessions/*.json) turned into keys a person types in nvim."""

from __future__ import annotations

import json
from pathlib import Path

SESSIONS = Path(__file__).resolve().parent.parent / "fixtures" / "sessions"


def load_session(name: str) -> dict:
    return json.loads((SESSIONS / f"{name}.json").read_text())


def _offset(lines: list[str], line: int, character: int) -> int:
    return sum(len(text) + 1 for text in lines[:line]) + character


def _key(ch: str) -> str:
    return {"<": "<lt>", "\n": "<CR>", "\t": "<Tab>"}.get(ch, ch)


def typing_keys(session: dict) -> str:
    """nvim keys that replay the session's edits from normal mode, ending in insert mode at its cursor.

    Each edit deletes a selection within a line or types one character; typing continues in insert
    mode while the edits follow each other, otherwise the cursor moves there first (normal mode).
    Positions are ASCII columns (the sessions are ASCII), so bytes and characters agree.
    """
    text = session["initial"]
    keys: list[str] = []
    insert_at: tuple[int, int] | None = None  # where typing goes next while in insert mode
    for edit in session["edits"]:
        start, end = edit["range"]["start"], edit["range"]["end"]
        s = (start["line"], start["character"])
        e = (end["line"], end["character"])
        lines = text.split("\n")
        if s != e:
            if s[0] != e[0]:
                raise ValueError(f"{session['name']}: multi-line deletions are not scripted")
            if insert_at is not None:
                keys.append("<Esc>")
                insert_at = None
            keys.append(f"<Cmd>call cursor({s[0] + 1}, {s[1] + 1})<CR>{e[1] - s[1]}x")
        if edit["text"]:
            if insert_at != s:
                if insert_at is not None:
                    keys.append("<Esc>")
                lines = (text[: _offset(lines, *s)] + text[_offset(lines, *e) :]).split("\n")
                at_end = s[1] == len(lines[s[0]]) and s[1] > 0
                col = s[1] if at_end else s[1] + 1
                keys.append(f"<Cmd>call cursor({s[0] + 1}, {col})<CR>" + ("a" if at_end else "i"))
            keys.append("".join(_key(c) for c in edit["text"]))
        lines = text.split("\n")
        text = text[: _offset(lines, *s)] + edit["text"] + text[_offset(lines, *e) :]
        typed_lines = edit["text"].split("\n")
        if edit["text"]:
            insert_at = (
                s[0] + len(typed_lines) - 1,
                (s[1] if len(typed_lines) == 1 else 0) + len(typed_lines[-1]),
            )
    assert text == session["final"], f"{session['name']}: replaying the edits does not give `final`"
    if insert_at is None:
        c = session["cursor"]
        keys.append(f"<Cmd>call cursor({c['line'] + 1}, {c['character'] + 1})<CR>i")
    return "".join(keys)
