"""The example schema: typed records, validating JSONL reader and writer."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from zeta2_capture.schema import (
    Example,
    ExampleError,
    JsonlWriter,
    Prediction,
    ReadStats,
    read_examples,
    read_predictions,
    write_jsonl,
)

GOOD = {
    "id": "r@1:a.py#0",
    "path": "pkg/a.py",
    "language": "python",
    "before": "x = 1\n",
    "cursor": 5,
    "events": [{"path": "pkg/a.py", "diff": "--- a/pkg/a.py\n+++ b/pkg/a.py\n@@ -1 +1 @@\n-x\n+x = 1\n", "predicted": False}],
    "related": [{"path": "pkg/b.py", "start_line": 3, "text": "def f(): ...\n", "source": "index"}],
    "diagnostics": [{"start": [0, 0], "end": [0, 1], "severity": "error", "message": "boom", "source": "ruff"}],
    "expected": "x = 12\n",
    "meta": {"kind": "typing"},
}


def write_lines(tmp_path, records, name="train.jsonl"):
    path = tmp_path / name
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


def test_shared_data_files_load(dev_jsonl, train_jsonl):
    for path, count in ((dev_jsonl, 400), (train_jsonl, 4400)):
        stats = ReadStats()
        examples = list(read_examples(path, stats=stats))
        assert len(examples) == count and stats.skipped == 0
        assert all(0 <= e.cursor <= len(e.before) for e in examples)


def test_round_trip_through_jsonl(tmp_path):
    example = Example.from_json(GOOD)
    path = tmp_path / "out.jsonl"
    assert write_jsonl(path, [example, example]) == 2
    again = list(read_examples(path))
    assert again == [example, example]
    assert json.loads(path.read_text().splitlines()[0]) == GOOD


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"cursor": 9120}, "cursor 9120 is past the end of before (6 chars)"),
        ({"cursor": -1}, "cursor -1 is negative"),
        ({"cursor": "3"}, "field 'cursor' must be an integer, got str"),
        ({"before": None}, "field 'before' must be a string, got NoneType"),
        ({"path": "C:\\x.py"}, "path 'C:\\\\x.py' must be repository-relative with '/' separators"),
        ({"events": [{"path": "a.py"}]}, "missing field events[0].'diff'"),
        ({"events": [{"path": "a.py", "diff": "", "predicted": "no"}]}, "field events[0].'predicted' must be true or false"),
        ({"diagnostics": [{**GOOD["diagnostics"][0], "severity": "fatal"}]}, "field diagnostics[0].'severity' must be one of error, warning, information, hint, got 'fatal'"),
        ({"related": [{"path": "b", "start_line": -2, "text": ""}]}, "field related[0].'start_line' must be a non-negative integer"),
        ({"expected": 3}, "field 'expected' must be a string or null, got int"),
    ],
)
def test_bad_records_name_file_line_and_field(tmp_path, change, message):
    path = write_lines(tmp_path, [GOOD, GOOD, {**GOOD, **change}])
    with pytest.raises(ExampleError) as info:
        list(read_examples(path))
    assert str(info.value) == f"{path}:3: {message}"
    assert info.value.line == 3


def test_missing_field_and_bad_json(tmp_path):
    record = dict(GOOD)
    del record["cursor"]
    path = write_lines(tmp_path, [record, "{not json"])
    with pytest.raises(ExampleError, match=r"train.jsonl:1: missing field 'cursor'$"):
        list(read_examples(path))
    stats = ReadStats()
    assert list(read_examples(path, on_error="skip", stats=stats)) == []
    assert stats.skipped == 2
    assert str(stats.errors[1]).endswith("train.jsonl:2: invalid JSON: Expecting property name enclosed in double quotes at column 2")


def test_skip_and_count_keeps_the_good_lines(tmp_path):
    path = write_lines(tmp_path, [GOOD, {**GOOD, "cursor": 99}, "", GOOD])
    stats = ReadStats()
    assert len(list(read_examples(path, on_error="skip", stats=stats))) == 2
    assert (stats.read, stats.skipped) == (2, 1)
    assert stats.summary() == "read 2, skipped 1"


def test_streams_and_stdin_stdout(tmp_path):
    stream = io.StringIO(json.dumps(GOOD) + "\n")
    assert [e.id for e in read_examples(stream)] == ["r@1:a.py#0"]
    code = (
        "import sys; from zeta2_capture.schema import read_examples, write_jsonl; "
        "write_jsonl('-', read_examples('-'))"
    )
    out = subprocess.run([sys.executable, "-c", code], input=json.dumps(GOOD) + "\n", capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == GOOD


def test_predictions(tmp_path):
    path = tmp_path / "p.jsonl"
    with JsonlWriter(path) as writer:
        writer.write(Prediction("a", "text", 12.5, "pack"))
    assert list(read_predictions(path)) == [Prediction("a", "text", 12.5, "pack")]
    write_lines(tmp_path, [{"id": "a", "predicted": "t", "latency_ms": "fast", "model": "m"}], "p.jsonl")
    with pytest.raises(ExampleError, match=r"p.jsonl:1: field 'latency_ms' must be a number"):
        list(read_predictions(path))


def test_noop_examples(dev_jsonl):
    kinds = {e.meta["kind"]: e.is_noop for e in read_examples(dev_jsonl)}
    assert kinds == {"multi_hunk": False, "typing": False, "noop": True}
