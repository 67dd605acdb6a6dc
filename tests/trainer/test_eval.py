"""`zeta2-trainer eval` on real dev examples: the sanity anchor (predicting nothing), a perfect system, the
paired comparison, the report files, and bad input."""

from __future__ import annotations

import json
from collections import Counter
from itertools import islice

import pytest

from zeta2_trainer import cli


@pytest.fixture(scope="module")
def dev_sample(tmp_path_factory, dev_jsonl):
    """Every 10th dev example: both dev repositories, all three kinds (multi_hunk, typing, noop)."""
    from zeta2_capture.schema import read_examples, write_jsonl

    examples = list(islice(read_examples(dev_jsonl), 0, None, 10))
    assert {e.meta["kind"] for e in examples} == {"multi_hunk", "typing", "noop"}
    path = tmp_path_factory.mktemp("dev") / "dev40.jsonl"
    write_jsonl(path, examples)
    return path, examples


def write_predictions(path, examples, text_of, model):
    with open(path, "w", encoding="utf-8") as f:
        for n, e in enumerate(examples):
            f.write(json.dumps({"id": e.id, "predicted": text_of(e), "latency_ms": float(10 + n), "model": model}) + "\n")
    return path


def collapsed_chars(text: str) -> Counter:
    from zeta2_capture.metrics import collapse_whitespace

    return Counter(collapse_whitespace(text))


def test_sanity_anchor_predicting_nothing(tmp_path, dev_sample, capsys):
    """No edit scores 100 where none is expected and 0 where an edit is, except for edits that move
    characters without changing which ones occur (e.g. fixing a transposed typo): there the unigram
    deltas of expected and actual are both empty, which the metric's definition scores 1 for that order."""
    path, examples = dev_sample
    nothing = write_predictions(tmp_path / "nothing.jsonl", examples, lambda e: e.before, "nothing")
    out = tmp_path / "report"
    assert cli.main(["eval", "-i", str(path), "--predictions", str(nothing), "-o", str(out), "--resamples", "200"]) == 0
    scores = {json.loads(line)["id"]: json.loads(line) for line in (out / "scores.jsonl").read_text().splitlines()}
    checked_zero = 0
    for e in examples:
        s = scores[e.id]
        assert s["predicted_noop"] is True
        if e.is_noop:
            assert s["delta_chrf"] == 100.0 and s["exact_match"] is True
        elif collapsed_chars(e.before) != collapsed_chars(e.expected):
            assert s["delta_chrf"] == 0.0, e.id
            checked_zero += 1
    assert checked_zero >= 30
    report = json.loads((out / "report.json").read_text())
    [system] = report["systems"]
    overall = system["overall"]
    assert overall["noop_rate"] == 1.0 and overall["false_suggestion_rate"] == 0.0
    assert overall["delta_chrf_expecting_edit"] < 5.0
    assert system["by_kind"]["noop"]["delta_chrf"] == 100.0
    assert set(system["by_language"]) == {e.language for e in examples}
    assert overall["latency_p50_ms"] == pytest.approx(10 + (len(examples) - 1) / 2)
    assert overall["parse_rate"] is None  # a foreign predictions file does not say whether answers parsed
    # The reference row scores the expected edits themselves.
    reference = report["reference"]["overall"]
    assert reference["delta_chrf"] == 100.0 and reference["exact_match"] == 1.0 and reference["false_suggestion_rate"] == 0.0
    assert reference["noop_rate"] == pytest.approx(sum(e.is_noop for e in examples) / len(examples))
    assert reference["latency_p50_ms"] is None and reference["parse_rate"] is None
    from zeta2_capture.metrics import reversal_ratio

    typing_edits = [e for e in examples if e.meta["kind"] == "typing" and not e.is_noop]
    expected = sum(reversal_ratio(e.before, e.expected, e.events) for e in typing_edits) / len(typing_edits)
    assert report["reference"]["by_kind"]["typing"]["reversal_ratio"] == pytest.approx(expected)
    assert expected > 0.1  # a mined typing example restores text its last event replaced
    md = (out / "report.md").read_text()
    assert md.count("| _the expected edits (reference)_ | ") == 1 + len(system["by_kind"]) + len(system["by_language"])


def test_perfect_system_beats_nothing_with_a_ci_that_excludes_zero(tmp_path, dev_sample, capsys):
    path, examples = dev_sample
    nothing = write_predictions(tmp_path / "nothing.jsonl", examples, lambda e: e.before, "nothing")
    perfect = write_predictions(tmp_path / "perfect.jsonl", examples, lambda e: e.expected, "perfect")
    out = tmp_path / "report"
    assert cli.main(["eval", "-i", str(path), "--predictions", str(nothing), "--predictions", str(perfect), "-o", str(out), "--resamples", "1000"]) == 0
    printed = capsys.readouterr().out
    report = json.loads((out / "report.json").read_text())
    best = report["systems"][1]["overall"]
    assert best["delta_chrf"] == 100.0 and best["exact_match"] == 1.0 and best["false_suggestion_rate"] == 0.0
    assert best["recall_rate"] == 1.0 and best["kept_rate"] == 1.0
    [c] = report["comparisons"]
    assert (c["a"], c["b"]) == ("nothing", "perfect")
    assert c["delta_chrf"]["excludes_zero"] and c["delta_chrf"]["ci_low"] > 50
    assert c["b_worse"] == 0
    assert "| perfect vs nothing |" in printed
    # Markdown and a self-contained HTML page with the three plots.
    md = (out / "report.md").read_text()
    assert "## By kind (meta.kind)" in md and "### typing" in md
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 3
    for name in ("delta_chrf_hist.png", "latency_hist.png", "per_language.png"):
        assert (out / name).stat().st_size > 1000


def test_bad_predictions_name_the_file_and_line(tmp_path, dev_sample, capsys):
    path, examples = dev_sample
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "nope", "predicted": "", "latency_ms": 1.0, "model": "m"}) + "\n")
    assert cli.main(["eval", "-i", str(path), "--predictions", str(bad), "-o", str(tmp_path / "r")]) == 2
    assert f"{bad}:1: prediction for id 'nope', which is not among the examples" in capsys.readouterr().err
    e = examples[0]
    record = json.dumps({"id": e.id, "predicted": e.before, "latency_ms": 1.0, "model": "m"})
    bad.write_text(record + "\n" + record + "\n")
    assert cli.main(["eval", "-i", str(path), "--predictions", str(bad), "-o", str(tmp_path / "r")]) == 2
    assert f"{bad}:2: second prediction for id {e.id!r}" in capsys.readouterr().err
    bad.write_text(json.dumps({"id": e.id, "predicted": e.before, "model": "m"}) + "\n")
    assert cli.main(["eval", "-i", str(path), "--predictions", str(bad), "-o", str(tmp_path / "r")]) == 2
    assert "latency_ms" in capsys.readouterr().err
    assert cli.main(["eval", "-i", str(path), "-o", str(tmp_path / "r")]) == 2
    assert "give at least one --predictions file or --model pack" in capsys.readouterr().err


def test_guardrails_score_what_the_daemon_would_show(tmp_path, dev_sample, capsys):
    """A system that undoes each example's last edit: raw, it makes edits; served, the daemon's revert
    guardrail suppresses every one of them, so it scores exactly like predicting nothing."""
    from zeta2_capture.metrics import parse_user_changes, undo_user_changes

    path, examples = dev_sample
    undone = {}
    for e in examples:
        text = undo_user_changes(e.before, parse_user_changes(e.events[-1].diff, e.before))
        if text is not None and text != e.before:
            undone[e.id] = text
    assert len(undone) >= 20
    revert = write_predictions(tmp_path / "revert.jsonl", examples, lambda e: undone.get(e.id, e.before), "revert")
    nothing = write_predictions(tmp_path / "nothing.jsonl", examples, lambda e: e.before, "nothing")
    out = tmp_path / "served"
    args = ["eval", "-i", str(path), "--predictions", str(nothing), "--predictions", str(revert), "--resamples", "200", "--no-html"]
    assert cli.main([*args, "-o", str(out), "--guardrails", "medium"]) == 0
    printed = capsys.readouterr().out
    assert "Scored as served: the daemon's guardrails at aggressiveness medium" in printed
    report = json.loads((out / "report.json").read_text())
    assert report["guardrails"] == "medium"
    nothing_row, revert_row = (s["overall"] for s in report["systems"])
    assert revert_row["suppressed_by"] == {"reverts-last-edit": len(undone)}
    assert revert_row["suppressed_rate"] == pytest.approx(len(undone) / len(examples))
    assert nothing_row["suppressed_rate"] == 0.0 and nothing_row["suppressed_by"] == {}
    assert revert_row["delta_chrf"] == nothing_row["delta_chrf"] and revert_row["noop_rate"] == 1.0
    scores = [json.loads(line) for line in (out / "scores.jsonl").read_text().splitlines()]
    assert {s["suppressed"] for s in scores if s["system"] == "revert" and s["id"] in undone} == {"reverts-last-edit"}
    # Scored raw, the same file makes those edits and has no suppression column.
    assert cli.main([*args, "-o", str(tmp_path / "raw")]) == 0
    raw = json.loads((tmp_path / "raw" / "report.json").read_text())
    assert raw["systems"][1]["overall"]["noop_rate"] < 1.0 and "suppressed_rate" not in raw["systems"][1]["overall"]
    assert "| suppressed |" not in capsys.readouterr().out
