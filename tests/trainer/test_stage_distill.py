"""`zeta2-trainer distill` against the loopback teacher: prompts, parsing, rejects, cache, resume, kill."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from loopback import API_KEY, LoopbackServer

from zeta2_capture.diffs import make_diff
from zeta2_capture.schema import Event, Example, read_examples, write_jsonl
from zeta2_trainer.cli import main as cli

REGION = re.compile(r"<\|editable_region_start\|>(.*?)<\|editable_region_end\|>", re.S)
ADDED = "    total += 1  # teacher\n"


def teacher_answer(system: str, user: str) -> str:
    """Rewrites the marked region: drops the cursor marker, adds one line at its end."""
    if "Current file: bad.py" in user:
        return "I am not sure what the user wants here."
    region = REGION.search(user).group(1).replace("<|user_cursor|>", "")
    return f"The user counts things; add one more.\n\n```python\n{region}{ADDED}```\n"


def make_example(i: int, path: str = "") -> Example:
    old = "".join(f"def f{k}(total):\n    total = {k}\n    return total\n\n\n" for k in range(12))
    before = old.replace("    total = 5\n", "    total = 5\n    total *= 2\n")
    cursor = before.index("total *= 2") + len("total *= 2")
    path = path or f"pkg/mod{i}.py"
    return Example(
        id=f"acme@{i:07d}:{path}#0",
        path=path,
        language="python",
        before=before,
        cursor=cursor,
        events=(Event(path, make_diff(old, before, path)),),
        expected=before.replace("    return total\n", "    return total + 1\n", 6),
        meta={"repo": "acme", "commit": f"{i:040d}", "kind": "multi_hunk", "committed_at": f"2024-01-{i % 28 + 1:02d}T00:00:00+00:00"},
    )


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)


def distill(server: LoopbackServer, inp: Path, out: Path, cache: Path, tokenizer: Path, *extra: str) -> int:
    return cli(
        ["distill", "-i", str(inp), "-o", str(out), "--base-url", server.anthropic_url, "--cache", str(cache),
         "--tokenizer", str(tokenizer), "--backoff", "0.01", "--no-progress", *extra]
    )


def test_distill_prompt_answer_rejects_and_cache(env, tmp_path, smollm2_tokenizer_json, capsys):
    inp = tmp_path / "in.jsonl"
    write_jsonl(inp, [make_example(0), make_example(1), make_example(2, "bad.py")])
    out, cache = tmp_path / "out.jsonl", tmp_path / "cache.sqlite"
    with LoopbackServer(teacher_answer) as server:
        assert distill(server, inp, out, cache, smollm2_tokenizer_json) == 0
        assert server.state.violations == [] and len(server.state.received) == 3
        summary = capsys.readouterr().err
        assert "distill: read 3, written 2, rejected 1 (no code block in the answer: 1), skipped 0" in summary

        (body,) = [r.body for r in server.state.received if "Current file: pkg/mod0.py" in r.body["messages"][0]["content"]]
        system, user = body["system"], body["messages"][0]["content"]
        for rule in ("finish what they started: complete partial refactors", "Weigh the most recent edits most", "typing in progress",
                     "Keep the file's formatting", "Never delete or undo text the developer just added",
                     "small edit you are confident in, or no edit at all"):
            assert rule in " ".join(system.split())
        example = make_example(0)
        assert example.events[0].diff in user  # the history, as the diff itself
        marked = REGION.search(user).group(1)
        assert "total *= 2<|user_cursor|>" in marked

        got = {e.id: e for e in read_examples(out)}
        for i in (0, 1):
            ex, source = got[make_example(i).id], make_example(i)
            start, end = ex.meta["distill"]["region"]
            assert start <= source.cursor <= end
            assert ex.expected == source.before[:start] + source.before[start:end] + ADDED + source.before[end:]
            assert ex.meta["reference_expected"] == source.expected  # the commit's label is kept
            assert ex.meta["distill"]["intent"] == "The user counts things; add one more."
            assert ex.meta["distill"]["teacher"] == "anthropic:claude-sonnet-4-5"
            assert ex.meta["repo"] == "acme"
        (rejected,) = read_examples(tmp_path / "out.rejects.jsonl")
        assert rejected.id == make_example(2, "bad.py").id
        assert rejected.meta["distill"]["error"] == "no code block in the answer"
        assert rejected.meta["distill"]["answer"] == "I am not sure what the user wants here."

        # rerun into the same output: nothing to do; into a fresh output: all from the cache
        assert distill(server, inp, out, cache, smollm2_tokenizer_json) == 0
        assert "written 0, rejected 0, skipped 3 (already done: 3)" in capsys.readouterr().err
        fresh = tmp_path / "fresh.jsonl"
        assert distill(server, inp, fresh, cache, smollm2_tokenizer_json) == 0
        assert len(server.state.received) == 3  # cache hits cost zero requests
        assert "requests 0, cache hits 3" in capsys.readouterr().err
        assert [e.expected for e in read_examples(fresh)] == [e.expected for e in read_examples(out)]


def test_distill_openai_provider_and_outage(env, tmp_path, smollm2_tokenizer_json, capsys):
    inp = tmp_path / "in.jsonl"
    write_jsonl(inp, [make_example(i) for i in range(3)])
    out, cache = tmp_path / "out.jsonl", tmp_path / "cache.sqlite"
    # the teacher is down for longer than the retries last: nothing is lost, a rerun finishes the job
    with LoopbackServer(teacher_answer, faults=["500"] * 6) as server:
        args = ["--provider", "openai", "--model", "gpt-5-mini", "--retries", "2", "--concurrency", "1"]
        code = cli(["distill", "-i", str(inp), "-o", str(out), "--base-url", server.openai_url, "--cache", str(cache),
                    "--tokenizer", str(smollm2_tokenizer_json), "--backoff", "0.01", "--no-progress", *args])
        assert code == 1
        err = capsys.readouterr().err
        assert "skipped 3 (teacher error: 3)" in err and "rerun the same command to retry them" in err
        assert out.read_text() == ""
        code = cli(["distill", "-i", str(inp), "-o", str(out), "--base-url", server.openai_url, "--cache", str(cache),
                    "--tokenizer", str(smollm2_tokenizer_json), "--backoff", "0.01", "--no-progress", *args])
        assert code == 0 and len(list(read_examples(out))) == 3
        assert server.state.violations == []
        assert all(r.body["model"] == "gpt-5-mini" for r in server.state.received)


def test_malformed_lines_are_skipped_or_fatal_with_strict(env, tmp_path, smollm2_tokenizer_json, capsys):
    inp = tmp_path / "in.jsonl"
    good = json.dumps(make_example(0).to_json())
    inp.write_text(good + "\n{not json\n" + json.dumps({"id": "x"}) + "\n")
    with LoopbackServer(teacher_answer) as server:
        assert distill(server, inp, tmp_path / "out.jsonl", tmp_path / "c.sqlite", smollm2_tokenizer_json) == 0
        err = capsys.readouterr().err
        assert f"distill: skipped {inp}:2: invalid JSON" in err
        assert f"distill: skipped {inp}:3: missing field 'path'" in err
        assert "read 1, written 1" in err and "skipped 2 (malformed line: 2)" in err
        assert distill(server, inp, tmp_path / "strict.jsonl", tmp_path / "c.sqlite", smollm2_tokenizer_json, "--strict") == 2
        assert f"zeta2-trainer distill: error: malformed input line (--strict): {inp}:2: invalid JSON" in capsys.readouterr().err


def test_killed_distill_resumes_with_each_id_once(tmp_path, smollm2_tokenizer_json):
    n = 16
    inp, out, cache = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "cache.sqlite"
    write_jsonl(inp, [make_example(i) for i in range(n)])
    env = dict(os.environ, ANTHROPIC_API_KEY=API_KEY)
    with LoopbackServer(teacher_answer, latency=0.25) as server:
        cmd = [sys.executable, "-m", "zeta2_trainer.cli", "distill", "-i", str(inp), "-o", str(out), "--base-url",
               server.anthropic_url, "--cache", str(cache), "--tokenizer", str(smollm2_tokenizer_json), "--concurrency", "2"]
        proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not out.exists() or out.read_text().count("\n") < 3):
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        written = out.read_text().count("\n")
        assert 3 <= written < n, "the kill must land mid-run"
        server.state.latency = 0.0
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert f"skipped {written} (already done: {written})" in done.stderr
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert sorted(ids) == sorted(make_example(i).id for i in range(n))  # each id exactly once


def test_teacher_region_is_the_students_region(dev_jsonl, smollm2_tokenizer_json):
    """RegionFinder skips rendering the whole prompt; its region must still be the renderer's."""
    import itertools

    from zeta2_capture.prompt import Renderer
    from zeta2_trainer.stages.teacher_prompt import RegionFinder

    renderer = Renderer.from_file(smollm2_tokenizer_json, "smollm2")
    finder = RegionFinder(smollm2_tokenizer_json)
    for example in itertools.islice(read_examples(dev_jsonl), 0, 400, 20):
        layout = renderer.render_prompt(example).layout
        assert finder.region(example) == (layout.start, layout.end), example.id
