"""`zeta2-trainer ab-report -i usage.jsonl`: A/B variants compared from the daemon's usage log.

The usage log (`zeta2-capture export --usage`, see zeta2_capture.usage) is a stream of metadata events:
`{"ts", "event", "id", "model", "variant", ...}` with events requested / shown / accepted / partial /
rejected / settled / retention / dropped / error. Events are folded per suggestion id; a suggestion counts
once it was **shown**. Per variant (the `variant` of its shown event; the model name when it has none):

- shown, accepted (full), partial, rejected, acceptance rate = (accepted or partially accepted) / shown
  with a Wilson 95% interval (and the exact Clopper-Pearson one);
- settled kept rate (mean `kept_rate` of `settled` events), latency p50/p90 of shown suggestions.

Every variant is compared with the control (`--control`, default the first variant by name): the difference
in acceptance rate, a two-proportion z-test, and the number of suggestions per variant a test needs to detect
`--effect` (absolute) at `--alpha` with `--power`, and how many are still missing.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UserError


def make_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-i", "--input", required=True, help="usage log JSONL from `zeta2-capture export --usage` ('-' for stdin)")
    parser.add_argument("-o", "--output", default=None, help="write the report as JSON here ('-' for stdout)")
    parser.add_argument("--markdown", default=None, help="also write the Markdown report to this file")
    parser.add_argument("--control", default=None, help="the variant the others are compared with (default: first by name)")
    parser.add_argument("--effect", type=float, default=0.02, help="smallest acceptance-rate difference worth detecting, absolute (default 0.02)")
    parser.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    parser.add_argument("--power", type=float, default=0.8, help="power for the sample-size estimate (default 0.8)")
    parser.add_argument("--confidence", type=float, default=0.95, help="interval confidence (default 0.95)")


@dataclass
class Suggestion:
    id: str
    variant: str | None = None
    model: str | None = None
    shown: bool = False
    accepted: bool = False
    partial: bool = False
    rejected: bool = False
    latency_ms: float | None = None
    kept_rate: float | None = None
    reject_reason: str | None = None


@dataclass
class Variant:
    name: str
    models: set[str] = field(default_factory=set)
    suggestions: list[Suggestion] = field(default_factory=list)


def read_usage(path: str) -> tuple[dict[str, Suggestion], dict[str, int]]:
    """Folds usage events per suggestion id; errors name the file and line."""
    counts: dict[str, int] = {}
    suggestions: dict[str, Suggestion] = {}
    try:
        stream = sys.stdin if path == "-" else open(path, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot read the usage log ({exc.strerror})") from None
    name = "<stdin>" if path == "-" else path
    with stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UserError(f"{name}:{number}: invalid JSON: {exc.msg} at column {exc.colno}") from None
            if not isinstance(event, dict):
                raise UserError(f"{name}:{number}: expected a JSON object")
            kind = event.get("event")
            if not isinstance(kind, str):
                raise UserError(f"{name}:{number}: field 'event' must be a string")
            counts[kind] = counts.get(kind, 0) + 1
            sid = event.get("id")
            if sid is None:
                continue  # e.g. an error event not tied to a suggestion
            if not isinstance(sid, str):
                raise UserError(f"{name}:{number}: field 'id' must be a string")
            s = suggestions.setdefault(sid, Suggestion(sid))
            if isinstance(event.get("variant"), str):
                s.variant = s.variant or event["variant"]
            if isinstance(event.get("model"), str):
                s.model = s.model or event["model"]
            latency = event.get("latency_ms")
            if latency is not None and (isinstance(latency, bool) or not isinstance(latency, (int, float))):
                raise UserError(f"{name}:{number}: field 'latency_ms' must be a number")
            if kind == "shown":
                s.shown = True
                if latency is not None:
                    s.latency_ms = float(latency)
            elif kind == "accepted":
                s.accepted = True
            elif kind == "partial":
                s.partial = True
            elif kind == "rejected":
                s.rejected = True
                s.reject_reason = event.get("reason")
            elif kind == "settled":
                kept = event.get("kept_rate")
                if kept is not None:
                    if isinstance(kept, bool) or not isinstance(kept, (int, float)) or not 0 <= kept <= 1:
                        raise UserError(f"{name}:{number}: field 'kept_rate' must be a number in [0, 1]")
                    s.kept_rate = float(kept)
    return suggestions, counts


def variants_of(suggestions: dict[str, Suggestion]) -> tuple[dict[str, Variant], int]:
    """Shown suggestions grouped by variant; also how many outcomes came without a shown event."""
    variants: dict[str, Variant] = {}
    orphans = 0
    for s in suggestions.values():
        if not s.shown:
            orphans += s.accepted or s.partial or s.rejected
            continue
        key = s.variant or s.model or "unknown"
        v = variants.setdefault(key, Variant(key))
        v.suggestions.append(s)
        if s.model:
            v.models.add(s.model)
    return dict(sorted(variants.items())), orphans


def variant_summary(v: Variant, confidence: float) -> dict:
    from .stats import clopper_pearson_interval, percentile, wilson_interval

    shown = len(v.suggestions)
    accepted = sum(s.accepted for s in v.suggestions)
    partial = sum(s.partial and not s.accepted for s in v.suggestions)
    taken = sum(s.accepted or s.partial for s in v.suggestions)
    rejected = sum(s.rejected and not (s.accepted or s.partial) for s in v.suggestions)
    kept = [s.kept_rate for s in v.suggestions if s.kept_rate is not None]
    latencies = [s.latency_ms for s in v.suggestions if s.latency_ms is not None]
    reasons: dict[str, int] = {}
    for s in v.suggestions:
        if s.rejected and s.reject_reason:
            reasons[s.reject_reason] = reasons.get(s.reject_reason, 0) + 1
    return {
        "variant": v.name,
        "models": sorted(v.models),
        "shown": shown,
        "accepted": accepted,
        "partial": partial,
        "rejected": rejected,
        "reject_reasons": dict(sorted(reasons.items())),
        "acceptance_rate": taken / shown if shown else None,
        "acceptance_wilson": list(wilson_interval(taken, shown, confidence)),
        "acceptance_clopper_pearson": list(clopper_pearson_interval(taken, shown, confidence)),
        "settled": len(kept),
        "settled_kept_rate": sum(kept) / len(kept) if kept else None,
        "latency_p50_ms": percentile(latencies, 50) if latencies else None,
        "latency_p90_ms": percentile(latencies, 90) if latencies else None,
    }


def comparison(control: dict, other: dict, *, effect: float, alpha: float, power: float, confidence: float) -> dict:
    from .stats import sample_size_two_proportions, two_proportion_z_test

    taken_a = control["accepted"] + control["partial"]
    taken_b = other["accepted"] + other["partial"]
    test = two_proportion_z_test(taken_a, control["shown"], taken_b, other["shown"], confidence)
    base = test.p_a
    target = base + effect if base + effect <= 1 else base - effect
    needed = sample_size_two_proportions(base, target, alpha=alpha, power=power)
    have = min(control["shown"], other["shown"])
    return {
        "control": control["variant"],
        "variant": other["variant"],
        **test.to_json(),
        "significant": test.p_value < alpha,
        "effect": effect,
        "needed_per_variant": needed,
        "still_needed_per_variant": max(0, needed - have),
    }


def build_report(path: str, *, control: str | None, effect: float, alpha: float, power: float, confidence: float) -> dict:
    if not 0 < effect < 1:
        raise UserError(f"--effect must be an absolute difference in (0, 1), got {effect}")
    suggestions, counts = read_usage(path)
    variants, orphans = variants_of(suggestions)
    if not variants:
        raise UserError(f"{path}: no shown suggestions in the usage log (events: {counts or 'none'})")
    summaries = [variant_summary(v, confidence) for v in variants.values()]
    names = [s["variant"] for s in summaries]
    control_name = control or names[0]
    if control_name not in names:
        raise UserError(f"--control {control_name!r}: no such variant; the log has {', '.join(names)}")
    reference = summaries[names.index(control_name)]
    comparisons = [
        comparison(reference, s, effect=effect, alpha=alpha, power=power, confidence=confidence)
        for s in summaries
        if s["variant"] != control_name and reference["shown"] and s["shown"]
    ]
    return {
        "source": path,
        "events": dict(sorted(counts.items())),
        "outcomes_without_shown_event": orphans,
        "confidence": confidence,
        "variants": summaries,
        "comparisons": comparisons,
    }


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.1%}"


def _ms(x: float | None) -> str:
    return "–" if x is None else f"{x:.0f}"


def markdown(report: dict) -> str:
    c = report["confidence"]
    lines = [
        f"| variant | shown | accepted | partial | rejected | acceptance | {c:.0%} interval (Wilson) | settled kept | p50 ms | p90 ms |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for v in report["variants"]:
        low, high = v["acceptance_wilson"]
        lines.append(
            f"| {v['variant']} | {v['shown']} | {v['accepted']} | {v['partial']} | {v['rejected']} | {_pct(v['acceptance_rate'])} | "
            f"[{low:.1%}, {high:.1%}] | {_pct(v['settled_kept_rate'])} | {_ms(v['latency_p50_ms'])} | {_ms(v['latency_p90_ms'])} |"
        )
    if report["comparisons"]:
        lines += [
            "",
            "| variant vs control | Δ acceptance | interval | z | p | significant | needed per variant | still needed |",
            "|---|---:|---|---:|---:|---|---:|---:|",
        ]
        for k in report["comparisons"]:
            lines.append(
                f"| {k['variant']} vs {k['control']} | {k['difference']:+.1%} | [{k['ci_low']:+.1%}, {k['ci_high']:+.1%}] | {k['z']:.2f} | "
                f"{k['p_value']:.4f} | {'yes' if k['significant'] else 'no'} | {k['needed_per_variant']} (for ±{k['effect']:.1%}) | {k['still_needed_per_variant']} |"
            )
    if report["outcomes_without_shown_event"]:
        lines += ["", f"{report['outcomes_without_shown_event']} accept/reject outcomes had no shown event and are not counted."]
    return "\n".join(lines) + "\n"


def main(args: argparse.Namespace) -> int:
    report = build_report(args.input, control=args.control, effect=args.effect, alpha=args.alpha, power=args.power, confidence=args.confidence)
    text = markdown(report)
    if args.output:
        payload = json.dumps(report, indent=2) + "\n"
        if args.output == "-":
            sys.stdout.write(payload)
        else:
            Path(args.output).write_text(payload, encoding="utf-8")
    if args.markdown:
        Path(args.markdown).write_text(text, encoding="utf-8")
    if args.output != "-":
        sys.stdout.write(text)
    return 0
