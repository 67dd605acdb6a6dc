"""`zeta2-trainer split`: by repository, then by time; near-duplicates dropped from the later split."""

from __future__ import annotations

from collections import defaultdict

from zeta2_capture.schema import Event, Example, read_examples, write_jsonl
from zeta2_trainer.cli import main as cli


def ex(repo: str, n: int, day: int, change: str = "") -> Example:
    before = f"def f():\n    return {n}\n"
    # letters, not digits: the dedupe key reads every number as the same number
    change = change or "value_" + "".join(chr(97 + int(d)) for d in f"{n:05d}")
    return Example(
        id=f"{repo}@{n:07d}:a.py#0",
        path="a.py",
        language="python",
        before=before,
        cursor=0,
        events=(Event("a.py", f"--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x\n+{change}\n"),),
        expected=before.replace("return", f"return {change} +"),
        meta={"repo": repo, "commit": f"{n:040d}", "kind": "multi_hunk", "committed_at": f"2024-03-{day:02d}T12:00:00+00:00"},
    )


def read_splits(folder) -> dict[str, list[Example]]:
    return {name: list(read_examples(folder / f"{name}.jsonl")) for name in ("train", "dev", "test")}


def test_split_by_repository(tmp_path, capsys):
    examples = [ex(f"org/r{r}", r * 100 + i, 1 + i % 20) for r, size in enumerate([40, 30, 10, 8, 6, 4, 2]) for i in range(size)]
    inp = tmp_path / "in.jsonl"
    write_jsonl(inp, examples)
    assert cli(["split", "-i", str(inp), "-o", str(tmp_path / "out"), "--no-progress"]) == 0
    assert "by repo" in capsys.readouterr().err
    splits = read_splits(tmp_path / "out")
    homes = defaultdict(set)
    for name, items in splits.items():
        assert items, f"{name} is empty"
        for e in items:
            homes[e.meta["repo"]].add(name)
            assert e.meta["split"] == name
    assert all(len(h) == 1 for h in homes.values())  # no repository in two splits
    assert sum(len(v) for v in splits.values()) == len(examples)
    assert len(splits["train"]) >= 0.6 * len(examples)


def test_split_single_repository_by_time_and_dedupe(tmp_path, capsys):
    examples = [ex("org/one", i, 1 + i // 2) for i in range(20)]  # two examples per commit day
    # the same edit again, later (numbers differ): a near-duplicate of example 0, in test by time
    examples.append(ex("org/one", 99, 28, change=examples[0].events[0].diff.splitlines()[-1][1:]))
    inp = tmp_path / "in.jsonl"
    write_jsonl(inp, examples + [examples[3]])  # an exact copy (same id) too
    assert cli(["split", "-i", str(inp), "-o", str(tmp_path / "out"), "--ratios", "0.6,0.2,0.2", "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "by time" in err and "near-duplicate" in err
    splits = read_splits(tmp_path / "out")
    times = {name: [e.meta["committed_at"] for e in items] for name, items in splits.items()}
    assert max(times["train"]) < min(times["dev"]) and max(times["dev"]) < min(times["test"])
    ids = [e.id for items in splits.values() for e in items]
    assert len(ids) == len(set(ids))


def test_near_duplicates_keep_the_training_copy(tmp_path):
    a = ex("org/one", 1, 1, change="limit = 10")
    b = ex("org/one", 2, 20, change="limit = 25")  # same edit, other numbers, later: would be test
    b = Example(**{**{k: getattr(b, k) for k in ("id", "path", "language", "cursor", "events", "meta")}, "before": a.before.replace("1", "2"), "expected": a.expected.replace("1", "2")})
    fillers = [ex("org/one", 10 + i, 2 + i) for i in range(8)]
    inp = tmp_path / "in.jsonl"
    write_jsonl(inp, [b, a, *fillers])
    assert cli(["split", "-i", str(inp), "-o", str(tmp_path / "out"), "--ratios", "0.8,0.1,0.1", "--no-progress"]) == 0
    splits = read_splits(tmp_path / "out")
    kept = [e.id for items in splits.values() for e in items]
    assert a.id in kept and b.id not in kept and a.id in [e.id for e in splits["train"]]


def test_split_real_dev_data(dev_jsonl, tmp_path):
    assert cli(["split", "-i", str(dev_jsonl), "-o", str(tmp_path / "out"), "--by", "time", "--no-progress"]) == 0
    splits = read_splits(tmp_path / "out")
    for repo in ("pypa/packaging", "serde-rs/json"):
        when = {name: sorted(e.meta["committed_at"] for e in items if e.meta["repo"] == repo) for name, items in splits.items()}
        # ISO strings with offsets do not sort as times; compare as datetimes
        from datetime import datetime

        t = {k: [datetime.fromisoformat(x) for x in v] for k, v in when.items()}
        assert t["train"] and t["dev"] and t["test"]
        assert max(t["train"]) <= min(t["dev"]) and max(t["dev"]) <= min(t["test"])
    assert sum(len(v) for v in splits.values()) <= 400


def test_split_errors(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert cli(["split", "-i", str(tmp_path / "file"), "-o", str(tmp_path / "file")]) == 2
    assert f"zeta2-trainer split: error: --output {tmp_path / 'file'} must be a folder" in capsys.readouterr().err
