"""A synthetic git repository with thousands of commits, built with `git fast-import` (seconds).

Python, JavaScript, Rust and Go files evolve by small random edits: renamed identifiers across a few
lines (multi-hunk), inserted statements (typing), one-line changes; some commits touch one file only
(noop candidates), some many. Deterministic for a seed.
"""

from __future__ import annotations

import argparse
import random
import subprocess
from pathlib import Path

TEMPLATES = {
    "py": ("def {name}(value):\n    result = value + {n}\n    return result\n\n\n", "    print({name}, {n})\n"),
    "js": ("function {name}(value) {{\n  const result = value + {n};\n  return result;\n}}\n\n", "  console.log({name}, {n});\n"),
    "rs": ("fn {name}(value: i64) -> i64 {{\n    let result = value + {n};\n    result\n}}\n\n", "    println!(\"{{}}\", {n});\n"),
    "go": ("func {name}(value int) int {{\n\tresult := value + {n}\n\treturn result\n}}\n\n", "\tfmt.Println({n})\n"),
}
WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau".split()


def initial(ext: str, rng: random.Random) -> list[str]:
    header = {"py": "import os\n\n\n", "js": "'use strict';\n\n", "rs": "use std::fmt;\n\n", "go": "package main\n\n"}[ext]
    body = [TEMPLATES[ext][0].format(name=f"{rng.choice(WORDS)}_{i}", n=i) for i in range(rng.randint(8, 30))]
    return [header] + body


def mutate(ext: str, blocks: list[str], rng: random.Random, step: int) -> None:
    kind = rng.random()
    i = rng.randrange(1, len(blocks))
    if kind < 0.4:  # rename an identifier in one block and the next (two hunks)
        old = rng.choice(WORDS)
        new = f"{rng.choice(WORDS)}{step}"
        for j in (i, min(i + 2, len(blocks) - 1)):
            blocks[j] = blocks[j].replace("value", new, 1) if old not in blocks[j] else blocks[j].replace(old, new)
    elif kind < 0.75:  # insert a statement
        lines = blocks[i].split("\n")
        lines.insert(2, TEMPLATES[ext][1].format(name=rng.choice(WORDS), n=step).rstrip("\n"))
        blocks[i] = "\n".join(lines)
    elif kind < 0.9:  # a new function
        blocks.insert(i, TEMPLATES[ext][0].format(name=f"{rng.choice(WORDS)}_{step}", n=step))
    else:  # change a number
        blocks[i] = blocks[i].replace("+ ", f"* {step} + ", 1)


def build(target: Path, commits: int, files: int, seed: int) -> None:
    rng = random.Random(seed)
    subprocess.run(["git", "init", "-q", "--bare", str(target)], check=True)
    paths = [f"src/mod{i}.{ext}" for i, ext in zip(range(files), ["py", "js", "rs", "go"] * files, strict=False)]
    state = {p: initial(p.rsplit(".", 1)[1], rng) for p in paths}
    stream = []
    when = 1_600_000_000
    for c in range(commits):
        touched = paths if c == 0 else rng.sample(paths, 1 if rng.random() < 0.6 else rng.randint(2, 4))
        if c:
            for p in touched:
                mutate(p.rsplit(".", 1)[1], state[p], rng, c)
        when += rng.randint(60, 86_400)
        message = f"commit {c}\n"
        stream.append(f"commit refs/heads/main\nmark :{c + 1}\ncommitter Bench <bench@example.com> {when} +0000\n")
        stream.append(f"data {len(message.encode())}\n{message}")
        if c:
            stream.append(f"from :{c}\n")
        for p in touched:
            data = "".join(state[p]).encode()
            stream.append(f"M 100644 inline {p}\ndata {len(data)}\n")
            stream.append(data.decode() + "\n")
    subprocess.run(["git", "-C", str(target), "fast-import", "--quiet"], input="".join(stream).encode(), check=True)
    subprocess.run(["git", "-C", str(target), "symbolic-ref", "HEAD", "refs/heads/main"], check=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path)
    parser.add_argument("--commits", type=int, default=3000)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    build(args.target, args.commits, args.files, args.seed)
