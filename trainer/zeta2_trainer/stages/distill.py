"""`zeta2-trainer distill`: ask a teacher model for the next edit of each example.

The teacher sees the history, the related context and the file with the editable region and cursor
marked (templates/distill_*.md); its answer (intent, then the rewritten region in a code block) becomes
`expected`. The example's previous `expected` (a commit or a settled edit) is kept in
`meta.reference_expected`. Unparseable answers go to the rejects file with the reason.
"""

from __future__ import annotations

import argparse
from typing import Any


def make_parser(parser: argparse.ArgumentParser) -> None:
    from ..teachers import add_teacher_args
    from .common import add_io_args

    add_io_args(parser, rejects=True)
    add_teacher_args(parser)
    parser.add_argument("--templates", default=None, help="folder with your copies of the prompt templates (default: the packaged ones)")
    parser.add_argument("--tokenizer", default=None, help="the student's tokenizer.json, to lay out the editable region (default: SmolLM2's)")
    parser.add_argument("--family", default="smollm2", help="token-map family of the student (default smollm2)")


def distill_record(example: Any, answer: Any, reply: Any, teacher: Any, region: tuple[int, int]) -> tuple[Any, str | None]:
    from dataclasses import replace

    info = {
        "teacher": f"{teacher.provider}:{teacher.model}",
        "intent": answer.intent,
        "region": list(region),
        "verdict": answer.verdict,
        "cached": reply.cached,
    }
    meta = dict(example.meta)
    if example.expected is not None and "reference_expected" not in meta:
        meta["reference_expected"] = example.expected
    if answer.predicted is None:
        info["error"] = answer.reason
        info["answer"] = reply.text[:4000]
        return replace(example, meta={**meta, "distill": info}), answer.reason
    return replace(example, expected=answer.predicted, meta={**meta, "distill": info}), None


def main(args: argparse.Namespace) -> int:
    import asyncio

    from ..teachers import Request, make_teacher
    from .common import StageIO, read_input
    from .teacher_prompt import RegionFinder, parse_answer, render_distill
    from .teacher_run import drive, finish_summary

    teacher = make_teacher(args)
    finder = RegionFinder(args.tokenizer, args.family)

    async def work(example: Any) -> tuple[Any, str | None]:
        start, end = finder.region(example)
        system, user = render_distill(example, start, end, args.templates)
        reply = await teacher.complete(Request(system, user, max_tokens=args.max_tokens))
        answer = parse_answer(example, start, end, reply.text, stop_reason=reply.stop_reason)
        return distill_record(example, answer, reply, teacher, (start, end))

    with StageIO("distill", args) as io:
        failed = asyncio.run(drive(io, read_input(args.input, io), teacher, work))
        return finish_summary(io, teacher, failed)
