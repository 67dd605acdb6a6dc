"""`zeta2-trainer`: one console script, one subcommand per stage.

Each stage module defines `make_parser(parser)` (adds its arguments to its subparser) and `main(args) -> int`.
Stage modules keep heavy imports (torch, transformers) inside `main`, so `--help` is fast everywhere.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

from zeta2_capture.schema import ExampleError

from . import __version__
from .errors import USER_ERRORS

# name -> (module, one-line help). Order is the order of a typical run.
COMMANDS: dict[str, tuple[str, str]] = {
    "synthesize": ("zeta2_trainer.stages.synthesize", "mine examples from a local git repository's history"),
    "ingest": ("zeta2_trainer.stages.ingest", "turn zeta2-capture exports into examples"),
    "distill": ("zeta2_trainer.stages.distill", "ask a teacher model for the next edit of each example"),
    "qa": ("zeta2_trainer.stages.qa", "flag bad predictions (reversals, breakage, edits outside the region)"),
    "repair": ("zeta2_trainer.stages.repair", "send flagged predictions back to the teacher with a critique"),
    "filter-settled": ("zeta2_trainer.stages.filter_settled", "keep settled examples the student finds neither trivial nor hopeless"),
    "split": ("zeta2_trainer.stages.split", "train/dev/test by repository, then by time"),
    "pipeline": ("zeta2_trainer.stages.pipeline", "run a chain of stages from a TOML recipe"),
    "train": ("zeta2_trainer.train", "fine-tune a student (LoRA by default)"),
    "export": ("zeta2_trainer.export", "export a Hugging Face model folder to a model pack"),
    "bootstrap": ("zeta2_trainer.bootstrap", "build the default SmolLM2-135M model pack"),
    "predict": ("zeta2_trainer.predict", "predict the next edit for each example with a model pack"),
    "eval": ("zeta2_trainer.evaluate", "score predictions: delta chrF, reversal ratio, exact match, ..."),
    "ab-report": ("zeta2_trainer.abreport", "compare A/B variants from the daemon's usage log"),
}


def available_commands() -> dict[str, tuple[str, str]]:
    """The commands whose module is installed (a partial checkout lists only what it has)."""
    found = {}
    for name, (module, summary) in COMMANDS.items():
        if importlib.util.find_spec(module.rsplit(".", 1)[0]) is None:
            continue
        try:
            spec = importlib.util.find_spec(module)
        except ModuleNotFoundError:
            spec = None
        if spec is not None:
            found[name] = (module, summary)
    return found


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zeta2-trainer", description="zeta2's offline trainer.")
    parser.add_argument("--version", action="version", version=f"zeta2-trainer {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, summary) in available_commands().items():
        stage = importlib.import_module(module)
        stage_parser = sub.add_parser(name, help=summary, description=summary)
        stage.make_parser(stage_parser)
        stage_parser.set_defaults(_main=stage.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._main(args) or 0)
    except (*USER_ERRORS, ExampleError) as exc:
        print(f"zeta2-trainer {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"zeta2-trainer {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
