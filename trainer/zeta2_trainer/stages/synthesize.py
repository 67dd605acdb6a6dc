"""`zeta2-trainer synthesize REPO -o examples.jsonl [--limit N] [--seed S]`: examples from git history.

The recipe of ../shared/data/README.md (see gitmine.py for the filters):

* multi_hunk: a change of 2-6 hunks within 60 lines; the earlier hunks are the events (each diffed
  against the state the previous one left), the last is the edit to predict; the cursor sits at the
  end of the text the last event inserted.
* typing: a one-hunk change with 8+ non-space inserted characters (at most 1,500): the replaced text is
  deleted and 30-70 % of the new text typed; the cursor sits after the typed prefix.
* noop: a one-hunk change from a commit touching no other source file, complete: expected == before.

Kinds are aimed at 55 / 30 / 15 %, a short pool's share going to the others. Within a kind the
candidates are shuffled with the seed, then re-ranked so a commit repeats only after every other commit
had a turn and a file gets a fourth example only after every other file had three. A (commit, path)
pair is used once, kinds chosen in the order multi_hunk, noop, typing. Same repository, seed and limit:
byte-identical output.
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from typing import Any

KINDS = ("multi_hunk", "typing", "noop")
SHARES = {"multi_hunk": 0.55, "typing": 0.30, "noop": 0.15}
CHOICE_ORDER = ("multi_hunk", "noop", "typing")
DEFAULT_SEED = 20240611


def make_parser(parser: argparse.ArgumentParser) -> None:
    from .common import add_output_args

    parser.add_argument("repo", metavar="REPO_PATH", help="a local git repository (work tree or bare)")
    add_output_args(parser)
    parser.add_argument("--limit", type=int, default=None, help="examples to make at most (default: as many as the kinds' shares allow)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"selection seed (default {DEFAULT_SEED})")
    parser.add_argument("--rev", default="HEAD", help="walk history from this revision (default HEAD)")
    parser.add_argument("--languages", default=None, help="comma-separated languages to keep (default: all of python,javascript,typescript,rust,go)")
    parser.add_argument("--repo-name", default=None, help="owner/name for ids and meta (default: from the origin remote, else the folder name)")


# ---------------------------------------------------------------------------------------------
# selection


def kind_targets(total: int, pools: dict[str, int]) -> dict[str, int]:
    """Shares of `total` per kind, capped by each pool; what a pool cannot fill goes to the others."""
    targets = {k: 0 for k in KINDS}
    open_kinds = [k for k in KINDS if pools.get(k, 0) > 0]
    remaining = total
    while remaining > 0 and open_kinds:
        weight = sum(SHARES[k] for k in open_kinds)
        # largest-remainder rounding keeps the sum exact
        raw = {k: remaining * SHARES[k] / weight for k in open_kinds}
        share = {k: int(raw[k]) for k in open_kinds}
        for k in sorted(open_kinds, key=lambda k: (-(raw[k] - share[k]), KINDS.index(k)))[: remaining - sum(share.values())]:
            share[k] += 1
        progressed = False
        for k in list(open_kinds):
            room = pools[k] - targets[k]
            take = min(room, share[k])
            targets[k] += take
            remaining -= take
            progressed |= take > 0
            if targets[k] >= pools[k]:
                open_kinds.remove(k)
        if not progressed:
            break
    return targets


def rank(candidates: list[Any], seed: int, kind: str) -> list[Any]:
    """Seeded shuffle, then commits round-robin and files capped at 3 before any file gets a 4th."""
    order = list(candidates)
    random.Random(f"{seed}:{kind}").shuffle(order)
    per_commit: Counter = Counter()
    per_file: Counter = Counter()
    keyed = []
    for position, c in enumerate(order):
        commit_turn = per_commit[c.commit]
        file_turn = per_file[c.path]
        per_commit[c.commit] += 1
        per_file[c.path] += 1
        keyed.append(((max(0, file_turn - 2), commit_turn, position), c))
    keyed.sort(key=lambda kv: kv[0])
    return [c for _, c in keyed]


def select(candidates: list[Any], limit: int | None, seed: int) -> list[tuple[str, Any]]:
    pools = {
        "multi_hunk": [c for c in candidates if c.multi],
        "noop": [c for c in candidates if c.isolated],
        "typing": [c for c in candidates if c.typable],
    }
    total = limit if limit is not None else len({(c.commit, c.path) for c in candidates})
    targets = kind_targets(total, {k: len(v) for k, v in pools.items()})
    used: set[tuple[str, str]] = set()
    chosen: list[tuple[str, Any]] = []
    for kind in CHOICE_ORDER:
        taken = 0
        for c in rank(pools[kind], seed, kind):
            if taken >= targets[kind]:
                break
            if (c.commit, c.path) in used:
                continue
            used.add((c.commit, c.path))
            chosen.append((kind, c))
            taken += 1
    return chosen


# ---------------------------------------------------------------------------------------------
# building examples


def build_example(kind: str, c: Any, old: str, new: str, repo: str, seed: int) -> Any:
    from zeta2_capture.diffs import make_diff
    from zeta2_capture.schema import Event, Example

    from .gitmine import apply_hunks, char_edit, split_lines, typing_splits

    old_lines, new_lines = split_lines(old), split_lines(new)
    hunks = c.hunks
    if kind == "multi_hunk":
        states = [apply_hunks(old_lines, new_lines, hunks, k) for k in range(len(hunks))]
        events = tuple(Event(c.path, make_diff(states[k], states[k + 1], c.path)) for k in range(len(hunks) - 1))
        last = hunks[-2]
        prev = split_lines(states[-2])
        # the last event's hunk, located in the state it applied to
        shift = sum(h.new_count - h.old_count for h in hunks[:-2])
        pos, _, inserted = char_edit(states[-2], prev, new_lines[last.new_start : last.new_start + last.new_count], last.old_start + shift, last.old_count)
        before, cursor, expected = states[-1], pos + len(inserted), new
    else:
        h = hunks[0]
        pos, removed, inserted = char_edit(old, old_lines, new_lines[h.new_start : h.new_start + h.new_count], h.old_start, h.old_count)
        if kind == "noop":
            before, cursor, expected = new, pos + len(inserted), new
            events = (Event(c.path, make_diff(old, new, c.path)),)
        else:
            rng = random.Random(f"{seed}:typing:{c.commit}:{c.path}")
            typed = rng.choice(typing_splits(inserted))
            before = old[:pos] + inserted[:typed] + old[pos + len(removed) :]
            cursor, expected = pos + typed, new
            events = (Event(c.path, make_diff(old, before, c.path)),)
    return Example(
        id=f"{repo}@{c.commit[:7]}:{c.path}#0",
        path=c.path,
        language=c.language,
        before=before,
        cursor=cursor,
        events=events,
        expected=expected,
        meta={"repo": repo, "commit": c.commit, "kind": kind, "committed_at": c.committed_at},
    )


def main(args: argparse.Namespace) -> int:
    from zeta2_capture.languages import SUPPORTED

    from .common import Progress, StageError, StageIO
    from .gitmine import (
        MAX_FILE_BYTES,
        MAX_FILE_LINES,
        CatFile,
        Miner,
        check_repository,
        count_commits,
        repo_name,
        split_lines,
    )

    repo = check_repository(args.repo)
    if args.limit is not None and args.limit < 0:
        raise StageError(f"--limit must be 0 or more, got {args.limit}")
    wanted = {"python", "javascript", "typescript", "rust", "go"}
    if args.languages:
        wanted = {x.strip() for x in args.languages.split(",") if x.strip()}
        unknown = sorted(wanted - set(SUPPORTED))
        if unknown:
            raise StageError(f"--languages: unknown language {', '.join(unknown)} (known: {', '.join(SUPPORTED)})")
    if "typescript" in wanted:
        wanted.add("tsx")
    name = args.repo_name or repo_name(repo)
    with StageIO("synthesize", args) as io:
        miner = Miner(repo, frozenset(wanted))
        walk = Progress("synthesize: commits", count_commits(repo, args.rev), not args.no_progress)
        try:
            candidates = list(miner.candidates(args.rev, walk))
        finally:
            walk.close()
        chosen = select(candidates, args.limit, args.seed)
        io.summary.notes["candidates"] = len(candidates)
        io.summary.skipped.update({f"mining: {k}": v for k, v in miner.skipped.items()})
        cat = CatFile(repo)
        kinds: Counter = Counter()
        try:
            for kind, c in chosen:
                example_id = f"{name}@{c.commit[:7]}:{c.path}#0"
                io.summary.read += 1
                if not io.wants(example_id):
                    continue
                old = cat.read(c.old_sha).decode("utf-8")
                new = cat.read(c.new_sha).decode("utf-8")
                example = build_example(kind, c, old, new, name, args.seed)
                # The size limits hold for `before` too (an intermediate state can outgrow both ends).
                if len(example.before.encode()) > MAX_FILE_BYTES or len(split_lines(example.before)) > MAX_FILE_LINES:
                    io.summary.skipped["before too large"] += 1
                    continue
                io.write(example)
                kinds[kind] += 1
        finally:
            cat.close()
        io.summary.notes["kinds"] = " ".join(f"{k} {kinds[k]}" for k in KINDS)
    return 0
