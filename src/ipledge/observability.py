"""Health, readiness, Prometheus metrics, request ids and access logs."""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import re
import time
import uuid
from typing import Any

from litestar import Controller, MediaType, Response, get
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST

from ipledge.context import request_id_var
from ipledge.db.migrate import MigrationError, pending_migrations
from ipledge.errors import PROBLEM_JSON
from ipledge.logs import AccessEntry, write_access_log
from ipledge.metrics import STATS, exposition

_RID = re.compile(rb"[A-Za-z0-9._-]{1,64}")  # an incoming X-Request-ID is kept when it matches in full


# Request ids: a random per-process prefix and a counter (unique, and no urandom call per request).
_RID_PREFIX = uuid.uuid4().hex[:16]
_RID_COUNTER = itertools.count(1)

#: At most this long (seconds) a finished request waits to be counted in the metrics and written to the access log.
FLUSH_S = 0.02
#: ... or until this many requests wait.
FLUSH_AT = 256

#: A finished request: method, route template, path, status, start and end (``time.perf_counter``), request id.
Finished = tuple[str, str, str, int, float, float, str]


class RequestLedger:
    """The requests finished since the last flush, counted and logged together.

    Per request the middleware only appends a tuple. Up to :data:`FLUSH_S` later (or at the
    :data:`FLUSH_AT`-th request) :meth:`drain` counts them all into the metrics and writes their
    access-log lines with one write. Done request by request, the same work cost several times what it
    costs in a tight loop (between two requests its code and data fall out of the CPU's caches): ~4-6%
    of the throughput of a calculator request (docs/valuation-walkthrough.md, session 19).

    ``/metrics`` drains first, so a scrape counts every request finished before it. A process killed
    outright loses the lines of its last :data:`FLUSH_S`; the app's lifespan drains when it stops.
    """

    def __init__(self) -> None:
        self.pending: list[Finished] = []
        self.due: asyncio.TimerHandle | None = None

    def schedule(self) -> None:
        """Called after an append when no flush is due or too many wait: flush now, or in FLUSH_S."""
        if len(self.pending) >= FLUSH_AT:
            self.drain()
        elif self.due is None:
            # In an empty context: nothing of the request that happened to come first leaks into the flush.
            self.due = asyncio.get_running_loop().call_later(FLUSH_S, self.drain, context=contextvars.Context())

    def drain(self) -> None:
        """Count and log every waiting request, now."""
        if self.due is not None:
            self.due.cancel()
            self.due = None
        if not self.pending:
            return
        batch = self.pending[:]
        self.pending.clear()
        wall = time.time() - time.perf_counter()  # perf_counter → wall clock, for the lines' timestamps
        lines: list[AccessEntry] = []
        for method, route, path, status, start, end, rid in batch:
            seconds = end - start
            STATS.observe(method, route, status, seconds)
            lines.append((wall + end, method, path, status, round(seconds * 1000, 2), rid))
        write_access_log(lines)


#: This process's ledger: the middleware fills it; ``/metrics`` and the app's lifespan drain it.
LEDGER = RequestLedger()


def request_context_middleware(app: ASGIApp, ledger: RequestLedger = LEDGER) -> ASGIApp:
    """Give every request an id (``X-Request-ID`` in and out), time it, and count and log it (``ledger``)."""
    pending, schedule, perf_counter = ledger.pending, ledger.schedule, time.perf_counter

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        incoming = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value
                break
        if incoming is not None and _RID.fullmatch(incoming):
            rid_header, rid = incoming, incoming.decode("ascii")
        else:
            rid = f"{_RID_PREFIX}{next(_RID_COUNTER):016x}"
            rid_header = rid.encode("ascii")
        token = request_id_var.set(rid)
        start = perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # What MutableScopeHeaders(...)["x-request-id"] = rid does, without building its helper object,
                # and copying the list only (not lower-casing every name) when no handler set the header itself.
                headers = message.get("headers") or ()
                for name, _ in headers:
                    if len(name) == 12 and bytes(name).lower() == b"x-request-id":
                        headers = [h for h in headers if bytes(h[0]).lower() != b"x-request-id"]
                        break
                message["headers"] = [*headers, (b"x-request-id", rid_header)]
            await send(message)

        try:
            await app(scope, receive, send_wrapper)
        finally:
            end = perf_counter()
            request_id_var.reset(token)
            pending.append(
                (scope["method"], scope.get("path_template") or "unmatched", scope["path"], status, start, end, rid)
            )
            if ledger.due is None or len(pending) >= FLUSH_AT:
                schedule()

    return middleware


class HealthController(Controller):
    tags = ["operations"]
    include_in_schema = True

    @get("/health", operation_id="health", summary="Liveness", exclude_from_auth=True)
    async def health(self) -> dict[str, str]:
        return {"status": "alive"}

    @get(
        "/ready",
        operation_id="ready",
        summary="Readiness: database reachable, migrations current",
        exclude_from_auth=True,
    )
    async def ready(self, state: State) -> Response[Any]:
        try:
            async with state.pool.acquire(timeout=2) as conn:
                pending = await pending_migrations(conn)
        except MigrationError as exc:
            return _not_ready(f"migrations: {exc}")
        except Exception as exc:  # any other failure means not ready
            return _not_ready(f"database unreachable: {type(exc).__name__}")
        if pending:
            return _not_ready(f"migrations pending: {', '.join(pending)}")
        return Response({"status": "ready"})

    @get(
        "/metrics",
        operation_id="metrics",
        summary="Prometheus metrics",
        exclude_from_auth=True,
        media_type=MediaType.TEXT,
    )
    async def metrics(self) -> Response[bytes]:
        LEDGER.drain()  # every request finished so far is counted
        return Response(exposition(), media_type=CONTENT_TYPE_LATEST)


def _not_ready(detail: str) -> Response[Any]:
    body = {"type": "/problems/not-ready", "title": "Service unavailable", "status": 503, "detail": detail}
    return Response(body, status_code=503, media_type=PROBLEM_JSON)
