"""Capture benchmark: full-index build time and memory, then per-request context extraction.

    .venv/bin/python bench/capture/bench_context.py [--files 2000] [--requests 500] [--seed 1]

Generates a workspace of `--files` source files (Python, JavaScript, TypeScript, Rust, Go in equal
parts; ~150 lines each, with classes, methods, functions, constants and imports between modules)
in a temporary folder, builds a `WorkspaceIndex` over it (build time = constructor to
`wait_ready`; memory = growth of the process's resident set, and tracemalloc's count of Python
allocations held by the index), then times `snapshot()` — the daemon's per-request call: parse,
related context, diagnostics, history — and `related_context()` alone at random cursors.
Target (issue #3): snapshot p95 < 10 ms on 2 CPU cores once indexed.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

LANGS = ("python", "javascript", "typescript", "rust", "go")
EXT = {"python": "py", "javascript": "js", "typescript": "ts", "rust": "rs", "go": "go"}


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def module_text(lang: str, pkg: int, mod: int, imports: list[tuple[int, int]], rng: random.Random) -> str:
    name = f"m{mod}"
    fns = [f"{name}_fn{k}" for k in range(6)]
    cls = f"Thing{pkg}x{mod}"
    used = [f"m{m}_fn{rng.randrange(6)}" for _, m in imports]
    out: list[str] = []
    if lang == "python":
        out += [f"from pkg{p}.m{m} import m{m}_fn{k}" for (p, m), k in zip(imports, range(6), strict=False)]
        out += ["", f"LIMIT_{mod} = {mod}", ""]
        out += [f"class {cls}:", f"    size: int = {mod}", ""]
        for k in range(5):
            out += [f"    def method{k}(self, value):", "        total = value", *[f"        total += {j}" for j in range(6)],
                    f"        return total + LIMIT_{mod}", ""]
        for k, fn in enumerate(fns):
            call = used[k % len(used)] if used else "len"
            out += [f"def {fn}(a, b={k}):", "    items = []", *[f"    items.append(a * {j} + b)" for j in range(8)],
                    f"    return {call}(sum(items)) if False else sum(items)", ""]
    elif lang in ("javascript", "typescript"):
        ty = ": number" if lang == "typescript" else ""
        out += [f'import {{ m{m}_fn{k} }} from "../pkg{p}/m{m}";' for (p, m), k in zip(imports, range(6), strict=False)]
        out += ["", f"export const LIMIT_{mod} = {mod};", ""]
        if lang == "typescript":
            out += [f"export interface Shape{mod} {{", "  width: number;", "  height: number;", "}", ""]
        out += [f"export class {cls} {{"]
        for k in range(5):
            out += [f"  method{k}(value{ty}){ty} {{", "    let total = value;", *[f"    total += {j};" for j in range(6)],
                    f"    return total + LIMIT_{mod};", "  }", ""]
        out += ["}", ""]
        for k, fn in enumerate(fns):
            call = used[k % len(used)] if used else "Math.abs"
            out += [f"export function {fn}(a{ty}, b{ty} = {k}){ty} {{", "  const items = [];",
                    *[f"  items.push(a * {j} + b);" for j in range(8)],
                    f"  return {call}(items.reduce((x, y) => x + y, 0));", "}", ""]
    elif lang == "rust":
        out += [f"use crate::pkg{p}::m{m}::m{m}_fn{k};" for (p, m), k in zip(imports, range(6), strict=False)]
        out += ["", f"pub const LIMIT_{mod}: i64 = {mod};", "", f"pub struct {cls} {{", "    pub size: i64,", "}", "",
                f"impl {cls} {{"]
        for k in range(5):
            out += [f"    pub fn method{k}(&self, value: i64) -> i64 {{", "        let mut total = value;",
                    *[f"        total += {j};" for j in range(6)], f"        total + LIMIT_{mod}", "    }", ""]
        out += ["}", ""]
        for k, fn in enumerate(fns):
            call = used[k % len(used)] if used else "i64::abs"
            out += [f"pub fn {fn}(a: i64, b: i64) -> i64 {{", "    let mut items = Vec::new();",
                    *[f"    items.push(a * {j} + b);" for j in range(8)], f"    {call}(items.iter().sum())", "}", ""]
    else:
        out += [f"package pkg{pkg}", "", "import ("] + [f'\t"example.com/ws/pkg{p}"' for p, _ in imports[:1]] + [")", ""]
        out += [f"const Limit{mod} = {mod}", "", f"type {cls} struct {{", "\tSize int", "}", ""]
        for k in range(5):
            out += [f"func (t *{cls}) Method{k}(value int) int {{", "\ttotal := value",
                    *[f"\ttotal += {j}" for j in range(6)], f"\treturn total + Limit{mod}", "}", ""]
        for fn in fns:
            out += [f"func {fn.title()}(a int, b int) int {{", "\titems := []int{}",
                    *[f"\titems = append(items, a*{j}+b)" for j in range(8)], "\treturn len(items)", "}", ""]
    return "\n".join(out) + "\n"


def generate(root: Path, files: int, rng: random.Random) -> list[Path]:
    paths = []
    per_lang = files // len(LANGS)
    for lang in LANGS:
        base = root / lang
        for i in range(per_lang):
            pkg, mod = i // 20, i
            imports = [(rng.randrange(max(1, per_lang // 20)), rng.randrange(per_lang)) for _ in range(3)]
            path = base / f"pkg{pkg}" / f"m{mod}.{EXT[lang]}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(module_text(lang, pkg, mod, imports, rng))
            paths.append(path)
    return paths


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dev", default=None, help="also time snapshot() on these real examples (e.g. ../shared/data/dev.jsonl)")
    args = parser.parse_args()

    from zeta2_capture.diagnostics import DiagnosticsStore
    from zeta2_capture.history import EditHistory
    from zeta2_capture.index import WorkspaceIndex
    from zeta2_capture.languages import parse
    from zeta2_capture.related import related_context
    from zeta2_capture.snapshot import snapshot

    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="zeta2-bench-") as tmp:
        root = Path(tmp)
        paths = generate(root, args.files, rng)
        total_bytes = sum(p.stat().st_size for p in paths)
        for lang in LANGS:  # load grammars first so the build measures indexing, not imports
            parse(lang, "")
        gc.collect()
        rss0 = rss_bytes()
        tracemalloc.start()
        started = time.perf_counter()
        index = WorkspaceIndex(root, watch=False)
        assert index.wait_ready(600)
        build = time.perf_counter() - started
        traced, _peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        gc.collect()
        rss1 = rss_bytes()
        # the traced run is slower; time a second, untraced build for the headline number
        started = time.perf_counter()
        index2 = WorkspaceIndex(root, watch=False)
        assert index2.wait_ready(600)
        build_untraced = time.perf_counter() - started
        index2.close()
        defs = sum(len(index.outline_for(f).definitions) for f in index.files())
        print(f"workspace: {len(paths)} files, {total_bytes / 1e6:.1f} MB, {defs} definitions indexed")
        print(f"index build: {build_untraced:.2f} s (with tracemalloc on: {build:.2f} s)")
        print(f"index memory: RSS +{(rss1 - rss0) / 1e6:.1f} MB, Python objects held {traced / 1e6:.1f} MB")

        history = EditHistory()
        diagnostics = DiagnosticsStore()
        snap_ms, related_ms, related_counts = [], [], []
        for _ in range(args.requests):
            path = rng.choice(paths)
            rel = path.relative_to(root).as_posix()
            text = path.read_text()
            cursor = rng.randrange(len(text))
            edited = text[:cursor] + "x" + text[cursor:]
            history.record(rel, text, edited)
            t0 = time.perf_counter()
            ex = snapshot(rel, None, edited, cursor + 1, history, diagnostics, index)
            t1 = time.perf_counter()
            related_context(index, rel, edited, cursor + 1, 4096)
            t2 = time.perf_counter()
            snap_ms.append((t1 - t0) * 1000)
            related_ms.append((t2 - t1) * 1000)
            related_counts.append(len(ex.related))
        # typing: consecutive keystrokes in one file, the daemon's real pattern (incremental parse,
        # coalesced history event)
        typing_ms = []
        for _ in range(max(1, args.requests // 25)):
            path = rng.choice(paths)
            rel = path.relative_to(root).as_posix()
            text = path.read_text()
            cursor = rng.randrange(len(text))
            for ch in "value = other_fn(a, b)  ":
                edited = text[:cursor] + ch + text[cursor:]
                history.record(rel, text, edited)
                text, cursor = edited, cursor + 1
                t0 = time.perf_counter()
                snapshot(rel, None, text, cursor, history, diagnostics, index)
                typing_ms.append((time.perf_counter() - t0) * 1000)
        # side by side: what the two per-keystroke optimisations buy, on the same typing edits
        from zeta2_capture.diffs import make_diff
        from zeta2_capture.history import windowed_diff
        from zeta2_capture.related import _parse_cache, _parsed

        whole_ms, window_ms, full_parse_ms, incr_parse_ms = [], [], [], []
        for path in rng.sample(paths, 20):
            rel = path.relative_to(root).as_posix()
            lang = {"py": "python", "js": "javascript", "ts": "typescript", "rs": "rust", "go": "go"}[path.suffix[1:]]
            base = text = path.read_text()
            cursor = rng.randrange(len(text))
            _parsed(lang, rel, text)
            for ch in "value = other_fn(a, b)  ":
                text = text[:cursor] + ch + text[cursor:]
                cursor += 1
                t0 = time.perf_counter()
                make_diff(base, text, rel)
                t1 = time.perf_counter()
                windowed_diff(base, text, rel)
                t2 = time.perf_counter()
                parse(lang, text)
                t3 = time.perf_counter()
                _parsed(lang, rel, text)
                t4 = time.perf_counter()
                whole_ms.append((t1 - t0) * 1000)
                window_ms.append((t2 - t1) * 1000)
                full_parse_ms.append((t3 - t2) * 1000)
                incr_parse_ms.append((t4 - t3) * 1000)
            _parse_cache.clear()
        index.close()
    print(f"history event render, median: make_diff whole file {statistics.median(whole_ms):.3f} ms vs windowed_diff "
          f"{statistics.median(window_ms):.3f} ms ({statistics.median(whole_ms) / statistics.median(window_ms):.1f}x)")
    print(f"buffer parse + outline, median: fresh tree-sitter parse alone {statistics.median(full_parse_ms):.3f} ms vs "
          f"incremental parse + outline {statistics.median(incr_parse_ms):.3f} ms "
          f"({statistics.median(full_parse_ms) / statistics.median(incr_parse_ms):.1f}x)")
    print(f"snapshot while typing ({len(typing_ms)} keystrokes in {len(typing_ms) // 24} files): "
          f"p50 {percentile(typing_ms, 0.5):.2f} ms, p95 {percentile(typing_ms, 0.95):.2f} ms, max {max(typing_ms):.2f} ms")
    print(f"snapshot, cold buffer ({args.requests} random files and cursors): p50 {percentile(snap_ms, 0.5):.2f} ms, "
          f"p95 {percentile(snap_ms, 0.95):.2f} ms, max {max(snap_ms):.2f} ms")
    print(f"related_context alone (buffer parse cached): p50 {percentile(related_ms, 0.5):.2f} ms, "
          f"p95 {percentile(related_ms, 0.95):.2f} ms")
    print(f"related entries per request: mean {statistics.mean(related_counts):.1f}")
    if args.dev:
        from zeta2_capture.schema import read_examples

        real_ms, sizes = [], []
        for ex in read_examples(args.dev):
            history = EditHistory()
            t0 = time.perf_counter()
            snapshot(ex.path, ex.language, ex.before, ex.cursor, history, diagnostics, None)
            real_ms.append((time.perf_counter() - t0) * 1000)
            sizes.append(ex.before.count("\n"))
        print(f"snapshot on {len(real_ms)} real files of {args.dev} (cold parse, no index; median {statistics.median(sizes):.0f}, "
              f"max {max(sizes)} lines): p50 {percentile(real_ms, 0.5):.2f} ms, p95 {percentile(real_ms, 0.95):.2f} ms")


if __name__ == "__main__":
    main()
