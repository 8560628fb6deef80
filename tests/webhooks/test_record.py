"""Recording a batch of attempts: one statement for successes, retries moved on together, disables seen in order."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

import msgspec

from ipledge import outbox
from ipledge.webhooks.delivery import Claimed, Result, claim
from ipledge.webhooks.record import record_batch
from ipledge.webhooks.sealing import seal
from matching.delivery import RetryPolicy, classify_response
from matching.webhooks import generate_secret


async def _endpoint_with_messages(db: Any, org_id: uuid.UUID, n: int) -> tuple[uuid.UUID, list[Claimed]]:
    endpoint_id = await db.fetchval(
        "INSERT INTO webhook_endpoints (organisation_id, url, event_types, secret_sealed) VALUES ($1, $2, $3, $4)"
        " RETURNING id",
        org_id,
        "http://127.0.0.1:9/hook",
        ["push_list.published"],
        seal(generate_secret(), None),
    )
    for i in range(n):
        await outbox.enqueue(db, event_type="push_list.published", organisation_id=org_id, payload={"i": i})
    claimed = sorted(await claim(db, 100, 60.0), key=lambda c: c.webhook_id)
    assert len(claimed) == n
    return endpoint_id, claimed


def _result(status: int, headers: dict[str, str] | None = None) -> Result:
    verdict = classify_response(status, headers or {}, 0.01, RetryPolicy())
    return Result(
        verdict=verdict,
        status_code=status,
        body_head="",
        error=None if verdict.outcome == "success" else verdict.reason,
        latency_ms=10,
        started_at=dt.datetime.now(dt.UTC),
    )


async def test_a_410_in_a_batch_fails_the_other_attempts_to_that_endpoint(db: Any, world: Any) -> None:
    endpoint_id, claimed = await _endpoint_with_messages(db, world.bank.org.id, 4)
    results = [_result(500), _result(410), _result(503, {"Retry-After": "100"}), _result(200)]
    await record_batch(db, list(zip(claimed, results, strict=True)), "w1", RetryPolicy(), random.Random(1))
    rows = {r["id"]: r for r in await db.fetch("SELECT id, status, last_error, claim_token FROM webhook_messages")}
    states = [(rows[c.webhook_id]["status"], (rows[c.webhook_id]["last_error"] or "").split(":")[0]) for c in claimed]
    # The 500 was recorded before the 410 (same batch): it is not retried against a disabled endpoint either.
    assert states == [
        ("failed", "endpoint disabled"),
        ("failed", "endpoint gone (410)"),
        ("failed", "endpoint disabled"),
        ("succeeded", ""),
    ]
    assert all(r["claim_token"] is None for r in rows.values())
    endpoint = await db.fetchrow("SELECT enabled, disabled_reason FROM webhook_endpoints WHERE id = $1", endpoint_id)
    assert not endpoint["enabled"] and endpoint["disabled_reason"].startswith("gone")
    assert await db.fetchval("SELECT count(*) FROM notifications WHERE subject_id = $1", str(endpoint_id)) == 1
    assert await db.fetchval("SELECT count(*) FROM webhook_attempts WHERE worker = 'w1'") == 4


async def test_retries_are_moved_on_together_and_a_lost_claim_changes_nothing(db: Any, world: Any) -> None:
    endpoint_id, claimed = await _endpoint_with_messages(db, world.bank.org.id, 3)
    lost = msgspec.structs.replace(claimed[2], claim_token=uuid.uuid4())  # its lease ran out and another took it
    before = dt.datetime.now(dt.UTC)
    items = [(claimed[0], _result(500)), (claimed[1], _result(429, {"retry-after": "100"})), (lost, _result(500))]
    await record_batch(db, items, "w1", RetryPolicy(), random.Random(1))
    query = "SELECT id, status, next_attempt_at, claim_token, last_status_code FROM webhook_messages"
    rows = {r["id"]: r for r in await db.fetch(query)}
    first, second, third = (rows[c.webhook_id] for c in claimed)
    assert (first["status"], first["last_status_code"], first["claim_token"]) == ("pending", 500, None)
    assert 4.4 <= (first["next_attempt_at"] - before).total_seconds() <= 5.6  # 5 s with 10% jitter
    assert (second["last_status_code"], second["claim_token"]) == (429, None)
    assert 99 <= (second["next_attempt_at"] - before).total_seconds() <= 101  # Retry-After honoured
    assert third["claim_token"] == claimed[2].claim_token and third["last_status_code"] is None  # untouched
    assert await db.fetchval("SELECT count(*) FROM webhook_attempts") == 3  # every attempt is logged
    failing = await db.fetchval("SELECT failing_since FROM webhook_endpoints WHERE id = $1", endpoint_id)
    assert failing is not None
    await record_batch(db, [(claimed[2], _result(204))], "w2", RetryPolicy(), random.Random(1))
    assert await db.fetchval("SELECT failing_since FROM webhook_endpoints WHERE id = $1", endpoint_id) is None
