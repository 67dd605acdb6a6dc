"""The hidden `--test-clock` mode: tests move the daemon's clock over LSP instead of sleeping.

Settling (10 s), retention (15..300 s) and debounce are all timed by the server's clock; with a
`ManualClock`, `zeta2/test/advanceClock {seconds}` moves it and runs the settle timer once, so an
end-to-end test of a five-minute retention mark takes milliseconds.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from pygls.exceptions import JsonRpcInvalidParams

from .methods import ADVANCE_CLOCK
from .params import field

if TYPE_CHECKING:
    from .server import Zeta2Server


class ManualClock:
    """monotonic() plus an offset that tests advance."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


def register_test_clock(ls: Zeta2Server) -> None:
    @ls.feature(ADVANCE_CLOCK)
    def advance(ls: Zeta2Server, params: Any) -> dict[str, Any]:
        seconds = field(params, "seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise JsonRpcInvalidParams(message=f"{ADVANCE_CLOCK}: params.seconds must be a non-negative number, got {seconds!r:.60}")
        ls.clock.offset += seconds
        ls.scheduler.poke()
        outcomes = ls.capture.tick()
        ls.capture.flush()
        return {"outcomes": [type(o).__name__ for o in outcomes], "records": dict(ls.capture.records)}
