"""``ipledge worker``: deliver webhooks and start scheduled push runs, until SIGTERM or SIGINT.

Any number of workers may run at once: they coordinate only through PostgreSQL (claims with
``FOR UPDATE SKIP LOCKED`` and a lease; push runs under their own locks). Each process has one
:class:`~ipledge.webhooks.http.WebhookClient` (keep-alive connections per endpoint origin),
delivers up to ``worker_concurrency`` messages at a time and records results in batches. On a
signal it stops claiming, lets the deliveries in flight finish (each is bounded by the delivery
timeout), records them and exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import importlib
import logging
import random
import signal
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from ipledge.db.pool import keeps_session_state
from ipledge.db.types import Pool
from ipledge.outbox import NOTIFY_CHANNEL
from ipledge.settings import Settings, SettingsError
from ipledge.webhooks.delivery import CLAIM_SESSION, Claimed, Result, Sender, claim, next_due_in
from ipledge.webhooks.http import WebhookClient
from ipledge.webhooks.record import record_batch, worker_name
from matching.delivery import DEFAULT_RETRY_POLICY, RetryPolicy

log = logging.getLogger("ipledge.worker")

ScheduleFn = Callable[..., Awaitable[int]]
#: Results are recorded in batches of up to this many, after at most this linger.
_BATCH = 200
_LINGER_S = 0.02


def retry_policy(settings: Settings) -> RetryPolicy:
    """The delivery policy: the standard schedule, or ``IPLEDGE_WEBHOOK_RETRY_DELAYS`` when set."""
    delays = DEFAULT_RETRY_POLICY.delays_s
    text = settings.webhook_retry_delays.strip()
    if text:
        try:
            delays = tuple(float(part) for part in text.split(","))
        except ValueError:
            raise SettingsError("IPLEDGE_WEBHOOK_RETRY_DELAYS: expected comma-separated seconds") from None
        if not delays or any(d < 0 for d in delays):
            raise SettingsError("IPLEDGE_WEBHOOK_RETRY_DELAYS: delays must be non-negative")
        return RetryPolicy(version="custom", delays_s=delays, success_timeout_s=settings.webhook_timeout)
    return RetryPolicy(delays_s=delays, success_timeout_s=settings.webhook_timeout)


def http_client(settings: Settings) -> WebhookClient:
    """The one outbound client of a worker process (no redirects, no proxies from the environment).

    Each attempt is bounded by ``webhook_timeout`` as a whole; connecting by at most 5 s of it.
    Connections are at most ``worker_concurrency`` (one per delivery in flight).
    """
    return WebhookClient(
        connect_timeout=min(5.0, settings.webhook_timeout), max_idle_per_origin=settings.worker_concurrency
    )


def _load_schedule() -> ScheduleFn | None:
    try:  # imported lazily: the matching domain owns it and may be absent in a partial install
        module = importlib.import_module("matching.schedule")
        fn: ScheduleFn = module.run_due_push_runs
    except (ImportError, AttributeError):
        log.warning("matching.schedule.run_due_push_runs is not available; scheduled push runs are off")
        return None
    return fn


class _Held:
    """A pool connection this worker keeps for one job (claiming, or recording), replaced after an error.

    Holding it saves the pool's acquire/reset round trips on every claim and every batch.
    """

    def __init__(self, pool: Pool, setup: str | None = None) -> None:
        self.pool = pool
        self.setup = setup
        self.conn: PoolConnectionProxy[Any] | None = None

    async def get(self) -> PoolConnectionProxy[Any]:
        if self.conn is None or self.conn.is_closed():
            await self.drop()
            conn = await self.pool.acquire()
            try:
                if self.setup:
                    keeps_session_state(conn)  # a session setting: reset when the pool gets it back
                    await conn.execute(self.setup)
            except BaseException:
                await self.pool.release(conn)
                raise
            self.conn = conn
        return self.conn

    async def drop(self) -> None:
        """Give the connection back (reset if :meth:`get` set it up); the next :meth:`get` takes another."""
        conn, self.conn = self.conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await self.pool.release(conn)


class Worker:
    """One delivery worker (one per process; many processes may run)."""

    def __init__(self, pool: Pool, client: WebhookClient, settings: Settings, *, name: str | None = None) -> None:
        """Bind the worker to its pool, client and settings."""
        self.pool = pool
        self.client = client
        self.settings = settings
        self.policy = retry_policy(settings)
        self.sender = Sender(
            client, policy=self.policy, secret_key=settings.secret_key, allow_private=settings.allow_private_webhooks
        )
        self.name = name or worker_name()
        self.rng = random.Random()
        self.stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._results: list[tuple[Claimed, Result]] = []
        self._have_results = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._claimer = _Held(pool, CLAIM_SESSION)
        self._recorder = _Held(pool)
        self.delivered = 0

    async def run(self) -> None:
        """Deliver until :attr:`stop` is set, then drain what is in flight."""
        run_due = _load_schedule()  # a heavy import: done before delivering, never in the middle of it
        listener = await self.pool.acquire()
        keeps_session_state(listener)  # LISTEN is the session's: UNLISTEN when it goes back, whatever happens
        await listener.add_listener(NOTIFY_CHANNEL, self._on_notify)
        await self._claimer.get()
        await self._recorder.get()
        recorder = asyncio.create_task(self._record_loop(), name="webhook-recorder")
        scheduler = asyncio.create_task(self._schedule_loop(run_due), name="push-schedule")
        try:
            await self._claim_loop()
        finally:
            if self._inflight:
                await asyncio.gather(*self._inflight, return_exceptions=True)
            self._have_results.set()
            scheduler.cancel()
            await asyncio.gather(recorder, scheduler, return_exceptions=True)
            await self._flush()
            await self._claimer.drop()
            await self._recorder.drop()
            with contextlib.suppress(Exception):
                await listener.remove_listener(NOTIFY_CHANNEL, self._on_notify)
            await self.pool.release(listener)

    def _on_notify(self, *_: Any) -> None:
        self._wake.set()

    async def _claim_loop(self) -> None:
        slots = self.settings.worker_concurrency
        while not self.stop.is_set():
            free = slots - len(self._inflight)
            if 0 < free < max(1, slots // 4) and self._inflight:
                # Let slots accumulate so one claim query fetches a useful batch.
                self._wake.clear()
                await self._idle(False)
                continue
            claimed: list[Claimed] = []
            if free > 0:
                self._wake.clear()
                try:
                    claimed = await claim(await self._claimer.get(), free, self.settings.webhook_lease)
                except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    log.warning("claim failed: %s", exc)  # database blip: back off, keep going
                    await self._claimer.drop()
            for item in claimed:
                task = asyncio.create_task(self._deliver(item))
                self._inflight.add(task)
                task.add_done_callback(self._done)
            if claimed and len(claimed) == free:
                continue
            await self._idle(free > 0 and len(claimed) < free)

    async def _idle(self, nothing_due: bool) -> None:
        timeout = self.settings.worker_poll
        if nothing_due:
            with contextlib.suppress(OSError, asyncio.TimeoutError):
                due = await next_due_in(self.pool)
                if due is not None:
                    timeout = min(timeout, due + 0.005)
        waits = [asyncio.create_task(self._wake.wait()), asyncio.create_task(self.stop.wait())]
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waits:
                waiter.cancel()

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._wake.set()  # a slot is free

    async def _deliver(self, claimed: Claimed) -> None:
        result = await self.sender.send(claimed)
        self._results.append((claimed, result))
        self._have_results.set()

    async def _record_loop(self) -> None:
        while not (self.stop.is_set() and not self._inflight):
            await self._have_results.wait()
            if len(self._results) < _BATCH and self._inflight and not self.stop.is_set():
                # Linger briefly so one commit records many attempts (group commit by hand).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), _LINGER_S)
            self._have_results.clear()
            await self._flush()

    async def _flush(self) -> None:
        while self._results:
            batch, self._results = self._results[:_BATCH], self._results[_BATCH:]
            for attempt in range(5):
                try:
                    await record_batch(await self._recorder.get(), batch, self.name, self.policy, self.rng)
                    self.delivered += sum(1 for _, r in batch if r.verdict.outcome == "success")
                    break
                except Exception:  # a deadlock or a blip: retry; if all fail the leases expire and others retry
                    log.exception("recording %d attempts failed (try %d)", len(batch), attempt + 1)
                    await self._recorder.drop()
                    await asyncio.sleep(0.05 * (attempt + 1))

    async def _schedule_loop(self, run_due: ScheduleFn | None) -> None:
        if run_due is None:
            return
        while not self.stop.is_set():
            try:
                ran = await run_due(self.pool, now=dt.datetime.now(dt.UTC))
                if ran:
                    log.info("scheduled push runs: %d", ran)
            except Exception:
                log.exception("scheduled push runs failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), self.settings.schedule_poll)


async def run_worker(pool: Pool, settings: Settings, *, install_signals: bool = True) -> Worker:
    """Run one worker until SIGTERM/SIGINT; return it (with its counters) after a clean drain."""
    async with http_client(settings) as client:
        worker = Worker(pool, client, settings)
        if install_signals:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, worker.stop.set)
        log.info("worker %s started", worker.name)
        await worker.run()
        log.info("worker %s stopped", worker.name)
    return worker
