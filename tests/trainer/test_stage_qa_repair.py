"""`qa` flags bad predictions by rules; `repair` sends them back to the loopback teacher with a critique."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from loopback import API_KEY, LoopbackServer

from zeta2_capture.diffs import make_diff
from zeta2_capture.schema import Event, Example, read_examples, write_jsonl
from zeta2_trainer.cli import main as cli
from zeta2_trainer.stages.teacher_prompt import word_diff

BODY = "".join(f"def f{k}(total):\n    total = {k}\n    return total\n\n\n" for k in range(40))
OLD = BODY
TYPED = "    total *= 2\n"
BEFORE = OLD.replace("    total = 20\n", "    total = 20\n" + TYPED)
CURSOR = BEFORE.index(TYPED) + len(TYPED) - 1


def example(name: str, expected: str, before: str = BEFORE, cursor: int = CURSOR) -> Example:
    path = f"{name}.py"
    return Example(
        id=f"acme@0000000:{path}#0",
        path=path,
        language="python",
        before=before,
        cursor=cursor,
        events=(Event(path, make_diff(OLD, before, path)),),
        expected=expected,
        meta={"repo": "acme", "distill": {"intent": f"intent of {name}"}},
    )


GOOD = BEFORE.replace("    return total\n\n\ndef f21", "    return total * 3\n\n\ndef f21")
REVERSAL = OLD
OUTSIDE = BEFORE.replace("def f0(total)", "def f0(total, extra)")
BROKEN = BEFORE.replace("    return total\n\n\ndef f21", "    return (total\n\n\ndef f21")
OPEN_LINE = OLD.replace("    total = 20\n", "    total = 20\n    print(total,\n")
OPEN_CURSOR = OPEN_LINE.index("print(total,") + len("print(total,")


def cases() -> list[Example]:
    return [
        example("good", GOOD),
        example("reversal", REVERSAL),
        example("outside", OUTSIDE),
        example("broken", BROKEN),
        example("open", OPEN_LINE, OPEN_LINE, OPEN_CURSOR),
    ]


def test_qa_flags(tmp_path, smollm2_tokenizer_json, capsys):
    inp, out = tmp_path / "in.jsonl", tmp_path / "qa.jsonl"
    write_jsonl(inp, cases() + [replace(example("none", GOOD), expected=None)])
    assert cli(["qa", "-i", str(inp), "-o", str(out), "--tokenizer", str(smollm2_tokenizer_json), "--no-progress"]) == 0
    got = {e.path: e.meta["qa"] for e in read_examples(out)}
    assert got["good.py"]["flags"] == [] and got["good.py"]["syntax_error_delta"] == 0
    assert got["reversal.py"]["flags"] == ["reversal"] and got["reversal.py"]["reversal_ratio"] == 1.0
    assert got["outside.py"]["flags"] == ["outside_region"] and got["outside.py"]["edit_start"] < got["outside.py"]["region_start"]
    assert got["broken.py"]["flags"] == ["syntax"] and got["broken.py"]["syntax_error_delta"] > 0
    assert got["open.py"]["flags"] == ["noop_continuation"] and got["open.py"]["continuation"] == "an unclosed bracket"
    err = capsys.readouterr().err
    assert "qa: read 6, written 5, rejected 1 (no prediction: 1)" in err and "flagged 4" in err
    (rejected,) = read_examples(tmp_path / "qa.rejects.jsonl")
    assert rejected.meta["qa"]["error"] == "no prediction to judge"


REGION = re.compile(r"<\|editable_region_start\|>(.*?)<\|editable_region_end\|>", re.S)


def repair_answer(system: str, user: str) -> str:
    if "Current file: reversal.py" in user:
        return "The user doubles the total on purpose; undoing it is what the history shows.\n\nKEEP_PREVIOUS"
    if "Current file: outside.py" in user:
        return "Nothing else needs to change.\n\nNO_EDITS"
    if "Current file: broken.py" in user:
        region = REGION.search(user, user.index("## Current file")).group(1).replace("<|user_cursor|>", "")
        fixed = region.replace("    return total\n\n\ndef f21", "    return (total)\n\n\ndef f21")
        return f"Return the doubled total.\n\n```python\n{fixed}```"
    return "Hmm."


def test_repair_with_critique(monkeypatch, tmp_path, smollm2_tokenizer_json, capsys):
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    inp, qa, out = tmp_path / "in.jsonl", tmp_path / "qa.jsonl", tmp_path / "repaired.jsonl"
    write_jsonl(inp, cases())
    tok = ["--tokenizer", str(smollm2_tokenizer_json), "--no-progress"]
    assert cli(["qa", "-i", str(inp), "-o", str(qa), *tok]) == 0
    with LoopbackServer(repair_answer) as server:
        code = cli(["repair", "-i", str(qa), "-o", str(out), "--base-url", server.anthropic_url, "--cache", str(tmp_path / "c.sqlite"), *tok])
        assert code == 0 and server.state.violations == []
        asked = {re.search(r"Current file: (\S+)", r.body["messages"][0]["content"]).group(1): r.body for r in server.state.received}
    assert sorted(asked) == ["broken.py", "open.py", "outside.py", "reversal.py"]  # the good one was not sent
    critique = asked["broken.py"]["messages"][0]["content"]
    assert re.search(r"It breaks the syntax: [1-9] more tree-sitter error\(s\)", critique)
    assert word_diff(BEFORE, BROKEN) in critique and "{+(+}" in critique
    assert "intent of broken" in critique and "KEEP_PREVIOUS" in asked["broken.py"]["system"]
    assert "unfinished: an unclosed bracket" in asked["open.py"]["messages"][0]["content"]

    got = {e.path: e for e in read_examples(out)}
    assert got["good.py"].expected == GOOD and "repair" not in got["good.py"].meta
    keep = got["reversal.py"]
    assert keep.expected == REVERSAL and keep.meta["repair"]["verdict"] == "keep_previous" and keep.meta["repair"]["overruled"] == ["reversal"]
    none = got["outside.py"]
    assert none.expected == none.before and none.meta["repair"]["verdict"] == "no_edits"
    fixed = got["broken.py"]
    assert fixed.expected == BEFORE.replace("    return total\n\n\ndef f21", "    return (total)\n\n\ndef f21")
    assert fixed.meta["repair"]["verdict"] == "edit" and fixed.meta["repair"]["flags_after"] == []
    assert "open.py" not in got
    (rejected,) = read_examples(tmp_path / "repaired.rejects.jsonl")
    assert rejected.path == "open.py" and rejected.meta["repair"]["error"] == "no code block in the answer"
    assert "repair: read 5, written 4, rejected 1 (no code block in the answer: 1)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("old", "new", "diff"),
    [
        ("a = f(x)\n", "a = g(x, y)\n", "a = [-f-]{+g+}(x{+, y+})"),
        ("one\ntwo\n", "one\ntwo\n", "(no change)"),
    ],
)
def test_word_diff(old, new, diff):
    assert word_diff(old, new) == diff


def reviewer(system: str, user: str) -> str:
    assert "FLAGS: none | a comma-separated list of" in system
    if "Current file: good.py" in user:
        return "FLAGS: none\nREASON: a sensible follow-up."
    if "Current file: outside.py" in user:
        return "FLAGS: outside_region, other\nREASON: it edits f0, far from the cursor."
    return "Looks fine to me."  # no FLAGS line


def test_qa_with_a_reviewing_model_and_repair_passing_its_reason_on(monkeypatch, tmp_path, smollm2_tokenizer_json, capsys):
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    inp, qa = tmp_path / "in.jsonl", tmp_path / "qa.jsonl"
    write_jsonl(inp, [example("good", GOOD), example("outside", OUTSIDE), example("broken", BROKEN)])
    tok = ["--tokenizer", str(smollm2_tokenizer_json), "--no-progress"]
    with LoopbackServer(reviewer) as server:
        code = cli(["qa", "-i", str(inp), "-o", str(qa), "--judge", "both", "--base-url", server.anthropic_url, "--cache", str(tmp_path / "c.sqlite"), *tok])
        assert code == 0 and server.state.violations == [] and len(server.state.received) == 3
        review = next(r.body["messages"][0]["content"] for r in server.state.received if "Current file: outside.py" in r.body["messages"][0]["content"])
        assert "{+, extra+}" in review  # the prediction as a word diff
    got = {e.path: e.meta["qa"] for e in read_examples(qa)}
    assert got["good.py"]["flags"] == [] and got["good.py"]["llm_problems"] == "none" and got["good.py"]["judge"] == "both"
    assert got["outside.py"]["flags"] == ["outside_region", "llm_judge"]
    assert got["outside.py"]["llm_problems"] == "outside_region, other" and got["outside.py"]["llm_reason"] == "it edits f0, far from the cursor."
    assert got["broken.py"]["flags"] == ["syntax"] and got["broken.py"]["llm_error"] == "no FLAGS line in the review"
    assert "flag llm_judge 1" in capsys.readouterr().err

    seen = []

    def fixer(system: str, user: str) -> str:
        seen.append(user)
        return "KEEP_PREVIOUS"

    with LoopbackServer(fixer) as server:
        assert cli(["repair", "-i", str(qa), "-o", str(tmp_path / "r.jsonl"), "--base-url", server.anthropic_url, "--cache", str(tmp_path / "c2.sqlite"), *tok]) == 0
    (critique,) = [u for u in seen if "Current file: outside.py" in u]
    assert "A reviewing model found: outside_region, other. it edits f0, far from the cursor." in critique
