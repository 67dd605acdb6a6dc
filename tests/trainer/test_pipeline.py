"""`zeta2-trainer pipeline`: synthesize -> distill -> qa -> repair -> split from one TOML recipe."""

from __future__ import annotations

import re

from loopback import API_KEY, LoopbackServer
from test_stage_synthesize import scripted_repo  # noqa: F401 - the fixture

from zeta2_capture.schema import read_examples
from zeta2_trainer.cli import main as cli

REGION = re.compile(r"<\|editable_region_start\|>(.*?)<\|editable_region_end\|>", re.S)


def teacher(system: str, user: str) -> str:
    """Answers with the region unchanged except one appended comment line."""
    region = REGION.search(user, user.index("## Current file")).group(1).replace("<|user_cursor|>", "")
    return f"Keep going.\n\n```\n{region}# next\n```"


RECIPE = """
workdir = "run"

[[stage]]
run = "synthesize"
repo = "{repo}"
output = "mined.jsonl"
seed = 7
no_progress = true

[[stage]]
run = "distill"
output = "distilled.jsonl"
base_url = "{url}"
cache = "teacher.sqlite"
tokenizer = "{tokenizer}"
no-progress = true

[[stage]]
run = "qa"
output = "qa.jsonl"
tokenizer = "{tokenizer}"
no_progress = true

[[stage]]
run = "repair"
output = "repaired.jsonl"
base_url = "{url}"
cache = "teacher.sqlite"
tokenizer = "{tokenizer}"
no_progress = true

[[stage]]
run = "split"
output = "splits"
by = "time"
ratios = "0.5,0.25,0.25"
"""


def test_recipe_runs_and_reruns_for_free(scripted_repo, tmp_path, smollm2_tokenizer_json, monkeypatch, capsys):  # noqa: F811
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    repo, _ = scripted_repo
    with LoopbackServer(teacher) as server:
        recipe = tmp_path / "recipe.toml"
        recipe.write_text(RECIPE.format(repo=repo, url=server.anthropic_url, tokenizer=smollm2_tokenizer_json))
        assert cli(["pipeline", str(recipe)]) == 0
        err = capsys.readouterr().err
        assert "pipeline: 5 stages done" in err
        (line,) = [x for x in err.splitlines() if x.startswith("pipeline: zeta2-trainer distill ")]
        assert f"--input {tmp_path / 'run' / 'mined.jsonl'} " in line  # the previous stage's output
        assert f"--base-url {server.anthropic_url} " in line and f"--cache {tmp_path / 'run' / 'teacher.sqlite'} " in line
        asked = len(server.state.received)
        assert asked >= 4 and server.state.violations == []
        run = tmp_path / "run"
        distilled = list(read_examples(run / "distilled.jsonl"))
        assert len(distilled) == 4 and all(e.expected != e.before for e in distilled)
        split = [e for name in ("train", "dev", "test") for e in read_examples(run / "splits" / f"{name}.jsonl")]
        assert sorted(e.id for e in split) == sorted(e.id for e in read_examples(run / "repaired.jsonl"))

        # a rerun resumes every stage: nothing written, no teacher request
        assert cli(["pipeline", str(recipe)]) == 0
        err = capsys.readouterr().err
        assert len(server.state.received) == asked
        assert err.count("written 0") == 5

        assert cli(["pipeline", str(recipe), "--dry-run", "--only", "qa"]) == 0
        err = capsys.readouterr().err
        assert f"zeta2-trainer qa --input {run / 'distilled.jsonl'} --output {run / 'qa.jsonl'}" in err
        assert "pipeline: 1 stages planned" in err


def test_recipe_errors(tmp_path, capsys):
    recipe = tmp_path / "r.toml"
    recipe.write_text('[[stage]]\nrun = "distil"\n')
    assert cli(["pipeline", str(recipe)]) == 2
    assert f"zeta2-trainer pipeline: error: {recipe}: stage 1: unknown stage 'distil'" in capsys.readouterr().err
    recipe.write_text('[[stage]]\nrun = "qa"\noutput = "x.jsonl"\n')
    assert cli(["pipeline", str(recipe)]) == 2
    assert f"error: {recipe}: stage 1 (qa): needs an input (it is the first stage)" in capsys.readouterr().err
    recipe.write_text('[[stage]]\nrun = "qa"\ninput = "a.jsonl"\noutput = "x.jsonl"\ncolour = "red"\n')
    assert cli(["pipeline", str(recipe)]) == 2
    assert f"error: {recipe}: stage 1 (qa): unknown option 'colour'" in capsys.readouterr().err
    recipe.write_text("[[stage]\n")
    assert cli(["pipeline", str(recipe)]) == 2
    assert f"error: {recipe}: invalid TOML" in capsys.readouterr().err
