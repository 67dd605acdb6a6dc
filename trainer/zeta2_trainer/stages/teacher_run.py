"""Drives a teacher over a stream of examples: bounded work in flight, results written as they come.

Memory stays flat: at most `2 x concurrency` examples are held at once. An example whose request fails
for good (after the teacher's retries) is not written, so a rerun asks again; a refusal that no retry can
fix (bad key, unknown model) stops the stage with the server's message.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from .common import StageError, StageIO

FATAL_STATUSES = frozenset({400, 401, 403, 404})

# work(example) -> (record, None) to write, (record, reason) to reject, or None to pass nothing
Work = Callable[[Any], Awaitable[tuple[Any, str | None] | None]]


async def drive(io: StageIO, examples: Iterable[Any], teacher: Any, work: Work) -> int:
    """Runs `work` over the examples this shard still needs; returns how many failed for good."""
    from ..teachers import TeacherError

    failed = 0
    pending: set[asyncio.Task] = set()
    limit = max(2, 2 * teacher.concurrency)

    def finish(task: asyncio.Task) -> None:
        nonlocal failed
        try:
            result = task.result()
        except TeacherError as exc:
            if exc.status in FATAL_STATUSES:
                raise StageError(f"the teacher refused the request: {exc}") from None
            failed += 1
            io.summary.skipped["teacher error"] += 1
            print(f"{io.summary.stage}: {task.get_name()}: {exc}", file=sys.stderr)
            return
        if result is None:
            return
        record, reason = result
        if reason is None:
            io.write(record)
        else:
            io.reject(record, reason)

    async with teacher:
        try:
            for example in examples:
                if not io.wants(example.id):
                    continue
                if len(pending) >= limit:
                    done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        pending.discard(task)
                        finish(task)
                pending.add(asyncio.create_task(work(example), name=example.id))
            while pending:
                done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    pending.discard(task)
                    finish(task)
        finally:
            for task in pending:
                task.cancel()
    return failed


def finish_summary(io: StageIO, teacher: Any, failed: int) -> int:
    usage = teacher.usage
    io.summary.notes["teacher"] = f"{teacher.provider}:{teacher.model}"
    io.summary.notes["usage"] = usage.line()
    if teacher.cache is not None:
        teacher.cache.close()
    if failed:
        print(f"{io.summary.stage}: {failed} examples failed after retries; rerun the same command to retry them", file=sys.stderr)
        return 1
    return 0
