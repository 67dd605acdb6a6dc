"""`zeta2-trainer predict`: bad packs and bad options are one-line errors naming what is wrong.
(The end-to-end predict on a trained pack is in test_train.py.)"""

from __future__ import annotations

from zeta2_trainer import cli


def test_missing_pack_is_a_clear_error(tmp_path, capsys):
    examples = tmp_path / "e.jsonl"
    examples.write_text("")
    assert cli.main(["predict", "--model", str(tmp_path / "nowhere"), "-i", str(examples)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("zeta2-trainer predict: error: ") and str(tmp_path / "nowhere") in err


def test_pack_with_a_broken_manifest_is_a_clear_error(tmp_path, capsys):
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "manifest.json").write_text("{not json")
    examples = tmp_path / "e.jsonl"
    examples.write_text("")
    assert cli.main(["predict", "--model", str(pack), "-i", str(examples)]) == 2
    err = capsys.readouterr().err
    assert "manifest.json" in err and err.count("\n") == 1


def test_negative_limit(tmp_path, capsys):
    assert cli.main(["predict", "--model", str(tmp_path), "-i", "-", "--limit", "-1"]) == 2
    assert "--limit must be at least 0, got -1" in capsys.readouterr().err
