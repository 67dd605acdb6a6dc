"""Eval reports: report.json, report.md (tables) and report.html with matplotlib plots (Agg, no display).

The plots are written as PNG files beside the HTML and embedded in it (base64), so the HTML is one file
that can be mailed or attached to a pull request.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

COLUMNS = [
    ("n", "n", "{:.0f}"),
    ("delta_chrf", "delta chrF", "{:.2f}"),
    ("exact_match", "exact", "{:.1%}"),
    ("reversal_ratio", "reversal", "{:.3f}"),
    ("kept_rate", "kept", "{:.1%}"),
    ("recall_rate", "recall", "{:.1%}"),
    ("syntax_error_delta", "syntax Δ", "{:+.2f}"),
    ("noop_rate", "no-op", "{:.1%}"),
    ("false_suggestion_rate", "false sugg.", "{:.1%}"),
    ("parse_rate", "parsed", "{:.1%}"),
    ("latency_p50_ms", "p50 ms", "{:.0f}"),
    ("latency_p90_ms", "p90 ms", "{:.0f}"),
]


def fmt(value: Any, pattern: str) -> str:
    if value is None:
        return "–"
    return pattern.format(value)


SUPPRESSED = ("suppressed_rate", "suppressed", "{:.1%}")  # only in reports scored with --guardrails


def _table(rows: list[tuple[str, dict]], served: bool = False) -> list[str]:
    columns = [*COLUMNS, SUPPRESSED] if served else COLUMNS
    lines = ["| system | " + " | ".join(title for _, title, _ in columns) + " |", "|---|" + "---:|" * len(columns)]
    for name, numbers in rows:
        lines.append(f"| {name} | " + " | ".join(fmt(numbers.get(key), pattern) for key, _, pattern in columns) + " |")
    return lines


def comparison_lines(report: dict) -> list[str]:
    lines = ["| B vs A | n | Δ delta chrF (B − A) | 95% CI | excludes 0 | B better / worse | Δ exact |", "|---|---:|---:|---|---|---|---:|"]
    for c in report["comparisons"]:
        if not c.get("n"):
            lines.append(f"| {c['b']} vs {c['a']} | 0 | – | – | – | – | – |")
            continue
        d = c["delta_chrf"]
        lines.append(
            f"| {c['b']} vs {c['a']} | {c['n']} | {d['mean_difference']:+.2f} | [{d['ci_low']:+.2f}, {d['ci_high']:+.2f}] | "
            f"{'yes' if d['excludes_zero'] else 'no'} | {c['b_better']} / {c['b_worse']} | {c['exact_match']['mean_difference']:+.1%} |"
        )
    return lines


REFERENCE = "_the expected edits (reference)_"


def _rows(report: dict, group: str, key: str | None = None) -> list[tuple[str, dict]]:
    """Each system's numbers for one group ("overall", or `group`[`key`]), then the reference's."""
    pick = (lambda entry: entry[group]) if key is None else (lambda entry: entry[group].get(key))
    rows = [(s["name"], pick(s)) for s in report["systems"] if pick(s) is not None]
    reference = report.get("reference")
    if reference is not None and pick(reference) is not None:
        rows.append((REFERENCE, pick(reference)))
    return rows


def markdown_summary(report: dict) -> str:
    """The overall table and the comparisons (what `eval` prints)."""
    ex = report["examples"]
    lines = [f"{ex['n']} examples from {ex['source']} ({ex['expecting_edit']} expect an edit, {ex['expecting_none']} expect none)", ""]
    served = bool(report.get("guardrails"))
    if served:
        lines += [f"Scored as served: the daemon's guardrails at aggressiveness {report['guardrails']} turn a suppressed suggestion into no edit.", ""]
    lines += _table(_rows(report, "overall"), served)
    if report["comparisons"]:
        lines += ["", *comparison_lines(report)]
    return "\n".join(lines)


def markdown_report(report: dict) -> str:
    lines = ["# zeta2 eval report", "", markdown_summary(report), ""]
    for group, title in (("by_kind", "By kind (meta.kind)"), ("by_language", "By language")):
        lines += [f"## {title}", ""]
        keys = sorted({k for s in report["systems"] for k in s[group]})
        for key in keys:
            lines += [f"### {key}", ""]
            lines += _table(_rows(report, group, key), bool(report.get("guardrails")))
            lines.append("")
    b = report["bootstrap"]
    lines += [
        "Definitions: BRIEF section 6. delta chrF is averaged over all examples; reversal and kept rate over the examples where "
        "the system made an edit; recall over those expecting an edit; false suggestions over those expecting none. "
        "The reference row scores the expected edits themselves: the reversal ratio and syntax delta a perfect system would have. "
        f"Paired bootstrap: {b['resamples']} resamples, seed {b['seed']}, {b['confidence']:.0%} percentile interval.",
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# plots


def plots(report: dict, systems_scores: dict[str, list[dict]], out_dir: Path) -> list[Path]:
    """Score distributions, latency histograms and per-language bars; returns the PNG paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    names = [s["name"] for s in report["systems"]]

    fig, ax = plt.subplots(figsize=(8, 4))
    bins = [i * 5 for i in range(21)]
    for name in names:
        values = [s["delta_chrf"] for s in systems_scores.get(name, []) if s.get("delta_chrf") is not None]
        if values:
            ax.hist(values, bins=bins, alpha=0.5, label=name)
    ax.set_xlabel("delta chrF per example")
    ax.set_ylabel("examples")
    ax.set_title("delta chrF distribution")
    ax.legend(fontsize="small")
    written.append(_save(fig, out_dir / "delta_chrf_hist.png"))

    fig, ax = plt.subplots(figsize=(8, 4))
    for name in names:
        values = [s["latency_ms"] for s in systems_scores.get(name, []) if s.get("latency_ms") is not None]
        if values:
            ax.hist(values, bins=30, alpha=0.5, label=name)
    ax.set_xlabel("latency per prediction (ms)")
    ax.set_ylabel("predictions")
    ax.set_title("latency")
    ax.legend(fontsize="small")
    written.append(_save(fig, out_dir / "latency_hist.png"))

    languages = sorted({k for s in report["systems"] for k in s["by_language"]})
    fig, ax = plt.subplots(figsize=(max(6, 1.5 * len(languages)), 4))
    width = 0.8 / max(len(names), 1)
    for n, system in enumerate(report["systems"]):
        xs = [i + n * width for i in range(len(languages))]
        ys = [(system["by_language"].get(lang, {}).get("delta_chrf") or 0.0) for lang in languages]
        ax.bar(xs, ys, width=width, label=system["name"])
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(languages))])
    ax.set_xticklabels(languages)
    ax.set_ylabel("mean delta chrF")
    ax.set_title("per language")
    ax.legend(fontsize="small")
    written.append(_save(fig, out_dir / "per_language.png"))
    return written


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def html_report(report: dict, markdown: str, images: list[Path]) -> str:
    """A single self-contained page: the tables (as preformatted Markdown) and the plots inline."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>zeta2 eval report</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}pre{font-size:12px;overflow-x:auto}</style></head><body>",
        "<h1>zeta2 eval report</h1>",
    ]
    for image in images:
        data = base64.b64encode(image.read_bytes()).decode("ascii")
        parts.append(f"<figure><img alt='{html.escape(image.stem)}' src='data:image/png;base64,{data}'><figcaption>{html.escape(image.name)}</figcaption></figure>")
    parts.append(f"<pre>{html.escape(markdown)}</pre>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(report: dict, out_dir: Path, *, html: bool = True, systems_scores: dict[str, list[dict]] | None = None) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    scores = systems_scores if systems_scores is not None else report.pop("_scores", {})
    (out_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    paths.append(out_dir / "report.json")
    markdown = markdown_report(report)
    (out_dir / "report.md").write_text(markdown, encoding="utf-8")
    paths.append(out_dir / "report.md")
    if html:
        images = plots(report, scores, out_dir)
        (out_dir / "report.html").write_text(html_report(report, markdown, images), encoding="utf-8")
        paths.append(out_dir / "report.html")
    return paths
