from __future__ import annotations

import json
import logging
from typing import Any

from ipledge.logs import JsonFormatter, redact
from ipledge.observability import request_context_middleware


async def test_request_id_is_echoed_or_made(client: Any) -> None:
    r = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = await client.get("/health", headers={"X-Request-ID": "bad id with spaces"})
    assert r.headers["x-request-id"] != "bad id with spaces" and len(r.headers["x-request-id"]) == 32
    r = await client.get("/health", headers={"X-Request-ID": b"\xff\xfe-not-utf8"})
    assert r.status_code == 200 and len(r.headers["x-request-id"]) == 32


async def test_metrics_count_requests_by_route(client: Any, world: Any) -> None:
    await client.get("/api/v1/chains", headers=world.fund.headers)
    text = (await client.get("/metrics")).text
    assert 'ipledge_http_requests_total{method="GET",route="/api/v1/chains",status="200"}' in text
    assert "ipledge_http_request_seconds_bucket" in text


async def test_openapi_schema_has_operation_ids_and_security(client: Any) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    ops = [op for path in schema["paths"].values() for op in path.values() if isinstance(op, dict)]
    assert all(op.get("operationId") for op in ops)
    assert "bearer" in schema["components"]["securitySchemes"]
    assert (await client.get("/schema")).status_code == 200


def test_secrets_never_reach_a_log_line() -> None:
    key = "ipk_" + "A" * 40
    assert key not in redact(f"using {key}") and "ipk_AAAAAA***" in redact(f"using {key}")
    assert "whsec_abc" not in redact("secret whsec_abcdef==")
    assert "topsecret" not in redact("Authorization: Bearer topsecret")
    record = logging.makeLogRecord(
        {"msg": "header %s", "args": (f"Bearer {key}",), "name": "ipledge.x", "levelname": "INFO", "extra_field": key}
    )
    line = json.loads(JsonFormatter().format(record))
    assert key not in json.dumps(line)


async def test_a_response_carries_one_request_id_ours_even_if_the_app_set_one() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"text/plain"), (b"X-Request-ID", b"from-the-handler"), (b"x-other", b"1")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "method": "GET", "path": "/x", "headers": [(b"x-request-id", b"abc-123")]}
    await request_context_middleware(app)(scope, receive, send)
    assert sent[0]["headers"] == [(b"content-type", b"text/plain"), (b"x-other", b"1"), (b"x-request-id", b"abc-123")]
    scope["headers"] = []
    sent.clear()
    await request_context_middleware(app)(scope, receive, send)
    ids = [v for k, v in sent[0]["headers"] if k.lower() == b"x-request-id"]
    assert len(ids) == 1 and len(ids[0]) == 32
