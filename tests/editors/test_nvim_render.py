"""The pure display decision (lua/zeta2/render.lua), run in a real nvim."""

from __future__ import annotations


def test_display_plans(run_scenario):
    out = run_scenario("render_plans").result

    ghost = out["ghost"]
    assert ghost["kind"] == "ghost"
    assert ghost["marks"] == [
        [
            1,
            4,
            {
                "virt_text": [["abc", "Zeta2Ghost"]],
                "virt_text_pos": "inline",
                "virt_lines": [[["  def", "Zeta2Ghost"]]],
            },
        ]
    ]

    inline = out["inline"]
    assert inline["kind"] == "diff"
    assert inline["target"] == [3, 8]
    assert inline["marks"] == [
        [3, 8, {"end_row": 3, "end_col": 11, "hl_group": "Zeta2Delete"}],
        [3, 11, {"virt_text": [["bar", "Zeta2Insert"]], "virt_text_pos": "inline"}],
    ]

    # the new line is drawn under line 3, where it will be; nothing is deleted
    assert out["lines"]["kind"] == "diff"
    assert out["lines"]["marks"] == [[3, 0, {"virt_lines": [[["        self.z = z", "Zeta2Insert"]]]}]]

    assert out["delete_line"]["marks"] == [[2, 0, {"end_row": 3, "end_col": 0, "hl_group": "Zeta2Delete"}]]

    far = out["far"]
    assert far["kind"] == "jump"
    assert far["target"] == [40, 2]
    assert far["marks"][-2:] == [
        [40, 0, {"sign_text": "Z>", "sign_hl_group": "Zeta2Sign"}],
        [1, 0, {"virt_text": [[" ↓ Tab: edit at line 41", "Zeta2Hint"]], "virt_text_pos": "eol"}],
    ]
    assert far["marks"][0] == [40, 2, {"virt_text": [["!", "Zeta2Insert"]], "virt_text_pos": "inline"}]

    assert out["off_screen"]["kind"] == "jump"
    assert out["off_screen"]["marks"][0] == [
        0,
        0,
        {"virt_lines": [[["# hi", "Zeta2Insert"]]], "virt_lines_above": True},
    ]
    assert out["up"]["kind"] == "jump"
    assert out["up"]["marks"][-1][2]["virt_text"] == [[" ↑ Tab: edit at line 1", "Zeta2Hint"]]

    p = out["partial"]
    assert p["word"] == ["  foo", "(bar)"]
    assert p["punct"] == ["(", "bar)"]
    assert p["line"] == ["a = 1", "\nb = 2\n"]
    assert p["newline_first"] == ["\n    return x", "\n"]
    assert p["last"] == ["end", ""]
    assert out["end_of_insert"] == [[3, 6], [4, 3]]
    assert out["bad_unit"] == 'zeta2.render.split_partial: unit must be "word" or "line", got char'
