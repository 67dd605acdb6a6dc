"""`zeta2-trainer filter-settled` with the tiny test pack through the daemon's real Predictor."""

from __future__ import annotations

import itertools
import json

import pytest

from zeta2_capture.schema import read_examples, write_jsonl
from zeta2_trainer.cli import main as cli


def test_keeps_the_configured_band(tiny_pack, dev_jsonl, tmp_path, capsys):
    inp, out, report = tmp_path / "settled.jsonl", tmp_path / "kept.jsonl", tmp_path / "report.json"
    write_jsonl(inp, list(itertools.islice(read_examples(dev_jsonl), 4)))
    lo, hi = 0.02, 0.5
    argv = ["filter-settled", "-i", str(inp), "-o", str(out), "--pack", str(tiny_pack), "--samples", "6",
            "--max-output-tokens", "48", "--band", f"{lo},{hi}", "--report", str(report), "--device", "cpu", "--no-progress"]
    assert cli(argv) == 0
    kept = list(read_examples(out))
    rejected = list(read_examples(tmp_path / "kept.rejects.jsonl"))
    assert len(kept) + len(rejected) == 4
    for example in kept + rejected:
        info = example.meta["filter"]
        assert len(info["distances"]) == len(info["normalized"]) == info["samples"] == 6
        assert all(d >= 0 for d in info["distances"]) and all(0 <= x <= 1 for x in info["normalized"])
        decode = info["decode"]
        assert decode["output_tokens"] >= 6 and 0 <= decode["capped"] + decode["looped"] <= 6 and decode["tokens_per_forward"] >= 1
    for example in kept:
        assert lo <= example.meta["filter"]["statistic"] <= hi and example.meta["filter"]["verdict"] == "kept"
    for example in rejected:
        value, verdict = example.meta["filter"]["statistic"], example.meta["filter"]["verdict"]
        assert (value < lo and verdict == "trivial") or (value > hi and verdict == "out of reach")
    # sampling, not greedy: the samples of some example differ
    assert any(len(set(e.meta["filter"]["normalized"])) > 1 or e.meta["filter"]["distinct"] > 1 for e in kept + rejected)
    data = json.loads(report.read_text())
    assert data["examples"] == 4 and sum(data["histogram"]["counts"]) == 4 and data["band"] == [lo, hi]
    assert data["kept"] == len(kept)
    assert "kept band 0.02..0.5" in capsys.readouterr().err


def test_filter_settled_errors(tmp_path, capsys):
    inp = tmp_path / "in.jsonl"
    inp.write_text("")
    assert cli(["filter-settled", "-i", str(inp), "-o", str(tmp_path / "o.jsonl"), "--pack", str(tmp_path / "nopack")]) == 2
    assert f"zeta2-trainer filter-settled: error: model pack {tmp_path / 'nopack'} does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli(["filter-settled", "-i", str(inp), "-o", "-", "--pack", ".", "--band", "0.7,0.2"])
    assert "--band needs 0 <= LO <= HI <= 1, got '0.7,0.2'" in capsys.readouterr().err
