"""make_diff vs difflib vs a git subprocess, and apply_diff, over every event of a JSONL file.

    .venv/bin/python bench/foundation/bench_diffs.py ../shared/data/dev.jsonl
"""

import difflib
import json
import subprocess
import sys
import tempfile
import time

from zeta2_capture.diffs import apply_diff, make_diff, reverse_diff


def event_pairs(path):
    """(old, new, path, diff) for every event, the states rebuilt from `before` backwards."""
    pairs = []
    for line in open(path, encoding="utf-8"):
        example = json.loads(line)
        text = example["before"]
        states = [text]
        for event in reversed(example["events"]):
            text = apply_diff(text, reverse_diff(event["diff"]))
            states.append(text)
        states.reverse()
        pairs += [(states[i], states[i + 1], e["path"], e["diff"]) for i, e in enumerate(example["events"])]
    return pairs


def ms_per_pair(fn, sample, rounds=3):
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for pair in sample:
            fn(*pair)
        best = min(best, time.perf_counter() - start)
    return best / len(sample) * 1e3


def main():
    pairs = event_pairs(sys.argv[1])
    ours = ms_per_pair(lambda a, b, p, d: make_diff(a, b, p), pairs)
    lib = ms_per_pair(
        lambda a, b, p, d: "".join(difflib.unified_diff(a.splitlines(True), b.splitlines(True), "a/" + p, "b/" + p)),
        pairs,
    )
    applied = ms_per_pair(lambda a, b, p, d: apply_diff(a, d), pairs)
    with tempfile.TemporaryDirectory() as tmp:

        def git(a, b, p, d):
            with open(tmp + "/o", "w") as f:
                f.write(a)
            with open(tmp + "/n", "w") as f:
                f.write(b)
            subprocess.run(["git", "diff", "--no-index", "--no-indent-heuristic", "o", "n"], cwd=tmp, capture_output=True)

        git_ms = ms_per_pair(git, pairs[:100], 1)
    print(
        f"{len(pairs)} pairs, ms/pair: make_diff {ours:.2f} | difflib.unified_diff {lib:.2f} "
        f"(make_diff/difflib {ours / lib:.2f}x) | git diff subprocess {git_ms:.2f} (git/make_diff {git_ms / ours:.1f}x)"
        f" | apply_diff {applied:.3f}"
    )


if __name__ == "__main__":
    main()
