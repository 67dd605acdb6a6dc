"""The end-to-end recipe (synthesize -> split -> bootstrap -> train -> export -> eval) is a valid pipeline:
every stage exists and every key is an option of that stage (checked by `pipeline --dry-run`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import zeta2_trainer
from zeta2_trainer import cli

RECIPE = Path(zeta2_trainer.__file__).parent / "recipes" / "end_to_end.toml"


def test_end_to_end_recipe_plans_every_stage(tmp_path, capsys):
    recipe = tmp_path / "end_to_end.toml"
    shutil.copy(RECIPE, recipe)
    assert cli.main(["pipeline", str(recipe), "--dry-run"]) == 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("pipeline: zeta2-trainer ")]
    assert [line.split()[2] for line in lines] == ["synthesize", "split", "bootstrap", "train", "export", "eval"]
    train = next(line for line in lines if " train " in line)
    assert f"--input {tmp_path}/split/train.jsonl" in train and "--max-prompt-tokens 1024 --steps 200" in train
    evaluate = lines[-1]
    # Paths in a recipe are relative to its workdir, lists included.
    packs = tmp_path / "packs"
    assert f"--model {packs}/base --model {packs}/new --cursor-baseline {packs}/base" in evaluate
    assert "--record" in evaluate
    bootstrap = next(line for line in lines if " bootstrap " in line)
    assert bootstrap.endswith("--untrained")  # the base to beat is the plain model, not the default adapter
    assert "pipeline: 6 stages planned" in err
