"""`zeta2-trainer distill`: ask a teacher model for the next edit of each example.

The teacher sees the history, the related context and the file with the editable region and cursor
marked (templates/distill_*.md); its answer (intent, then the rewritten region in a code block) becomes
`expected`. The example's previous `expected` (a commit or a settled edit) is kept in
`meta.reference_expected`. Unparseable answers go to the rejects file with the reason.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any


def make_parser(parser: argparse.ArgumentParser) -> None:
    from ..teachers import add_teacher_args
    from .common import add_io_args

    add_io_args(parser, rejects=True)
    add_teacher_args(parser)
    parser.add_argument("--templates", default=None, help="folder with your copies of the prompt templates (default: the packaged ones)")
    parser.add_argument("--tokenizer", default=None, help="the student's tokenizer.json, to lay out the editable region (default: SmolLM2's)")
    parser.add_argument("--family", default="smollm2", help="token-map family of the student (default smollm2)")


LINE_CACHE_SIZE = 200_000  # distinct lines whose token count is kept (then the cache starts over)
WINDOW = 48  # lines tokenized together around the first line the layout asks about


class LineTokens(Sequence[int]):
    """Tokens per line of one file, tokenized only for the lines the region layout looks at.

    The layout (zeta2_capture.region) starts at the cursor's line and grows the region line by line up
    to the region's token budget, then to enclosing syntax nodes: it reads a few dozen lines' counts,
    not the whole file's. Each count is what tokenizing that line alone gives (as `Renderer` counts
    lines), so the layout is the same; counts are also kept by line text across examples (the same
    file recurs at many commits, and blank lines, braces and `return` lines recur everywhere).
    """

    def __init__(self, lines: list[str], tokenizer: Any, cache: dict[str, int]):
        self._lines = lines
        self._tokenizer = tokenizer
        self._cache = cache
        self._counts: list[int | None] = [None] * len(lines)

    def __len__(self) -> int:
        return len(self._lines)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self._lines)))]
        count = self._counts[index]
        if count is None:
            self._fill(index % len(self._lines) if index < 0 else index)
            count = self._counts[index]
        return count

    def _fill(self, index: int) -> None:
        lo, hi = max(0, index - WINDOW // 2), min(len(self._lines), index + WINDOW // 2)
        cache = self._cache
        missing = [line for line in dict.fromkeys(self._lines[lo:hi]) if line not in cache]
        if missing:
            if len(cache) + len(missing) > LINE_CACHE_SIZE:
                cache.clear()
            for line, encoding in zip(missing, self._tokenizer.encode_batch(missing, add_special_tokens=False), strict=True):
                cache[line] = len(encoding.ids)
        for i in range(lo, hi):
            if self._counts[i] is None:
                self._counts[i] = cache.get(self._lines[i])
                if self._counts[i] is None:  # the cache started over while filling
                    self._counts[i] = len(self._tokenizer.encode(self._lines[i], add_special_tokens=False).ids)


class RegionLayouts:
    """The student's editable region of each example, as `RegionFinder.region` (and the student's own
    prompt) lays it out, with the tokenizer work cut to the lines the layout reads (see LineTokens)."""

    def __init__(self, finder: Any):
        self._finder = finder
        self._cache: dict[str, int] = {}

    def region(self, example: Any) -> tuple[int, int]:
        from zeta2_capture.languages import normalize_language
        from zeta2_capture.region import layout_region, split_lines

        renderer = self._finder._get_renderer()
        lines = split_lines(example.before)
        layout = layout_region(
            example.before,
            example.cursor,
            LineTokens(lines, renderer.tokenizer, self._cache),
            region_tokens=renderer.config.region_tokens,
            max_region_tokens=renderer.config.max_region_tokens,
            language=normalize_language(example.language, example.path),
            lines=lines,
        )
        return layout.start, layout.end


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
    finder = RegionLayouts(RegionFinder(args.tokenizer, args.family))

    async def work(example: Any) -> tuple[Any, str | None]:
        start, end = finder.region(example)
        system, user = render_distill(example, start, end, args.templates)
        reply = await teacher.complete(Request(system, user, max_tokens=args.max_tokens))
        answer = parse_answer(example, start, end, reply.text, stop_reason=reply.stop_reason)
        return distill_record(example, answer, reply, teacher, (start, end))

    with StageIO("distill", args) as io:
        failed = asyncio.run(drive(io, read_input(args.input, io), teacher, work))
        return finish_summary(io, teacher, failed)
