"""Record attempts: the append-only log row, then the message's next state, in one transaction.

Results are recorded in batches (one transaction for many attempts) so a worker's throughput is
not bounded by one commit per delivery. Only results whose claim is still held change a message.
A batch of successes only (the common case) is one statement: the attempt rows, the messages
marked succeeded and the endpoints' failure clocks cleared, in one round trip and one commit.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import socket
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from ipledge.db.types import Conn, OneConn, Pool
from ipledge.registry import store as registry_store
from ipledge.webhooks import store
from ipledge.webhooks.delivery import Claimed, Result, sort_for_locking
from matching.delivery import RetryPolicy, next_attempt, should_disable_endpoint

_INSERT_ATTEMPTS = """
INSERT INTO webhook_attempts (message_id, endpoint_id, organisation_id, attempt_no, worker, outcome, response_code,
    response_body, error, latency_ms, started_at)
SELECT * FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::int[], $5::text[], $6::text[], $7::int[], $8::text[],
    $9::text[], $10::int[], $11::timestamptz[])
"""
_SUCCEEDED = """
UPDATE webhook_messages m SET status = 'succeeded', delivered_at = now(), last_status_code = u.code,
    last_error = NULL, claimed_until = NULL, claim_token = NULL, updated_at = now()
FROM unnest($1::text[], $2::uuid[], $3::int[]) AS u(id, token, code)
WHERE m.id = u.id AND m.claim_token = u.token
"""
_ALL_SUCCEEDED = f"""
WITH logged AS ({_INSERT_ATTEMPTS}),
done AS (
    UPDATE webhook_messages m SET status = 'succeeded', delivered_at = now(), last_status_code = u.code,
        last_error = NULL, claimed_until = NULL, claim_token = NULL, updated_at = now()
    FROM unnest($1::text[], $12::uuid[], $7::int[]) AS u(id, token, code)
    WHERE m.id = u.id AND m.claim_token = u.token
),
cleared AS (
    UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ANY($2::uuid[]) AND failing_since IS NOT NULL
)
SELECT 1
"""
_RETRY = """
UPDATE webhook_messages m SET next_attempt_at = u.at, claimed_until = NULL, claim_token = NULL,
    last_status_code = u.code, last_error = u.error, updated_at = now()
FROM unnest($1::text[], $2::uuid[], $3::timestamptz[], $4::int[], $5::text[]) AS u(id, token, at, code, error)
WHERE m.id = u.id AND m.claim_token = u.token
"""
_FAILED = """
UPDATE webhook_messages SET status = 'failed', failed_at = now(), claimed_until = NULL, claim_token = NULL,
    last_status_code = $3, last_error = $4, updated_at = now()
WHERE id = $1 AND claim_token = $2
"""


async def record_batch(
    db: Pool | OneConn,
    items: Sequence[tuple[Claimed, Result]],
    worker: str,
    policy: RetryPolicy,
    rng: random.Random,
) -> None:
    """Log every attempt and move each message on (succeeded, retry later, failed, endpoint disabled).

    Args:
        db: A pool, or a connection held by the caller (outside any transaction).
        items: The attempts with the claims they were made under.
        worker: This worker's name for the attempt log.
        policy: The retry schedule.
        rng: Jitter source.
    """
    if not items:
        return
    ordered = sort_for_locking(items)
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn:
            await _record(conn, ordered, worker, policy, rng)
    else:
        await _record(db, ordered, worker, policy, rng)


async def _record(
    conn: OneConn, ordered: Sequence[tuple[Claimed, Result]], worker: str, policy: RetryPolicy, rng: random.Random
) -> None:
    if all(r.verdict.outcome == "success" for _, r in ordered):
        await conn.execute(_ALL_SUCCEEDED, *_attempt_columns(ordered, worker), [c.claim_token for c, _ in ordered])
        return
    async with conn.transaction():
        await _log_attempts(conn, ordered, worker)
        wins = [(c, r) for c, r in ordered if r.verdict.outcome == "success"]
        if wins:
            await conn.execute(
                _SUCCEEDED,
                [c.webhook_id for c, _ in wins],
                [c.claim_token for c, _ in wins],
                [r.status_code for _, r in wins],
            )
            await conn.execute(
                "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ANY($1) AND failing_since IS NOT NULL",
                sorted({c.endpoint_id for c, _ in wins}),
            )
        await _move_on_failures(conn, ordered, policy, rng)


async def _move_on_failures(
    conn: OneConn, ordered: Sequence[tuple[Claimed, Result]], policy: RetryPolicy, rng: random.Random
) -> None:
    """Retries, give-ups and disables for the failed attempts of a batch (inside its transaction).

    The endpoints concerned are locked once, in id order (so two recorders cannot deadlock), and
    their failure clocks started where they were not running; messages to retry are moved on by
    one statement. Failing a message or disabling an endpoint (rare) goes one by one, in order,
    and a disable is seen by the later attempts to the same endpoint in the batch.
    """
    failed = [(c, r) for c, r in ordered if r.verdict.outcome != "success"]
    if not failed:
        return
    rows = await conn.fetch(
        "SELECT id, enabled, failing_since FROM webhook_endpoints WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE",
        sorted({c.endpoint_id for c, r in failed}),
    )
    state = {row["id"]: [row["enabled"], row["failing_since"]] for row in rows}
    retrying = {c.endpoint_id for c, r in failed if r.verdict.outcome == "retry"}
    start = [eid for eid in sorted(retrying) if eid in state and state[eid][1] is None]
    if start:
        for row in await conn.fetch(
            "UPDATE webhook_endpoints SET failing_since = now() WHERE id = ANY($1::uuid[]) AND failing_since IS NULL"
            " RETURNING id, failing_since",
            start,
        ):
            state[row["id"]][1] = row["failing_since"]
    now = dt.datetime.now(dt.UTC)
    later: list[tuple[Claimed, Result, dt.datetime]] = []
    for claimed, result in failed:
        endpoint = state.get(claimed.endpoint_id, [False, None])
        if result.verdict.outcome == "disable_endpoint":
            await _fail(conn, claimed, result, "endpoint gone (410)")
            await disable_endpoint(conn, claimed, "gone", "接收端返回 410 Gone", "the receiver answered 410 Gone")
            endpoint[0] = False
        elif not endpoint[0]:
            await _fail(conn, claimed, result, "endpoint disabled")
        elif should_disable_endpoint(endpoint[1], now, policy):
            if await _fail(conn, claimed, result, "endpoint failing too long"):
                await disable_endpoint(
                    conn, claimed, "failing", "接收端点已连续失败 5 天", "the endpoint has failed for 5 days"
                )
                endpoint[0] = False
        else:
            when = next_attempt(claimed.cycle_attempt, now, result.verdict.retry_after, rng, policy)
            if when is None:
                await _fail(conn, claimed, result, f"gave up after {claimed.cycle_attempt} attempts")
            else:
                later.append((claimed, result, when))
    for item in [item for item in later if not state[item[0].endpoint_id][0]]:  # disabled further on in the batch
        later.remove(item)
        await _fail(conn, item[0], item[1], "endpoint disabled")
    if later:
        await conn.execute(
            _RETRY,
            [c.webhook_id for c, _, _ in later],
            [c.claim_token for c, _, _ in later],
            [when for _, _, when in later],
            [r.status_code for _, r, _ in later],
            [(r.error or "")[:1000] for _, r, _ in later],
        )


async def _log_attempts(conn: OneConn, items: Sequence[tuple[Claimed, Result]], worker: str) -> None:
    await conn.execute(_INSERT_ATTEMPTS, *_attempt_columns(items, worker))


def _attempt_columns(items: Sequence[tuple[Claimed, Result]], worker: str) -> list[list[Any]]:
    return [
        [c.webhook_id for c, _ in items],
        [c.endpoint_id for c, _ in items],
        [c.organisation_id for c, _ in items],
        [c.attempt_no for c, _ in items],
        [worker] * len(items),
        [r.verdict.outcome for _, r in items],
        [r.status_code for _, r in items],
        [r.body_head.replace("\x00", "") for _, r in items],
        [r.error for _, r in items],
        [r.latency_ms for _, r in items],
        [r.started_at for _, r in items],
    ]


async def _fail(conn: Conn, claimed: Claimed, result: Result, why: str) -> bool:
    done = await conn.execute(
        _FAILED, claimed.webhook_id, claimed.claim_token, result.status_code, f"{why}: {result.error}"[:1000]
    )
    return done != "UPDATE 0"


async def disable_endpoint(conn: OneConn, claimed: Claimed, code: str, why_zh: str, why_en: str) -> None:
    """Disable the endpoint (once), fail its queued messages, audit it and tell the institution."""
    was_enabled = await conn.fetchval(
        "SELECT enabled FROM webhook_endpoints WHERE id = $1 FOR UPDATE", claimed.endpoint_id
    )
    if not was_enabled:
        return
    await store.set_enabled(conn, claimed.endpoint_id, False, f"{code}: {why_en}")
    subject = str(claimed.endpoint_id)
    detail = {"reason": code, "webhook_id": claimed.webhook_id}
    await registry_store.audit(conn, None, "webhook_endpoint.auto_disabled", "webhook_endpoint", subject, detail)
    await store.notify(
        conn,
        claimed.organisation_id,
        "webhook_endpoint.disabled",
        subject,
        f"Webhook 接收端点 {claimed.url} 已被停用：{why_zh}。修复后请启用并恢复失败的投递。",
        f"Webhook endpoint {claimed.url} was disabled: {why_en}. Fix it, enable it and recover failed deliveries.",
    )


def worker_name() -> str:
    """A name for this worker process in the attempt log."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
