"""Prefix reuse after a one-character edit, at full-budget (2,048-token) prompts, through the real predictor.

Run by hand (numbers go to docs/benchmarks.md, section "Runtime"):

    .venv/bin/python bench/runtime/bench_prefix_reuse.py [--pack PACK] [--examples 40] [--threads 2]

The dev set's examples carry no related definitions, so their prompts stop near 1,400 tokens (median)
and the reserved related budget stays empty. The daemon fills it from the workspace index; here each
example gets excerpts of other files of the *same repository* (taken from other dev examples, cut at a
definition line) until the related budget is full, which brings the prompt to ~2,000 tokens the way a
real workspace does. Then, per example: a request on the file without the character before the cursor,
and a request after typing it back (same document key, so the second one finds the first one's KV cache).
The share is `prefix_tokens_reused / prompt_tokens` of the second request, as the predictor reports it
(the runtime reuses everything up to the first differing token). Each request decodes one token: the
share does not depend on the answer.

Also reported: where the first differing token lies (which prompt section), because a keystroke that
moves the editable region's first line shifts the file context above it too.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path

DEFINITION = re.compile(r"^\s*(def |class |fn |pub fn |func |function |impl |struct |pub struct |type |interface |enum )")


def excerpts(text: str, lines_per: int = 30) -> list[str]:
    """Chunks of a file that start at a definition line, like the outline-based related context."""
    lines = text.splitlines(keepends=True)
    out = []
    for i, line in enumerate(lines):
        if DEFINITION.match(line):
            out.append((i, "".join(lines[i : i + lines_per])))
    return out


_COSTS: dict[tuple[str, int], int] = {}


def with_related(example, pool, budget_tokens: int, renderer):
    """`example` plus related excerpts from `pool` (other files of its repository) up to `budget_tokens`."""
    from zeta2_capture.schema import Related

    chosen, used = [], 0
    for path, start, text in pool:
        key = (path, start)
        if key not in _COSTS:
            _COSTS[key] = renderer.count(f"<|related|>{path}:{start + 1}\n{text}") + 2
        cost = _COSTS[key]
        if used + cost > budget_tokens:
            if budget_tokens - used < 40:  # full enough: nothing useful fits any more
                break
            continue
        chosen.append(Related(path=path, start_line=start, text=text, source="bench"))
        used += cost
    return dataclasses.replace(example, related=tuple(chosen))


def first_diff_section(a: list[int], b, sections: dict[str, int]) -> str:
    i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
    acc = 0
    for name, n in sections.items():
        if i < acc + n:
            return name
        acc += n
    return "answer"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pack", type=Path, default=None, help="model pack (default: the daemon's default pack)")
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "data" / "dev.jsonl")
    parser.add_argument("--examples", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-prompt-tokens", type=int, default=2048)
    parser.add_argument("--min-prompt-tokens", type=int, default=0,
                        help="only examples whose prompt (related context added) has at least this many tokens")
    parser.add_argument("--json", type=Path, default=None, help="also write the raw numbers here")
    args = parser.parse_args()

    from zeta2_capture.prompt import PromptConfig
    from zeta2_capture.schema import read_examples
    from zeta2_daemon.pack import default_pack_dir
    from zeta2_daemon.predictor import Predictor

    config = PromptConfig(max_prompt_tokens=args.max_prompt_tokens)
    predictor = Predictor(args.pack or default_pack_dir(), threads=args.threads, prompt_config=config)
    renderer = predictor.renderer
    related_budget = int(config.stable_tokens * config.max_related_share)

    every = list(read_examples(args.data))
    by_repo: dict[str, dict[str, str]] = defaultdict(dict)
    for ex in every:
        by_repo[ex.id.split("@")[0]].setdefault(ex.path, ex.before)
    # One example per file, cursor after a typed character (not at a line start), spread over the file.
    candidates, seen = [], set()
    for ex in every:
        if ex.path in seen or ex.cursor < 2 or ex.before[ex.cursor - 1] in "\n\r":
            continue
        seen.add(ex.path)
        candidates.append(ex)

    def filled(ex):
        repo = ex.id.split("@")[0]
        pool = [(path, start, text) for path, before in sorted(by_repo[repo].items()) if path != ex.path
                for start, text in excerpts(before)]
        return with_related(ex, pool, related_budget, renderer)

    if args.min_prompt_tokens:
        from zeta2_capture.prompt import PromptError

        def long_enough(ex) -> bool:
            try:
                return renderer.render_prompt(filled(ex)).n_tokens >= args.min_prompt_tokens
            except PromptError:
                return False

        # A prompt this long needs a long file around the cursor; cheap pre-filter before rendering.
        candidates = [ex for ex in candidates if len(ex.before) > 6 * args.min_prompt_tokens // 2 and long_enough(ex)]
    step = max(1, len(candidates) // args.examples)
    chosen = candidates[::step][: args.examples]

    shares, lengths, where, rows = [], [], Counter(), []
    for ex in chosen:
        full = filled(ex)
        typed_before = dataclasses.replace(full, before=full.before[: ex.cursor - 1] + full.before[ex.cursor :], cursor=ex.cursor - 1)
        predictor.cache.clear()
        first = predictor.predict(typed_before, document=ex.id, max_output_tokens=1)
        second = predictor.predict(full, document=ex.id, max_output_tokens=1)
        if first.prompt is None or second.prompt is None:  # a prompt error: nothing was rendered
            print(f"{ex.id}: skipped ({first.error or second.error})", file=sys.stderr)
            continue
        share = second.prefix_tokens_reused / second.prompt_tokens
        section = first_diff_section(first.prompt.token_ids, second.prompt.token_ids, second.prompt.sections)
        shares.append(share)
        lengths.append(second.prompt_tokens)
        where[section] += 1
        rows.append({"id": ex.id, "prompt_tokens": second.prompt_tokens, "reused": second.prefix_tokens_reused,
                     "share": share, "first_diff_section": section, "related": len(full.related)})
        print(f"{ex.id}: {second.prompt_tokens} tokens, reused {second.prefix_tokens_reused} ({share:.0%}), "
              f"first difference in {section}", file=sys.stderr, flush=True)

    ordered = sorted(shares)
    summary = {
        "examples": len(shares),
        "prompt_tokens_median": statistics.median(lengths),
        "prompt_tokens_min": min(lengths),
        "share_mean": statistics.mean(shares),
        "share_median": statistics.median(shares),
        "share_p10": ordered[len(ordered) // 10],
        "share_min": ordered[0],
        "at_least_80_percent": sum(s >= 0.8 for s in shares) / len(shares),
        "first_diff_section": dict(where),
    }
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
