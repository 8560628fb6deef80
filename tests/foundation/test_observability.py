from __future__ import annotations

import json
import logging
from typing import Any

from ipledge.logs import JsonFormatter, redact


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
