"""`zeta2-trainer ingest -i captures.jsonl -o examples.jsonl`: `zeta2-capture export` records -> examples.

Settled captures keep their settled region as the candidate label (`expected`, the file with the region
as the user left it) and their outcome in `meta.outcome` (accepted, rejected reason, kept and recall
rate of the shown suggestion, settle time, model, latency). Every original meta key is kept. Each
example gets `meta.repo` (from the record, else `--repo`) and `meta.committed_at` (the capture time), so
`split` can split captures by repository and time like mined examples.

Other capture kinds (shown, accepted, rejected, manual) are skipped unless named in `--kinds`; a kept
record without a label (`expected` null) is rejected with the reason.
"""

from __future__ import annotations

import argparse

OUTCOME_KEYS = ("accepted", "rejected_reason", "kept_rate", "recall_rate", "settle_seconds", "model", "latency_ms", "predicted_region")
CAPTURE_KINDS = ("settled", "shown", "accepted", "rejected", "manual")


def make_parser(parser: argparse.ArgumentParser) -> None:
    from .common import add_io_args

    add_io_args(parser, rejects=True)
    parser.add_argument("--kinds", default="settled", help="comma-separated capture kinds to keep (default: settled)")
    parser.add_argument("--repo", default="local", help="meta.repo for records that carry none (default: local)")


def main(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from .common import StageError, StageIO, read_input, with_meta

    kinds = {k.strip() for k in args.kinds.split(",") if k.strip()}
    unknown = sorted(kinds - set(CAPTURE_KINDS))
    if unknown:
        raise StageError(f"--kinds: unknown capture kind {', '.join(unknown)} (known: {', '.join(CAPTURE_KINDS)})")
    with StageIO("ingest", args) as io:
        for record in read_input(args.input, io):
            meta = record.meta
            kind = meta.get("kind")
            if kind not in kinds:
                io.summary.skipped[f"kind {kind}"] += 1
                continue
            if not io.wants(record.id):
                continue
            if record.expected is None:
                io.reject(with_meta(record, ingest={"error": "no label (expected is null)"}), "no label")
                continue
            when = meta.get("committed_at") or meta.get("captured_at")
            if not when and isinstance(meta.get("created_at"), (int, float)):
                when = datetime.fromtimestamp(meta["created_at"], UTC).isoformat()
            extra = {"repo": meta.get("repo") or args.repo, "committed_at": when or "", "label": "settled" if kind == "settled" else kind}
            if kind == "settled":
                extra["outcome"] = {k: meta[k] for k in OUTCOME_KEYS if k in meta}
            io.write(with_meta(record, **extra))
    return 0
