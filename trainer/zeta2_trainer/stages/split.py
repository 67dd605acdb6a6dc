"""`zeta2-trainer split -i examples.jsonl -o OUTDIR`: train / dev / test by repository, then by time.

* By repository (`--by repo`, the default when there are at least as many repositories as splits): no
  repository is in two splits. Repositories, largest first (ties by a seeded hash), go to the split
  furthest below its share (`--ratios`, default 0.8,0.1,0.1), relative to that share.
* By time (`--by time`, the default with fewer repositories): within each repository, the oldest
  examples go to train, then dev, then test (by `meta.committed_at`); examples of one commit time stay
  together, so no later commit lands in an earlier split.
* Near-duplicates are dropped: examples whose edit (removed and inserted text, and the latest event's
  change) is the same once whitespace runs and numbers are normalised. The copy in the earliest split
  is kept, so dev and test never hold a copy of a training example.

Two passes over the input (a stdin input is spooled to a temporary file first); the first keeps only
(id, repository, time, key) per example. Writes OUTDIR/{train,dev,test}.jsonl with `meta.split` set.
"""

from __future__ import annotations

import argparse
import hashlib
import re
from collections import Counter, defaultdict
from typing import Any

SPLITS = ("train", "dev", "test")


def parse_ratios(text: str) -> tuple[float, float, float]:
    try:
        values = tuple(float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--ratios must be three numbers like 0.8,0.1,0.1, got {text!r}") from None
    if len(values) != 3 or any(v < 0 for v in values) or sum(values) <= 0:
        raise argparse.ArgumentTypeError(f"--ratios must be three non-negative numbers like 0.8,0.1,0.1, got {text!r}")
    total = sum(values)
    return tuple(v / total for v in values)  # type: ignore[return-value]


def make_parser(parser: argparse.ArgumentParser) -> None:
    from .common import Shard, parse_shard

    parser.add_argument("-i", "--input", required=True, help="input JSONL of examples ('-' for stdin)")
    parser.add_argument("-o", "--output", required=True, help="output folder for train.jsonl, dev.jsonl and test.jsonl")
    parser.add_argument("--ratios", type=parse_ratios, default=(0.8, 0.1, 0.1), help="train,dev,test shares (default 0.8,0.1,0.1)")
    parser.add_argument("--by", choices=("auto", "repo", "time"), default="auto", help="split repositories apart, or each repository by time (default auto)")
    parser.add_argument("--seed", type=int, default=0, help="breaks ties between equally large repositories (default 0)")
    parser.add_argument("--no-dedupe", action="store_true", help="keep near-duplicate examples")
    parser.add_argument("--shard", type=parse_shard, default=Shard(), metavar="K/N", help="write only shard K of N (1-based, by id hash)")
    parser.add_argument("--strict", action="store_true", help="fail on the first malformed input line instead of skipping it")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")


def _norm(text: str) -> str:
    return re.sub(r"\d+", "0", re.sub(r"\s+", " ", text)).strip()


def dedupe_key(example: Any) -> str:
    """What makes two examples the same edit: removed and inserted text, and the latest event's change."""
    from .judge import changed_span

    parts = []
    if example.expected is not None and example.expected != example.before:
        start, end = changed_span(example.before, example.expected)
        inserted = example.expected[start : end + len(example.expected) - len(example.before)]
        parts += [_norm(example.before[start:end]), _norm(inserted)]
    else:
        parts.append("<no edit>")
    if example.events:
        diff = example.events[-1].diff
        parts.append(_norm("".join(line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---")))))
    return hashlib.sha1("\x00".join(parts).encode("utf-8")).hexdigest()


def timestamp(meta: dict) -> float:
    from datetime import datetime

    when = meta.get("committed_at") or meta.get("captured_at") or ""
    try:
        return datetime.fromisoformat(str(when).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def assign_by_repo(sizes: dict[str, int], ratios: tuple[float, ...], seed: int) -> dict[str, int]:
    total = sum(sizes.values())
    counts = [0] * len(SPLITS)
    out: dict[str, int] = {}

    def tiebreak(repo: str) -> str:
        return hashlib.sha1(f"{seed}:{repo}".encode()).hexdigest()

    for repo in sorted(sizes, key=lambda r: (-sizes[r], tiebreak(r))):
        deficits = [((ratios[i] * total - counts[i]) / (ratios[i] * total), -i) if ratios[i] > 0 else (float("-inf"), -i) for i in range(len(SPLITS))]
        split = max(range(len(SPLITS)), key=lambda i: deficits[i])
        out[repo] = split
        counts[split] += sizes[repo]
    return out


def assign_by_time(rows: list[tuple[float, str, int]], ratios: tuple[float, ...]) -> dict[int, int]:
    """rows: (time, id, index) of one repository -> index -> split; cuts only between distinct times."""
    rows = sorted(rows)
    n = len(rows)
    bounds = [ratios[0] * n, (ratios[0] + ratios[1]) * n]
    out: dict[int, int] = {}
    split = 0
    for position, (when, _, index) in enumerate(rows):
        while split < 2 and position >= bounds[split] and (position == 0 or rows[position - 1][0] != when):
            split += 1
        out[index] = split
    return out


def main(args: argparse.Namespace) -> int:
    import shutil
    import sys
    import tempfile
    from pathlib import Path
    from types import SimpleNamespace

    from zeta2_capture.schema import JsonlWriter

    from .common import StageError, Summary, ids_in, read_input

    outdir = Path(args.output)
    if outdir.exists() and not outdir.is_dir():
        raise StageError(f"--output {outdir} must be a folder (split writes train.jsonl, dev.jsonl and test.jsonl into it)")
    source = args.input
    spool = None
    if source == "-":
        spool = tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8")
        shutil.copyfileobj(sys.stdin, spool)
        spool.close()
        source = spool.name
    summary = Summary("split")
    fake_io = SimpleNamespace(summary=summary, strict=args.strict)
    try:
        # pass 1: who is where
        rows: list[tuple[str, str, float, str]] = []
        for example in read_input(source, fake_io):  # type: ignore[arg-type]
            rows.append((example.id, str(example.meta.get("repo") or "unknown"), timestamp(example.meta), "" if args.no_dedupe else dedupe_key(example)))
        sizes = Counter(repo for _, repo, _, _ in rows)
        by = args.by
        if by == "auto":
            by = "repo" if len(sizes) >= sum(1 for r in args.ratios if r > 0) else "time"
        split_of: list[int] = [0] * len(rows)
        if by == "repo":
            repo_split = assign_by_repo(dict(sizes), args.ratios, args.seed)
            split_of = [repo_split[repo] for _, repo, _, _ in rows]
        else:
            per_repo: dict[str, list[tuple[float, str, int]]] = defaultdict(list)
            for index, (id_, repo, when, _) in enumerate(rows):
                per_repo[repo].append((when, id_, index))
            for repo_rows in per_repo.values():
                for index, split in assign_by_time(repo_rows, args.ratios).items():
                    split_of[index] = split
        drop: set[int] = set()
        if not args.no_dedupe:
            first: dict[str, int] = {}
            for index in sorted(range(len(rows)), key=lambda i: (split_of[i], i)):
                key = rows[index][3]
                if key in first:
                    drop.add(index)
                else:
                    first[key] = index
        # pass 2: write
        outdir.mkdir(parents=True, exist_ok=True)
        done: set[str] = set()
        for name in SPLITS:
            done |= ids_in(outdir / f"{name}.jsonl")
        writers = [JsonlWriter(outdir / f"{name}.jsonl", append=True) for name in SPLITS]
        written = Counter()
        summary.read = 0
        try:
            for index, example in enumerate(read_input(source, fake_io, report=False)):  # type: ignore[arg-type]
                if index in drop:
                    summary.skipped["near-duplicate"] += 1
                elif not args.shard.owns(example.id):
                    summary.skipped["other shard"] += 1
                elif example.id in done:
                    summary.skipped["already done"] += 1
                else:
                    name = SPLITS[split_of[index]]
                    writers[split_of[index]].write({**example.to_json(), "meta": {**example.meta, "split": name}})
                    written[name] += 1
                    summary.written += 1
        finally:
            for w in writers:
                w.close()
        summary.notes["by"] = by
        summary.notes["repositories"] = len(sizes)
        summary.notes["splits"] = " ".join(f"{name} {written[name]}" for name in SPLITS)
        print(summary.line(), file=sys.stderr)
    finally:
        if spool is not None:
            Path(spool.name).unlink(missing_ok=True)
    return 0
