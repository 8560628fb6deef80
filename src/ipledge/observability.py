"""Health, readiness, Prometheus metrics, request ids and access logs."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from litestar import Controller, MediaType, Response, get
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from ipledge.context import request_id_var
from ipledge.db.migrate import MigrationError, pending_migrations
from ipledge.errors import PROBLEM_JSON
from ipledge.logs import access_log

REQUESTS = Counter("ipledge_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "ipledge_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
#: prometheus_client's multiprocess mode: each process keeps its metrics in files in this directory.
METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
_RID = re.compile(rb"[A-Za-z0-9._-]{1,64}")  # an incoming X-Request-ID is kept when it matches in full


# Request ids: a random per-process prefix and a counter (unique, and no urandom call per request).
_RID_PREFIX = uuid.uuid4().hex[:16]
_RID_COUNTER = itertools.count(1)
# Metric children by label values: ``labels()`` costs a lock and a tuple build on every call.
_CHILDREN: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def _metrics(method: str, route: str, status: int, elapsed: float) -> None:
    children = _CHILDREN.get((method, route, status))
    if children is None:
        children = (REQUESTS.labels(method, route, str(status)), LATENCY.labels(method, route))
        if len(_CHILDREN) < 10_000:
            _CHILDREN[(method, route, status)] = children
    children[0].inc()
    children[1].observe(elapsed)


@contextmanager
def shared_metrics_dir() -> Iterator[str]:
    """While worker processes run: a directory they all keep their metrics in, named by ``PROMETHEUS_MULTIPROC_DIR``.

    With several ``ipledge serve`` workers each process counts its own requests, and ``/metrics`` is answered by
    whichever worker takes the connection: without a shared store a scrape saw one worker's counts, a different
    one each time (Prometheus would read every switch as a counter reset). prometheus_client's multiprocess mode
    keeps each process's values in a file here, and ``/metrics`` sums the files. The variable must be set before
    the workers start (they inherit it); a fresh private directory is made and removed afterwards, or, if the
    operator named one, its old files are removed first (prometheus_client's rule for a restart).
    """
    given = os.environ.get(METRICS_DIR_ENV)
    if given:
        for old in Path(given).glob("*.db"):
            old.unlink()
        yield given
        return
    path = tempfile.mkdtemp(prefix="ipledge-metrics-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    os.environ[METRICS_DIR_ENV] = path
    try:
        yield path
    finally:
        os.environ.pop(METRICS_DIR_ENV, None)
        shutil.rmtree(path, ignore_errors=True)


def exposition() -> bytes:
    """The Prometheus text of this process, or of all worker processes when they share a metrics directory."""
    directory = os.environ.get(METRICS_DIR_ENV)
    if not directory:
        return generate_latest()
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]  # untyped in prometheus_client
    return generate_latest(registry)


def request_context_middleware(app: ASGIApp) -> ASGIApp:
    """Give every request an id (``X-Request-ID`` in and out), time it, count it and log it."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        http_scope = scope
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
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # What MutableScopeHeaders(...)["x-request-id"] = rid does, without building its helper object.
                headers = [h for h in message.get("headers") or () if bytes(h[0]).lower() != b"x-request-id"]
                headers.append((b"x-request-id", rid_header))
                message["headers"] = headers
            await send(message)

        try:
            await app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("path_template") or "unmatched"
            method = http_scope["method"]
            _metrics(method, route, status, elapsed)
            access_log(method, scope["path"], status, round(elapsed * 1000, 2), rid)
            request_id_var.reset(token)

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
        return Response(exposition(), media_type=CONTENT_TYPE_LATEST)


def _not_ready(detail: str) -> Response[Any]:
    body = {"type": "/problems/not-ready", "title": "Service unavailable", "status": 503, "detail": detail}
    return Response(body, status_code=503, media_type=PROBLEM_JSON)
