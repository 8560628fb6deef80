"""Admission control: heavy requests are worked on a few at a time per process, in the order they arrived.

A pledge assessment is ~3 ms of this process's CPU around two database round trips. When every request
that arrives starts at once, the event loop interleaves all of them: each new round-trip answer queues behind
whatever the others are computing, so a request's time depends on luck rather than on when it came (at 16
connections on two workers, p99 was ~1.6x the mean). Letting a few in at a time, first come first served,
keeps the database and the CPU as busy (a slot's round trip overlaps another's computing) while the rest wait
in a queue that is fair: the same mean, a tighter tail. Measured in ``bench/bench_valuation_api.py``.

A smaller asyncpg pool is no such queue: a request arriving just as a connection comes back takes it before the
waiter woken for it, which then waits again at the back (p99 got worse when tried). ``asyncio.Semaphore`` is
first come first served but keeps no bound on its queue.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from litestar import Request

from ipledge.errors import AppError


class Busy(AppError):
    """More requests of a kind are waiting than a process queues: try again shortly."""

    status = 503
    slug = "busy"
    headers = {"Retry-After": "1"}


class FairLimiter:
    """At most ``slots`` holders at once; the others are let in strictly in arrival order.

    A released slot is handed to the oldest waiter directly (never put back for a newcomer to take). At most
    ``queue`` may wait: the next one is refused with :class:`Busy`. A waiter that is cancelled (a timeout around
    it, the server shutting down) leaves the queue; one cancelled just after being handed a slot passes it on.
    """

    def __init__(self, slots: int, queue: int) -> None:
        if slots < 1 or queue < 0:
            raise ValueError("slots must be ≥ 1 and queue ≥ 0")
        self.slots = slots
        self.queue = queue
        self._free = slots
        self._waiters: deque[asyncio.Future[None]] = deque()
        self.admitted = 0
        self.refused = 0

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    @property
    def running(self) -> int:
        return self.slots - self._free

    async def __aenter__(self) -> None:
        if self._free and not self._waiters:
            self._free -= 1
            self.admitted += 1
            return
        if len(self._waiters) >= self.queue:
            self.refused += 1
            raise Busy("请求排队已满，请稍后重试 / too many requests are waiting: retry shortly")
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # handed a slot, then cancelled: the next one gets it
            elif waiter in self._waiters:  # a release may have dropped it already (it skips cancelled ones)
                self._waiters.remove(waiter)
            raise
        self.admitted += 1

    async def __aexit__(self, *exc: object) -> None:
        self._release()

    def _release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot goes to it: _free stays as it is
                return
        self._free += 1


def limiter(request: Request[Any, Any, Any], name: str) -> FairLimiter:
    """The app's limiter ``name`` (``app.state.limiters``), for a handler to hold while it works.

    Held by the handler, after authentication and the body's decoding: a client trickling its body, or one
    without a valid key, does not hold a slot or a place in the queue; nor does writing the response.
    """
    found: FairLimiter = request.app.state.limiters[name]
    return found


__all__ = ["Busy", "FairLimiter", "limiter"]
