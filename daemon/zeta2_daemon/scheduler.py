"""When a suggestion request may start: per-document debounce and a bounded pending queue.

Policy (BRIEF section 4): at most one request *starts* per document per debounce interval (300 ms by
default); at most `max_pending` requests per document wait or run at once, and a newer one cancels
the oldest. `Debouncer` and `PendingRequests` are plain logic with an injected clock so tests drive
time instead of sleeping; `Scheduler` puts them together for the server's asyncio loop.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]


class Debouncer:
    """Remembers when the last request started per key; says how long a new one must wait."""

    def __init__(self, interval_s: float, clock: Clock = time.monotonic):
        self.interval_s = interval_s
        self.clock = clock
        self._last_start: dict[str, float] = {}

    def delay(self, key: str) -> float:
        """Seconds until a request for `key` may start; 0 when it may start now."""
        last = self._last_start.get(key)
        if last is None:
            return 0.0
        return max(0.0, last + self.interval_s - self.clock())

    def mark_started(self, key: str) -> None:
        self._last_start[key] = self.clock()

    def forget(self, key: str) -> None:
        self._last_start.pop(key, None)


@dataclass(eq=False)
class Ticket:
    """One suggestion request waiting for its turn or running."""

    key: str
    number: int
    cancelled: bool = False
    started: bool = False
    reason: str = ""
    _wake: asyncio.Event | None = field(default=None, repr=False)

    def cancel(self, reason: str) -> None:
        self.cancelled = True
        self.reason = reason
        if self._wake is not None:
            self._wake.set()


class PendingRequests:
    """At most `per_key` tickets per key and `total` overall; adding one beyond cancels the oldest waiting one."""

    def __init__(self, per_key: int = 2, total: int = 16):
        self.per_key = per_key
        self.total = total
        self._by_key: dict[str, list[Ticket]] = {}
        self._all: OrderedDict[int, Ticket] = OrderedDict()
        self._numbers = itertools.count(1)

    def add(self, key: str) -> tuple[Ticket, list[Ticket]]:
        """A new ticket, and the older tickets it displaced (already marked cancelled)."""
        ticket = Ticket(key, next(self._numbers))
        queue = self._by_key.setdefault(key, [])
        queue.append(ticket)
        self._all[ticket.number] = ticket
        displaced = []
        while len(queue) > self.per_key:
            # A newer request replaces the oldest one still *waiting*; a started one is about to answer.
            victim = next((t for t in queue[:-1] if not t.started), queue[0])
            displaced.append(victim)
            self.remove(victim)
        while len(self._all) > self.total:
            oldest = next(iter(self._all.values()))
            displaced.append(oldest)
            self.remove(oldest)
        for old in displaced:
            old.cancel("superseded by a newer request")
        return ticket, displaced

    def remove(self, ticket: Ticket) -> None:
        queue = self._by_key.get(ticket.key)
        if queue and ticket in queue:
            queue.remove(ticket)
            if not queue:
                del self._by_key[ticket.key]
        self._all.pop(ticket.number, None)

    def pending(self, key: str) -> list[Ticket]:
        return list(self._by_key.get(key, ()))

    def __len__(self) -> int:
        return len(self._all)


class Scheduler:
    """Async front of the policy: `await admit(key)` returns a ticket once it may start, or None."""

    def __init__(
        self,
        interval_s: float = 0.3,
        max_pending: int = 2,
        *,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ):
        self.debouncer = Debouncer(interval_s, clock)
        self.pending = PendingRequests(max_pending)
        self._sleep = sleep

    def configure(self, interval_s: float, max_pending: int) -> None:
        self.debouncer.interval_s = interval_s
        self.pending.per_key = max_pending

    async def admit(self, key: str) -> Ticket:
        """Waits for the debounce; the ticket comes back cancelled when a newer request displaced it."""
        ticket, _ = self.pending.add(key)
        ticket._wake = asyncio.Event()
        try:
            while not ticket.cancelled:
                delay = self.debouncer.delay(key)
                if delay <= 0:
                    break
                if self._sleep is not None:
                    await self._sleep(delay)
                else:
                    # Wake early when displaced (a cancelled request answers at once) or poked.
                    ticket._wake.clear()
                    try:
                        await asyncio.wait_for(ticket._wake.wait(), timeout=delay)
                    except TimeoutError:
                        pass
            if not ticket.cancelled:
                ticket.started = True
                self.debouncer.mark_started(key)
        except BaseException:
            self.pending.remove(ticket)
            raise
        return ticket

    def poke(self) -> None:
        """Makes every waiting request re-check its delay now (after a test moved the clock)."""
        for ticket in list(self.pending._all.values()):
            if ticket._wake is not None:
                ticket._wake.set()

    def done(self, ticket: Ticket) -> None:
        self.pending.remove(ticket)

    def forget(self, key: str) -> None:
        for ticket in self.pending.pending(key):
            ticket.cancel("document closed")
            self.pending.remove(ticket)
        self.debouncer.forget(key)
