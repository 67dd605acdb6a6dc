"""`zeta2-trainer pipeline RECIPE.toml`: run a chain of stages from one TOML recipe.

    workdir = "runs/acme"            # relative paths are inside it (default: the recipe's folder)

    [[stage]]
    run = "synthesize"
    repo = "/src/acme"               # a positional argument, by its name in `--help`
    output = "mined.jsonl"
    limit = 2000

    [[stage]]
    run = "distill"                  # input defaults to the previous stage's output
    output = "distilled.jsonl"
    model = "claude-sonnet-4-5"
    concurrency = 16

Each table is one stage's command line: a key is an option (`max_tokens` or `max-tokens` for
`--max-tokens`), `true` a flag, `false` leaves it out, a list repeats the option. Every stage resumes by
id, so rerunning the recipe after a crash or an outage continues where it stopped. `--dry-run` prints the
equivalent commands.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

PATH_KEYS = (
    "input", "output", "rejects", "cache", "templates", "tokenizer", "repo", "pack",
    "dev", "hf_dir", "model", "cursor_baseline", "predictions", "dataset", "base",
)


def make_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recipe", help="TOML recipe with [[stage]] tables")
    parser.add_argument("--dry-run", action="store_true", help="print the stage commands, run nothing")
    parser.add_argument("--only", default=None, help="run only the stages whose `run` is in this comma-separated list")


def stage_argv(table: dict[str, Any], parser: argparse.ArgumentParser, where: str, workdir: Path) -> list[str]:
    from .common import StageError

    positional = [a.dest for a in parser._actions if not a.option_strings]
    options = {a.dest: a for a in parser._actions if a.option_strings}
    argv: list[str] = []
    values = {k.replace("-", "_"): v for k, v in table.items() if k != "run"}
    for dest in positional:
        if dest not in values:
            raise StageError(f"{where}: missing {dest!r}")
        argv.append(_path(values.pop(dest), dest, workdir))
    for key, value in values.items():
        action = options.get(key)
        if action is None:
            known = ", ".join(sorted(k for k in options if k != "help"))
            raise StageError(f"{where}: unknown option {key!r} (known: {known})")
        flag = max(action.option_strings, key=len)
        if isinstance(value, bool):
            if action.nargs == 0:
                if value:
                    argv.append(flag)
                continue
            value = str(value).lower()
        for item in value if isinstance(value, list) else [value]:
            argv += [flag, _path(item, key, workdir)]
    return argv


def _path(value: Any, key: str, workdir: Path) -> str:
    text = str(value)
    if key in PATH_KEYS and text != "-" and isinstance(value, str):
        path = Path(text).expanduser()
        return str(path if path.is_absolute() else workdir / path)
    return text


def main(args: argparse.Namespace) -> int:
    import importlib
    import tomllib

    from ..cli import COMMANDS
    from .common import StageError

    recipe = Path(args.recipe)
    if not recipe.exists():
        raise StageError(f"recipe {recipe} does not exist")
    try:
        config = tomllib.loads(recipe.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise StageError(f"{recipe}: invalid TOML: {exc}") from None
    stages = config.get("stage")
    if not isinstance(stages, list) or not stages:
        raise StageError(f"{recipe}: no [[stage]] tables")
    workdir = Path(config.get("workdir", ".")).expanduser()
    if not workdir.is_absolute():
        workdir = recipe.resolve().parent / workdir
    only = {s.strip() for s in args.only.split(",")} if args.only else None

    planned: list[tuple[str, Any, list[str]]] = []
    previous_output: str | None = None
    for number, table in enumerate(stages, start=1):
        name = table.get("run") if isinstance(table, dict) else None
        where = f"{recipe}: stage {number} ({name})"
        if name not in COMMANDS or name == "pipeline":
            raise StageError(f"{recipe}: stage {number}: unknown stage {name!r} (known: {', '.join(n for n in COMMANDS if n != 'pipeline')})")
        module = importlib.import_module(COMMANDS[name][0])
        parser = argparse.ArgumentParser(prog=f"zeta2-trainer {name}")
        module.make_parser(parser)
        table = dict(table)
        dests = {a.dest for a in parser._actions}
        if "input" in dests and "input" not in table:
            if previous_output is None:
                raise StageError(f"{where}: needs an input (it is the first stage)")
            table = {"input": previous_output, **table}
        argv = stage_argv(table, parser, where, workdir)
        if "output" in table:
            previous_output = str(table["output"])
        if only is None or name in only:
            planned.append((name, module, argv))

    for name, module, argv in planned:
        line = "zeta2-trainer " + shlex.join([name, *argv])
        print(f"pipeline: {line}", file=sys.stderr)
        if args.dry_run:
            continue
        parser = argparse.ArgumentParser(prog=f"zeta2-trainer {name}")
        module.make_parser(parser)
        code = int(module.main(parser.parse_args(argv)) or 0)
        if code != 0:
            raise StageError(f"stage {name} exited with {code}; fix the cause and rerun the recipe (finished work is kept)")
    print(f"pipeline: {len(planned)} stages {'planned' if args.dry_run else 'done'}", file=sys.stderr)
    return 0
