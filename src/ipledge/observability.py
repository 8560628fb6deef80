"""Health, readiness, Prometheus metrics, request ids and access logs."""

from __future__ import annotations

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
from ipledge.logs import access_log
from ipledge.metrics import STATS, exposition

_RID = re.compile(rb"[A-Za-z0-9._-]{1,64}")  # an incoming X-Request-ID is kept when it matches in full


# Request ids: a random per-process prefix and a counter (unique, and no urandom call per request).
_RID_PREFIX = uuid.uuid4().hex[:16]
_RID_COUNTER = itertools.count(1)


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
            elapsed = time.perf_counter() - start
            route = scope.get("path_template") or "unmatched"
            method = http_scope["method"]
            STATS.observe(method, route, status, elapsed)
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
