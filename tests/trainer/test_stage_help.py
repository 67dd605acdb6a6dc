"""`--help` of every data stage: it works, and lists the options the docs promise."""

from __future__ import annotations

import subprocess
import sys

import pytest

from zeta2_trainer.cli import main as cli

EXPECTED = {
    "synthesize": ["REPO_PATH", "--output", "--limit", "--seed", "--languages", "--shard", "--rev"],
    "ingest": ["--input", "--output", "--kinds", "--repo", "--strict", "--shard", "--rejects"],
    "distill": ["--input", "--output", "--provider", "--model", "--base-url", "--concurrency", "--retries", "--cache", "--templates", "--tokenizer"],
    "qa": ["--input", "--output", "--tokenizer", "--strict", "--judge", "--provider"],
    "repair": ["--input", "--output", "--provider", "--cache", "--templates"],
    "filter-settled": ["--pack", "--samples", "--band", "--statistic", "--temperature", "--top-p", "--report"],
    "split": ["--ratios", "--by", "--no-dedupe", "--shard"],
    "pipeline": ["recipe", "--dry-run", "--only"],
}


@pytest.mark.parametrize("command", sorted(EXPECTED))
def test_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        cli([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for option in EXPECTED[command]:
        assert option in out, f"{command} --help lacks {option}"


def test_help_is_fast_without_heavy_imports():
    # Stage modules import heavy things inside main(); --help must not load torch or transformers.
    code = "import sys; from zeta2_trainer.stages import synthesize, distill, qa, repair, split, ingest, pipeline, filter_settled; " \
           "print('torch' in sys.modules, 'transformers' in sys.modules, 'httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False", "False"]
