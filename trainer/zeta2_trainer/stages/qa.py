"""`zeta2-trainer qa`: flag bad predictions; `meta.qa` gets the verdict.

`--judge rules` (default) applies judge.py's rules: reversal (ratio > 0.9), edits outside the editable
region, added syntax errors, no edit where the history shows an obvious continuation. `--judge llm` asks
a reviewing model (the teacher options; templates/judge_*.md) instead, `--judge both` uses both: the
model's findings become the `llm_judge` flag with its reason, which `repair` passes on.

Every example is written, flagged or not (`repair` sends the flagged ones back to the teacher); the
summary counts each flag. Examples without a prediction (`expected` null) are rejected with the reason.
"""

from __future__ import annotations

import argparse
from typing import Any


def make_parser(parser: argparse.ArgumentParser) -> None:
    from ..teachers import add_teacher_args
    from .common import add_io_args

    add_io_args(parser, rejects=True)
    parser.add_argument("--judge", choices=("rules", "llm", "both"), default="rules", help="rules (default), a reviewing model (llm), or both")
    parser.add_argument("--tokenizer", default=None, help="the student's tokenizer.json, for the editable region of examples distill did not mark (default: SmolLM2's)")
    parser.add_argument("--family", default="smollm2", help="token-map family of the student (default smollm2)")
    parser.add_argument("--templates", default=None, help="folder with your copies of the prompt templates (default: the packaged ones)")
    add_teacher_args(parser)


def count_flags(io: Any, verdict: Any) -> None:
    for flag in verdict.flags:
        io.summary.notes[f"flag {flag}"] = io.summary.notes.get(f"flag {flag}", 0) + 1
    io.summary.notes["flagged"] = io.summary.notes.get("flagged", 0) + bool(verdict.flags)


def main(args: argparse.Namespace) -> int:
    from .common import StageIO, read_input, with_meta
    from .judge import Verdict, judge
    from .teacher_prompt import RegionFinder, region_of

    finder = RegionFinder(args.tokenizer, args.family)

    def no_prediction(example: Any) -> Any:
        return with_meta(example, qa={"judge": args.judge, "error": "no prediction to judge"})

    if args.judge == "rules":
        with StageIO("qa", args) as io:
            io.summary.notes["flagged"] = 0
            for example in read_input(args.input, io):
                if not io.wants(example.id):
                    continue
                if example.expected is None:
                    io.reject(no_prediction(example), "no prediction")
                    continue
                verdict = judge(example, example.expected, region_of(example, finder))
                count_flags(io, verdict)
                io.write(with_meta(example, qa=verdict.to_json()))
        return 0

    import asyncio

    from ..teachers import Request, make_teacher
    from .judge import parse_judge, render_judge
    from .teacher_run import drive, finish_summary

    teacher = make_teacher(args)

    async def work(example: Any) -> tuple[Any, str | None]:
        if example.expected is None:
            return no_prediction(example), "no prediction"
        region = region_of(example, finder)
        verdict = judge(example, example.expected, region) if args.judge == "both" else Verdict()
        verdict.judge = args.judge
        system, user = render_judge(example, example.expected, region, args.templates)
        reply = await teacher.complete(Request(system, user, max_tokens=256))
        parsed = parse_judge(reply.text)
        if parsed is None:
            verdict.details["llm_error"] = "no FLAGS line in the review"
            verdict.details["llm_answer"] = reply.text[:2000]
        else:
            problems, reason = parsed
            verdict.details.update(llm_problems=", ".join(problems) or "none", llm_reason=reason)
            if problems:
                verdict.flags.append("llm_judge")
        count_flags(io, verdict)
        return with_meta(example, qa=verdict.to_json()), None

    with StageIO("qa", args) as io:
        io.summary.notes["flagged"] = 0
        failed = asyncio.run(drive(io, read_input(args.input, io), teacher, work))
        return finish_summary(io, teacher, failed)
