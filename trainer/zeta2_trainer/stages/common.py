"""What every data stage shares: reading and writing schema JSONL as a stream, resuming by id,
`--shard K/N`, a progress bar on a terminal, `--strict`, and the one-line summary.

A stage is resumable because its output is appended one flushed line per example: a rerun reads the
ids already in the output (and in the rejects file, where unusable examples are recorded with their
reason) and skips them. A line cut short by a kill is removed before appending.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..errors import UserError


class StageError(UserError):
    """A stage cannot run: a bad option, a missing file, a malformed line under --strict."""


# ---------------------------------------------------------------------------------------------
# options


@dataclass(frozen=True)
class Shard:
    """Shard `index` (1-based) of `count`: the examples whose id hashes to it."""

    index: int = 1
    count: int = 1

    def owns(self, key: str) -> bool:
        if self.count == 1:
            return True
        digest = hashlib.sha1(key.encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    parts = text.split("/")
    try:
        index, count = (int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard must be K/N with whole numbers, got {text!r}") from None
    if count < 1 or not 1 <= index <= count:
        raise argparse.ArgumentTypeError(f"--shard K/N needs 1 <= K <= N, got {text!r}")
    return Shard(index, count)


def add_output_args(parser: argparse.ArgumentParser, *, rejects: bool = False) -> None:
    parser.add_argument("-o", "--output", required=True, help="output JSONL ('-' for stdout); a rerun appends and skips ids already there")
    if rejects:
        parser.add_argument(
            "--rejects",
            default=None,
            help="JSONL of examples that could not be used, with the reason in meta (default: OUTPUT with .rejects.jsonl)",
        )
    parser.add_argument("--shard", type=parse_shard, default=Shard(), metavar="K/N", help="process only shard K of N (1-based, by id hash)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")


def add_io_args(parser: argparse.ArgumentParser, *, rejects: bool = False) -> None:
    parser.add_argument("-i", "--input", required=True, help="input JSONL of examples ('-' for stdin)")
    add_output_args(parser, rejects=rejects)
    parser.add_argument("--strict", action="store_true", help="fail on the first malformed input line instead of skipping it")


# ---------------------------------------------------------------------------------------------
# resuming


def ids_in(path: Path) -> set[str]:
    """Ids of the complete lines of a JSONL file; a final line cut short by a kill is truncated away."""
    ids: set[str] = set()
    if not path.exists():
        return ids
    good_end = 0
    with open(path, "rb") as f:
        offset = 0
        for raw in f:
            offset += len(raw)
            if not raw.endswith(b"\n"):
                break  # a partial last line: the process died while writing it
            good_end = offset
            try:
                obj = json.loads(raw)
            except ValueError:
                continue
            if isinstance(obj, dict) and isinstance(obj.get("id"), str):
                ids.add(obj["id"])
    if good_end != path.stat().st_size:
        with open(path, "r+b") as f:
            f.truncate(good_end)
    return ids


def default_rejects(output: str) -> str | None:
    if output == "-":
        return None
    path = Path(output)
    stem = path.name[: -len(".jsonl")] if path.name.endswith(".jsonl") else path.name
    return str(path.with_name(stem + ".rejects.jsonl"))


# ---------------------------------------------------------------------------------------------
# running


class Progress:
    """A tqdm bar (rate and ETA) on a terminal; nothing otherwise."""

    def __init__(self, desc: str, total: int | None, enabled: bool):
        self._bar = None
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=desc, unit="ex", file=sys.stderr, dynamic_ncols=True)

    def update(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


@dataclass
class Summary:
    """Counts for the one-line summary: read, written, rejected and skipped, each with reasons."""

    stage: str
    read: int = 0
    written: int = 0
    rejected: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    notes: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def line(self) -> str:
        def counted(label: str, counter: Counter) -> str:
            total = sum(counter.values())
            if not total:
                return f"{label} 0"
            reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))
            return f"{label} {total} ({reasons})"

        parts = [f"read {self.read}", f"written {self.written}", counted("rejected", self.rejected), counted("skipped", self.skipped)]
        parts += [f"{k} {v}" for k, v in self.notes.items()]
        parts.append(f"in {time.monotonic() - self.started:.1f}s")
        return f"{self.stage}: " + ", ".join(parts)


class StageIO:
    """Output (and rejects) writers opened for appending, the ids already done, the shard, the summary.

    Use as a context manager; on exit the summary line goes to stderr.
    """

    def __init__(self, stage: str, args: argparse.Namespace, *, total: int | None = None):
        from zeta2_capture.schema import JsonlWriter

        self.summary = Summary(stage)
        self.shard: Shard = getattr(args, "shard", Shard())
        self.strict: bool = getattr(args, "strict", False)
        self.output = args.output
        self.done: set[str] = set()
        rejects = getattr(args, "rejects", None)
        if rejects is None and hasattr(args, "rejects"):
            rejects = default_rejects(args.output)
        self.rejects_path = rejects
        if self.output != "-":
            self.done |= ids_in(Path(self.output))
        if self.rejects_path:
            self.done |= ids_in(Path(self.rejects_path))
        self._writer = JsonlWriter(self.output, append=True)
        self._rejects = JsonlWriter(self.rejects_path, append=True) if self.rejects_path else None
        self.progress = Progress(stage, total, not getattr(args, "no_progress", False))

    def wants(self, example_id: str) -> bool:
        """False (and counted) when the id is in another shard or already done."""
        if not self.shard.owns(example_id):
            self.summary.skipped["other shard"] += 1
            self.progress.update()
            return False
        if example_id in self.done:
            self.summary.skipped["already done"] += 1
            self.progress.update()
            return False
        return True

    def write(self, record: Any) -> None:
        self._writer.write(record)
        self.summary.written += 1
        self.progress.update()

    def reject(self, record: Any, reason: str) -> None:
        """Records an unusable example with its reason (in the rejects file when there is one)."""
        self.summary.rejected[reason] += 1
        if self._rejects is not None:
            self._rejects.write(record)
        self.progress.update()

    def __enter__(self) -> StageIO:
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.close()
        self._writer.close()
        if self._rejects is not None:
            self._rejects.close()
        print(self.summary.line(), file=sys.stderr)


def read_input(path: str, io: StageIO, *, report: bool = True) -> Iterator[Any]:
    """Examples of `path` ('-' = stdin), malformed lines skipped and counted (or raised with --strict)."""
    from zeta2_capture.schema import ExampleError, ReadStats, read_examples

    if path != "-" and not Path(path).exists():
        raise StageError(f"input file {path} does not exist")
    stats = ReadStats()
    try:
        for example in read_examples(path, on_error="raise" if io.strict else "skip", stats=stats):
            io.summary.read += 1
            yield example
    except ExampleError as exc:
        raise StageError(f"malformed input line (--strict): {exc}") from None
    finally:
        for error in stats.errors if report else ():
            io.summary.skipped["malformed line"] += 1
            print(f"{io.summary.stage}: skipped {error}", file=sys.stderr)


def with_meta(example: Any, **entries: Any) -> Any:
    """A copy of `example` with `entries` merged into its meta (examples are frozen)."""
    from dataclasses import replace

    return replace(example, meta={**example.meta, **entries})


def env_flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0", "false")


def stderr_line(text: str, stream: TextIO | None = None) -> None:
    print(text, file=stream or sys.stderr)


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
