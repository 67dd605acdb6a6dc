"""`zeta2-trainer eval`: score predictions the way every zeta2 report does (BRIEF section 6).

    zeta2-trainer eval -i examples.jsonl --predictions a.jsonl [--predictions b.jsonl ...] -o REPORT_DIR
    zeta2-trainer eval -i examples.jsonl --model PACK_A [--model PACK_B ...] [--cursor-baseline PACK] -o REPORT_DIR

Each system (a predictions file, or a pack predicted on the fly through the runtime) is scored per example
with `zeta2_capture.metrics.score_example`; aggregates come overall, per language and per `meta.kind`;
every later system is compared with every earlier one by a paired bootstrap CI of the delta chrF difference
on the examples both predicted. Output: report.json, report.md, report.html (+ PNG plots) and, for packs,
the predictions it made. `--record` stores each pack's summary in its manifest's `eval`.

`--guardrails LEVEL` scores what the daemon would show rather than what the model said: each prediction
goes through the daemon's own guardrails (`zeta2_daemon.guardrails`, at that aggressiveness) and one they
suppress (a revert of the user's last edit, a syntax break, whitespace only, too large) counts as no edit;
the reason is kept per example and the share per group.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from .errors import UserError

REPORT_VERSION = 1


def make_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-i", "--input", required=True, help="examples with `expected`, schema JSONL ('-' for stdin)")
    parser.add_argument("--predictions", action="append", default=[], metavar="JSONL", help="a predictions file (repeatable; each is one system)")
    parser.add_argument("--model", action="append", default=[], metavar="PACK_DIR", help="a model pack to predict with on the fly (repeatable)")
    parser.add_argument("--cursor-baseline", metavar="PACK_DIR", default=None, help="also score the 'complete at the cursor' baseline run with this pack's model")
    parser.add_argument("-o", "--output", required=True, metavar="REPORT_DIR", help="report folder (created)")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N examples")
    parser.add_argument("--max-prompt-tokens", type=int, default=None, help="prompt budget for --model packs (default: the format's)")
    parser.add_argument("--max-output-tokens", type=int, default=None, help="answer cap for --model packs (default: the format's)")
    parser.add_argument("--threads", type=int, default=None, help="onnxruntime threads for --model packs")
    parser.add_argument("--resamples", type=int, default=10_000, help="bootstrap resamples (default 10000)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--no-html", action="store_true", help="skip the HTML report and its plots")
    parser.add_argument("--record", action="store_true", help="write each --model pack's summary into its manifest.json `eval`")
    parser.add_argument("--guardrails", choices=("low", "medium", "high"), default=None, metavar="LEVEL",
                        help="score what the daemon would show: its guardrails at this aggressiveness (low, medium, high) "
                        "turn a suppressed suggestion into no edit")


@dataclass
class System:
    name: str
    predictions: dict[str, dict]  # id -> prediction record (raw JSON, extra fields kept)
    source: str
    scores: dict[str, dict] = field(default_factory=dict)  # id -> per-example metrics


# ---------------------------------------------------------------------------------------------------
# loading


def read_prediction_file(path: str | Path, known_ids: set[str]) -> System:
    """Reads a predictions JSONL (validated by the schema); unknown ids and duplicates are errors."""
    from zeta2_capture.schema import ExampleError, Prediction

    records: dict[str, dict] = {}
    names: set[str] = set()
    try:
        handle = open(path, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot read predictions ({exc.strerror})") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UserError(f"{path}:{number}: invalid JSON: {exc.msg} at column {exc.colno}") from None
            try:
                prediction = Prediction.from_json(obj, source=str(path), line=number)
            except ExampleError as exc:
                raise UserError(str(exc)) from None
            if prediction.id not in known_ids:
                raise UserError(f"{path}:{number}: prediction for id {prediction.id!r}, which is not among the examples")
            if prediction.id in records:
                raise UserError(f"{path}:{number}: second prediction for id {prediction.id!r}")
            records[prediction.id] = obj
            names.add(prediction.model)
    if not records:
        raise UserError(f"{path}: no predictions")
    name = names.pop() if len(names) == 1 else Path(path).stem
    return System(name=name, predictions=records, source=str(path))


def predict_system(pack: str, examples: list, out_dir: Path, *, baseline: str | None, max_prompt_tokens: int | None, threads: int | None, max_output_tokens: int | None = None) -> System:
    """Predicts every example with a pack through the runtime and keeps the predictions file."""
    from zeta2_capture.schema import JsonlWriter

    from .predict import complete_at_cursor, load_predictor, predict_record

    predictor = load_predictor(pack, threads=threads, max_prompt_tokens=max_prompt_tokens, max_output_tokens=max_output_tokens)
    name = f"{predictor.model_name}+{baseline}" if baseline else predictor.model_name
    records = {}
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    path = out_dir / f"predictions-{safe}.jsonl"
    with JsonlWriter(path) as writer:
        for n, example in enumerate(examples, start=1):
            record = complete_at_cursor(predictor, example) if baseline else predict_record(predictor, example)
            record["model"] = name
            writer.write(record)
            records[example.id] = record
            print(f"\r{name}: {n}/{len(examples)}", end="", file=sys.stderr)
    print(file=sys.stderr)
    return System(name=name, predictions=records, source=str(path))


# ---------------------------------------------------------------------------------------------------
# scoring and aggregation


def served_text(example, predicted: str, aggressiveness: str) -> tuple[str, str]:
    """What the daemon would show for `predicted`: it, or `before` when a guardrail suppresses it ("" or the reason)."""
    from zeta2_daemon import guardrails
    from zeta2_daemon.suggestions import minimal_edit

    edit = minimal_edit(example.before, predicted, example.cursor)
    verdict = guardrails.check(example.before, edit, language=example.language, events=example.events, aggressiveness=aggressiveness)
    if verdict.ok or verdict.reason == "no-op":
        return predicted, ""
    return example.before, verdict.reason


def score_system(system: System, examples: list, guardrails: str | None = None) -> None:
    from zeta2_capture.metrics import score_example

    for example in examples:
        record = system.predictions.get(example.id)
        if record is None:
            continue
        predicted, suppressed = record["predicted"], None
        if guardrails is not None:
            predicted, suppressed = served_text(example, predicted, guardrails)
        scores = score_example(example, predicted)
        if suppressed is not None:
            scores["suppressed"] = suppressed
        scores["latency_ms"] = float(record["latency_ms"])
        # Only our own predict writes `error`; for other files the parse outcome is unknown (None).
        scores["parsed"] = (record.get("error") is None) if "error" in record else None
        system.scores[example.id] = scores


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def aggregate(scores: list[dict]) -> dict[str, Any]:
    """Summary numbers over a group of per-example scores."""
    from .stats import percentile

    def present(key: str) -> list:
        return [s[key] for s in scores if s.get(key) is not None]

    expecting_edit = [s for s in scores if s.get("expected_noop") is False]
    expecting_none = [s for s in scores if s.get("expected_noop") is True]
    made_edit = [s for s in scores if not s["predicted_noop"]]
    syntax = present("syntax_error_delta")
    latencies = present("latency_ms")
    parsed = present("parsed")
    return {
        "n": len(scores),
        "delta_chrf": _mean(present("delta_chrf")),
        "delta_chrf_expecting_edit": _mean([s["delta_chrf"] for s in expecting_edit]),
        "exact_match": _mean([float(v) for v in present("exact_match")]),
        "reversal_ratio": _mean([s["reversal_ratio"] for s in made_edit]),
        "kept_rate": _mean([s["kept_rate"] for s in made_edit if s.get("kept_rate") is not None]),
        "recall_rate": _mean([s["recall_rate"] for s in expecting_edit]),
        "syntax_error_delta": _mean([float(v) for v in syntax]),
        "syntax_broken_rate": _mean([float(v > 0) for v in syntax]),
        "noop_rate": _mean([float(s["predicted_noop"]) for s in scores]),
        "false_suggestion_rate": _mean([float(not s["predicted_noop"]) for s in expecting_none]),
        "parse_rate": _mean([float(v) for v in parsed]),
        "latency_p50_ms": percentile(latencies, 50) if latencies else None,
        "latency_p90_ms": percentile(latencies, 90) if latencies else None,
        **_suppression(scores),
    }


def _suppression(scores: list[dict]) -> dict[str, Any]:
    """With --guardrails: the share of examples whose suggestion the daemon would not show, and why."""
    reasons = [s["suppressed"] for s in scores if "suppressed" in s]
    if not reasons:
        return {}
    by_reason = Counter(filter(None, reasons))
    return {"suppressed_rate": sum(by_reason.values()) / len(reasons), "suppressed_by": dict(sorted(by_reason.items()))}


def grouped(scored: dict[str, dict], examples: list) -> dict[str, Any]:
    """`aggregate` over all scored examples, by language and by kind (`scored`: example id -> scores)."""
    by_language: dict[str, list] = {}
    by_kind: dict[str, list] = {}
    for example in examples:
        scores = scored.get(example.id)
        if scores is None:
            continue
        by_language.setdefault(example.language, []).append(scores)
        by_kind.setdefault(str(example.meta.get("kind", "unknown")), []).append(scores)
    return {
        "overall": aggregate(list(scored.values())),
        "by_language": {k: aggregate(v) for k, v in sorted(by_language.items())},
        "by_kind": {k: aggregate(v) for k, v in sorted(by_kind.items())},
    }


def compare(a: System, b: System, examples: list, *, resamples: int, seed: int, confidence: float) -> dict[str, Any]:
    """B minus A on the examples both scored: paired bootstrap CI of delta chrF (and exact match)."""
    from .stats import paired_bootstrap_ci

    ids = [e.id for e in examples if e.id in a.scores and e.id in b.scores and a.scores[e.id]["delta_chrf"] is not None and b.scores[e.id]["delta_chrf"] is not None]
    if not ids:
        return {"a": a.name, "b": b.name, "n": 0}
    chrf = paired_bootstrap_ci([a.scores[i]["delta_chrf"] for i in ids], [b.scores[i]["delta_chrf"] for i in ids], resamples=resamples, seed=seed, confidence=confidence)
    exact = paired_bootstrap_ci([float(a.scores[i]["exact_match"]) for i in ids], [float(b.scores[i]["exact_match"]) for i in ids], resamples=resamples, seed=seed, confidence=confidence)
    wins = sum(b.scores[i]["delta_chrf"] > a.scores[i]["delta_chrf"] for i in ids)
    losses = sum(b.scores[i]["delta_chrf"] < a.scores[i]["delta_chrf"] for i in ids)
    return {"a": a.name, "b": b.name, "n": len(ids), "delta_chrf": chrf.to_json(), "exact_match": exact.to_json(), "b_better": wins, "b_worse": losses}


# ---------------------------------------------------------------------------------------------------


def read_all_examples(path: str, limit: int | None) -> list:
    from zeta2_capture.schema import read_examples

    examples = list(islice(read_examples(path), limit))
    if not examples:
        raise UserError(f"{path}: no examples")
    missing = [e.id for e in examples if e.expected is None]
    if missing:
        raise UserError(f"{path}: example {missing[0]!r} has no `expected` text to score against ({len(missing)} such)")
    seen: set[str] = set()
    for e in examples:
        if e.id in seen:
            raise UserError(f"{path}: id {e.id!r} appears twice")
        seen.add(e.id)
    return examples


def reference_scores(examples: list) -> dict[str, Any]:
    """The expected edits scored as if they were predictions: what a perfect system's reversal ratio and
    syntax delta would be on these examples (a mined "typing" example restores text its last event
    replaced, so even the truth has a reversal ratio), as a yardstick for the systems' numbers."""
    from zeta2_capture.metrics import score_example

    return grouped({e.id: score_example(e, e.expected) for e in examples}, examples)


def build_report(systems: list[System], examples: list, *, resamples: int, seed: int, confidence: float, source: str,
                 guardrails: str | None = None) -> dict[str, Any]:
    for system in systems:
        score_system(system, examples, guardrails)
    names = [s.name for s in systems]
    if len(set(names)) != len(names):
        # Two files from the same model: tell them apart by their source.
        for s in systems:
            if names.count(s.name) > 1:
                s.name = f"{s.name} ({Path(s.source).name})"
    comparisons = [
        compare(systems[i], systems[j], examples, resamples=resamples, seed=seed, confidence=confidence)
        for i in range(len(systems))
        for j in range(i + 1, len(systems))
    ]
    return {
        "report_version": REPORT_VERSION,
        "examples": {"source": source, "n": len(examples), "expecting_edit": sum(not e.is_noop for e in examples), "expecting_none": sum(e.is_noop for e in examples)},
        "systems": [{"name": s.name, "source": s.source, "predicted": len(s.scores), **grouped(s.scores, examples)} for s in systems],
        "reference": reference_scores(examples),
        "comparisons": comparisons,
        "bootstrap": {"resamples": resamples, "seed": seed, "confidence": confidence},
        "guardrails": guardrails,
    }


def record_in_manifest(pack_dir: str, summary: dict[str, Any]) -> None:
    from zeta2_daemon.pack import MANIFEST, write_manifest

    path = Path(pack_dir) / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["eval"] = summary
    write_manifest(Path(pack_dir), manifest)


def main(args: argparse.Namespace) -> int:
    from .report import write_report

    if not args.predictions and not args.model:
        raise UserError("give at least one --predictions file or --model pack")
    if args.record and not args.model:
        raise UserError("--record writes into packs: give them with --model")
    examples = read_all_examples(args.input, args.limit)
    known = {e.id for e in examples}
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    systems = [read_prediction_file(p, known) for p in args.predictions]
    pack_systems = []
    for pack in args.model:
        system = predict_system(pack, examples, out, baseline=None, max_prompt_tokens=args.max_prompt_tokens, threads=args.threads, max_output_tokens=args.max_output_tokens)
        systems.append(system)
        pack_systems.append((pack, system))
    if args.cursor_baseline:
        systems.append(predict_system(args.cursor_baseline, examples, out, baseline="complete-at-cursor", max_prompt_tokens=args.max_prompt_tokens, threads=args.threads))
    report = build_report(systems, examples, resamples=args.resamples, seed=args.seed, confidence=args.confidence, source=str(args.input),
                          guardrails=args.guardrails)
    paths = write_report(report, out, html=not args.no_html, systems_scores={s.name: list(s.scores.values()) for s in systems})
    with open(out / "scores.jsonl", "w", encoding="utf-8") as handle:
        for system in systems:
            for example_id, scores in system.scores.items():
                handle.write(json.dumps({"id": example_id, "system": system.name, **scores}) + "\n")
    paths.append(out / "scores.jsonl")
    if args.record:
        for pack, system in pack_systems:
            entry = next(s for s in report["systems"] if s["name"] == system.name)
            record_in_manifest(pack, {"examples": report["examples"], "overall": entry["overall"], "by_kind": entry["by_kind"]})
    from .report import markdown_summary

    print(markdown_summary(report))
    print(f"wrote {', '.join(str(p) for p in paths)}", file=sys.stderr)
    if len(args.model) >= 2:
        # The last pack is the candidate: where it is, and how to A/B it against the first in the daemon.
        control, candidate = (str(Path(p).resolve()) for p in (args.model[0], args.model[-1]))
        print(f"new pack: {candidate}")
        print(f"A/B it against {control}: zeta2-daemon --ab {control}=0.5 --ab {candidate}=0.5")
    return 0
