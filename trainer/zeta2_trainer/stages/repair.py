"""`zeta2-trainer repair`: send each flagged prediction back to the teacher with the critique.

The teacher gets the original task, its first answer, the problems `qa` found and its edit as a word diff
against the current text, and answers with a corrected region, `KEEP_PREVIOUS` (the first answer stands:
the flags are overruled and recorded) or `NO_EDITS` (the right suggestion is none). Unflagged examples
pass through unchanged. `meta.repair` records the verdict, the flags and the flags of the repaired answer.
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
    parser.add_argument("--tokenizer", default=None, help="the student's tokenizer.json, for the editable region (default: SmolLM2's)")
    parser.add_argument("--family", default="smollm2", help="token-map family of the student (default smollm2)")


def render_repair(example: Any, region: tuple[int, int], verdict: Any, templates: Any) -> tuple[str, str]:
    from .judge import changed_span
    from .teacher_prompt import (
        FENCE_LANGUAGE,
        KEEP_PREVIOUS,
        NO_EDITS,
        fenced,
        load_template,
        render_distill,
        word_diff,
    )

    start, end = region
    system0, user0 = render_distill(example, start, end, templates)
    predicted = example.expected
    if predicted == example.before:
        first = f"{(example.meta.get('distill') or {}).get('intent', '')}\n\n{NO_EDITS}".strip()
    else:
        # the region as the first answer rewrote it (the edit lies inside it unless flagged outside)
        e0, e1 = changed_span(example.before, predicted)
        lo, hi = min(start, e0), max(end, e1)
        new_region = predicted[lo : hi + len(predicted) - len(example.before)]
        first = f"{(example.meta.get('distill') or {}).get('intent', '')}\n\n{fenced(new_region, FENCE_LANGUAGE.get(example.language, ''))}".strip()
    system = load_template("repair_system.md", templates).substitute(keep_previous=KEEP_PREVIOUS, no_edits=NO_EDITS)
    user = load_template("repair_user.md", templates).substitute(
        original_prompt=system0 + "\n\n" + user0,
        first_answer=first,
        problems=verdict.problems(),
        word_diff=fenced(word_diff(example.before, predicted), ""),
        keep_previous=KEEP_PREVIOUS,
        no_edits=NO_EDITS,
    )
    return system, user


def main(args: argparse.Namespace) -> int:
    import asyncio
    from dataclasses import replace

    from ..teachers import Request, make_teacher
    from .common import StageIO, read_input, with_meta
    from .judge import Verdict, judge
    from .teacher_prompt import RegionFinder, parse_answer, region_of
    from .teacher_run import drive, finish_summary

    teacher = make_teacher(args)
    finder = RegionFinder(args.tokenizer, args.family)

    async def work(example: Any) -> tuple[Any, str | None]:
        qa = example.meta.get("qa") or {}
        flags = list(qa.get("flags") or [])
        if not flags or example.expected is None:
            return example, None  # nothing to repair
        region = region_of(example, finder)
        verdict = Verdict(flags, {k: v for k, v in qa.items() if k not in ("judge", "flags")})
        system, user = render_repair(example, region, verdict, args.templates)
        reply = await teacher.complete(Request(system, user, max_tokens=args.max_tokens))
        answer = parse_answer(example, region[0], region[1], reply.text, stop_reason=reply.stop_reason, allow_keep=True)
        info: dict[str, Any] = {"teacher": f"{teacher.provider}:{teacher.model}", "flags": flags, "verdict": answer.verdict, "intent": answer.intent}
        if answer.verdict == "keep_previous":
            info["overruled"] = flags
            return with_meta(example, repair=info), None
        if answer.predicted is None:
            info["error"] = answer.reason
            info["answer"] = reply.text[:4000]
            return with_meta(example, repair=info), answer.reason
        info["flags_after"] = judge(example, answer.predicted, region).flags
        return replace(example, expected=answer.predicted, meta={**example.meta, "repair": info}), None

    with StageIO("repair", args) as io:
        failed = asyncio.run(drive(io, read_input(args.input, io), teacher, work))
        return finish_summary(io, teacher, failed)
