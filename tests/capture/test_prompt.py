"""Prompt format v1: render the prompt and the target, parse the answer back, within the token budget."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zeta2_capture.prompt import (
    FORMAT_NAME,
    FORMAT_VERSION,
    TOKEN_MAPS,
    FormatError,
    OutOfRegion,
    ParsedEdit,
    PromptConfig,
    PromptError,
    Renderer,
    load_tokenizer,
)
from zeta2_capture.region import MAX_BLOCK_LINES, split_lines
from zeta2_capture.schema import Event, Example, read_examples


@pytest.fixture(scope="module")
def renderer(smollm2_tokenizer_json) -> Renderer:
    return Renderer.from_file(smollm2_tokenizer_json, "smollm2")


def make_example(before: str, cursor: int, expected: str | None = None, events=(), **kw) -> Example:
    return Example(
        id=kw.pop("id", "t"),
        path=kw.pop("path", "pkg/mod.py"),
        language=kw.pop("language", "python"),
        before=before,
        cursor=cursor,
        events=tuple(events),
        expected=expected,
        **kw,
    )


def roundtrip(renderer: Renderer, example: Example) -> str | OutOfRegion:
    prompt = renderer.render_prompt(example)
    target = renderer.render_target(prompt, example.expected)
    if isinstance(target, OutOfRegion):
        return target
    # Through the tokenizer and back, as a model's answer arrives.
    parsed = renderer.parse_output(prompt, renderer.decode(target.token_ids))
    assert isinstance(parsed, ParsedEdit), parsed
    return parsed.predicted


def test_every_format_token_is_one_token(renderer):
    for token in TOKEN_MAPS["smollm2"].special_tokens:
        assert renderer.encode(token) == [renderer.tokenizer.token_to_id(token)]
    assert renderer.end_token_id in renderer.special_token_ids


def test_load_tokenizer_is_idempotent_and_names_a_missing_file(smollm2_tokenizer_json, tmp_path):
    first = load_tokenizer(smollm2_tokenizer_json)
    size = first.get_vocab_size()
    from zeta2_capture.tokenmap import add_format_tokens

    assert add_format_tokens(first, TOKEN_MAPS["smollm2"]).get_vocab_size() == size
    with pytest.raises(FileNotFoundError, match=r"nope[/\\]tokenizer.json: no tokenizer.json"):
        load_tokenizer(tmp_path / "nope" / "tokenizer.json")


def test_dev_examples_round_trip_and_report_out_of_region(renderer, dev_jsonl):
    inside = outside = 0
    for example in read_examples(dev_jsonl):
        result = roundtrip(renderer, example)
        if isinstance(result, OutOfRegion):
            outside += 1
            assert "outside the editable region" in result.reason
            continue
        assert result == example.expected, example.id
        inside += 1
    share = outside / (inside + outside)
    print(f"\ndev examples whose change lies outside the editable region: {outside}/{inside + outside} ({share:.1%})")
    # docs/format.md quotes this share; a format change that moves it must update the doc.
    assert share < 0.10


def test_dev_prompts_stay_within_budget_and_keep_cursor_region_and_last_event(renderer, dev_jsonl):
    tm = renderer.token_map
    for example in read_examples(dev_jsonl):
        for budget in (1024, 2048):
            r = Renderer(renderer.tokenizer, tm, PromptConfig(max_prompt_tokens=budget))
            prompt = r.render_prompt(example)
            assert prompt.n_tokens <= budget
            assert prompt.token_ids == r.encode(prompt.text)
            assert prompt.text.count(tm.cursor) == 1
            assert prompt.text.count(tm.region) == 1
            last = example.events[-1].diff.splitlines()[2]  # the @@ line of the newest event
            assert last in prompt.text, example.id


def test_every_dev_target_fits_its_prompts_answer_budget(renderer, dev_jsonl):
    """Decoding stops at `answer_budget` and training drops longer targets: no real target may need more."""
    tm = renderer.token_map
    checked = 0
    for example in read_examples(dev_jsonl):
        for budget in (1024, 2048):
            r = Renderer(renderer.tokenizer, tm, PromptConfig(max_prompt_tokens=budget))
            prompt = r.render_prompt(example)
            target = r.render_target(prompt, example.expected)
            if isinstance(target, OutOfRegion):
                continue
            assert len(target.token_ids) <= prompt.answer_budget, (example.id, budget)
            assert prompt.answer_budget < 2 * prompt.sections["region"] + 16
            checked += 1
    assert checked > 600


def test_noop_is_the_same_marker_twice(renderer):
    before = "x = 1\ny = 2\n"
    prompt = renderer.render_prompt(make_example(before, 5))
    target = renderer.render_target(prompt, before)
    assert target.text == "<|marker_0|><|marker_0|><|edit_end|>"
    assert target.is_noop
    parsed = renderer.parse_output(prompt, target.text)
    assert parsed.is_noop and parsed.predicted == before


def test_change_outside_the_region_is_reported_not_truncated(renderer):
    lines = [f"value_{i} = compute({i}, 'some words to make the line longer')\n" for i in range(400)]
    before = "".join(lines)
    expected = before.replace("value_390 =", "value_390: int =")
    prompt = renderer.render_prompt(make_example(before, 10))
    result = renderer.render_target(prompt, expected)
    assert isinstance(result, OutOfRegion)
    assert result.change_lines == (390, 391)
    assert result.reason.startswith("change on lines 391-391 is outside the editable region (lines 1-")


def test_region_blocks_are_6_to_16_lines(renderer):
    before = "".join(f"line_{i} = {i}\n" for i in range(300))
    layout = renderer.render_prompt(make_example(before, before.index("line_150"))).layout
    sizes = [b - a for a, b in zip(layout.block_lines, layout.block_lines[1:], strict=False)]
    assert len(sizes) >= 2
    assert all(6 <= s <= MAX_BLOCK_LINES for s in sizes), sizes
    assert layout.start <= layout.cursor <= layout.end


def test_region_grows_to_the_enclosing_function(renderer):
    body = "".join(f"    total += item_{i}\n" for i in range(40))
    before = "import os\n\n\ndef total_items():\n    total = 0\n" + body + "    return total\n\n\nx = 1\n"
    config = PromptConfig(max_prompt_tokens=2048, region_tokens=60, max_region_tokens=600)
    r = Renderer(renderer.tokenizer, "smollm2", config)
    layout = r.render_prompt(make_example(before, before.index("item_20"))).layout
    lines = split_lines(before)
    assert lines[layout.start_line].startswith("def total_items")
    assert lines[layout.end_line - 1] == "    return total\n"


def test_empty_file_accepts_an_insertion(renderer):
    prompt = renderer.render_prompt(make_example("", 0))
    target = renderer.render_target(prompt, "print('hi')\n")
    assert target.text == "<|marker_0|>print('hi')\n<|marker_0|><|edit_end|>"
    assert renderer.parse_output(prompt, target.text).predicted == "print('hi')\n"


def test_a_line_too_long_for_the_region_is_a_prompt_error(renderer):
    before = "x = [" + ", ".join(str(i) for i in range(3000)) + "]\n"
    with pytest.raises(PromptError, match=r"pkg/mod.py: the editable region around line 1 needs \d+ tokens"):
        renderer.render_prompt(make_example(before, 3))


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("hello", "the answer does not start with a marker token"),
        ("<|marker_0|>x = 1\n", "no closing marker after <|marker_0|>"),
        ("<|marker_1|>x\n<|marker_0|><|edit_end|>", "closing marker 0 comes before opening marker 1"),
        ("<|marker_0|>x\n<|marker_9|><|edit_end|>", "marker 9 is past the region's last marker 1"),
        ("<|marker_0|>x<|history|>\n<|marker_1|><|edit_end|>", "special token <|history|> inside the new text"),
        ("<|marker_0|>x\n<|marker_1|>junk<|edit_end|>", "text after the closing marker <|marker_1|>"),
    ],
)
def test_malformed_answers_are_typed_errors(renderer, answer, reason):
    prompt = renderer.render_prompt(make_example("x = 1\ny = 2\n", 0))
    result = renderer.parse_output(prompt, answer)
    assert isinstance(result, FormatError)
    assert result.reason == reason
    assert str(result).startswith(f"model output does not follow {FORMAT_NAME} v{FORMAT_VERSION}: ")


def test_a_rewrite_missing_its_final_newline_does_not_glue_lines(renderer):
    before = "".join(f"v{i} = {i}\n" for i in range(30))
    prompt = renderer.render_prompt(make_example(before, 0))
    cut = prompt.layout.marker_offsets[1]
    block = before[:cut]
    answer = "<|marker_0|>" + block.replace("v0 = 0", "v0 = 100").rstrip("\n") + "<|marker_1|><|edit_end|>"
    parsed = renderer.parse_output(prompt, answer)
    assert parsed.predicted == before.replace("v0 = 0", "v0 = 100")
    # At the end of the file the answer decides: a dropped final newline stays dropped.
    tail = renderer.render_prompt(make_example("a = 1\n", 0))
    assert renderer.parse_output(tail, "<|marker_0|>a = 2<|marker_1|><|edit_end|>").predicted == "a = 2"


# ---- generated cases -------------------------------------------------------------------------

WORDS = ["x", "total", "self.value", "return", "def f(a, b):", "}", "{", "if ok:", "# note", "'s'", "😀", "中文", "é"]
line_st = st.lists(st.sampled_from(WORDS), min_size=0, max_size=6).map(lambda ws: " " * (4 * (len(ws) % 3)) + " ".join(ws))


@st.composite
def edits(draw):
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    lines = draw(st.lists(line_st, min_size=0, max_size=120))
    trailing = draw(st.booleans())
    before = newline.join(lines) + (newline if trailing and lines else "")
    cursor = draw(st.integers(0, len(before)))
    n = len(lines)
    start = draw(st.integers(0, n))
    end = draw(st.integers(start, min(n, start + 8)))
    replacement = draw(st.lists(line_st, max_size=6))
    new_lines = lines[:start] + replacement + lines[end:]
    expected = newline.join(new_lines) + (newline if trailing and new_lines else "")
    return before, cursor, expected


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=edits(), budget=st.sampled_from([512, 1024, 2048]))
def test_generated_round_trip(renderer, case, budget):
    before, cursor, expected = case
    r = Renderer(renderer.tokenizer, "smollm2", PromptConfig(max_prompt_tokens=budget))
    event = Event("pkg/mod.py", "--- a/pkg/mod.py\n+++ b/pkg/mod.py\n@@ -1 +1 @@\n-a\n+b\n")
    example = make_example(before, cursor, expected, events=[event] * 8)
    prompt = r.render_prompt(example)
    assert prompt.n_tokens <= budget
    assert prompt.text.count("<|user_cursor|>") == 1
    assert prompt.events_included >= 1
    result = roundtrip(r, example)
    if not isinstance(result, OutOfRegion):
        assert result == expected


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answer=st.lists(st.sampled_from(["<|marker_0|>", "<|marker_1|>", "<|marker_5|>", "<|edit_end|>", "x", "\n", "<|", "|>", "<|user_cursor|>"]), max_size=12).map("".join))
def test_parse_output_never_raises(renderer, answer):
    prompt = renderer.render_prompt(make_example("a = 1\nb = 2\n", 3))
    result = renderer.parse_output(prompt, answer)
    assert isinstance(result, (ParsedEdit, FormatError))
