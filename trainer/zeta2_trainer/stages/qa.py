"""`zeta2-trainer qa`: flag bad predictions with the rules judge (judge.py); `meta.qa` gets the verdict.

Every example is written, flagged or not (`repair` sends the flagged ones back to the teacher); the
summary counts each flag. Examples without a prediction (`expected` null) are rejected with the reason.
"""

from __future__ import annotations

import argparse


def make_parser(parser: argparse.ArgumentParser) -> None:
    from .common import add_io_args

    add_io_args(parser, rejects=True)
    parser.add_argument("--tokenizer", default=None, help="the student's tokenizer.json, for the editable region of examples distill did not mark (default: SmolLM2's)")
    parser.add_argument("--family", default="smollm2", help="token-map family of the student (default smollm2)")


def main(args: argparse.Namespace) -> int:
    from .common import StageIO, read_input, with_meta
    from .judge import judge
    from .teacher_prompt import RegionFinder, region_of

    finder = RegionFinder(args.tokenizer, args.family)
    with StageIO("qa", args) as io:
        flagged = 0
        for example in read_input(args.input, io):
            if not io.wants(example.id):
                continue
            if example.expected is None:
                io.reject(with_meta(example, qa={"judge": "rules", "error": "no prediction to judge"}), "no prediction")
                continue
            verdict = judge(example, example.expected, region_of(example, finder))
            for flag in verdict.flags:
                io.summary.notes[f"flag {flag}"] = io.summary.notes.get(f"flag {flag}", 0) + 1
            flagged += bool(verdict.flags)
            io.write(with_meta(example, qa=verdict.to_json()))
        io.summary.notes["flagged"] = flagged
    return 0
