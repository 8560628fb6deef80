"""Delivery against a real local receiver that verifies signatures with the standardwebhooks package."""

from __future__ import annotations

import socket
import time
import uuid
from typing import Any

import msgspec

from ipledge import outbox
from tests.webhooks.conftest import register, running_worker, until
from tests.webhooks.receiver import Answer, Receiver


async def _enqueue(db: Any, org_id: uuid.UUID, n: int = 1, event_type: str = "pool.enterprise.admitted") -> list[Any]:
    ids = []
    for i in range(n):
        ids.append(
            await outbox.enqueue(db, event_type=event_type, organisation_id=org_id, payload={"i": i, "code": "X"})
        )
    return ids


def _status_is(db: Any, status: str, count: int) -> Any:
    async def check() -> bool:
        return bool(await db.fetchval("SELECT count(*) FROM webhook_messages WHERE status = $1", status) == count)

    return check


async def test_happy_path_signed_and_logged(
    db: Any, world: Any, client: Any, settings: Any, receiver: Receiver
) -> None:
    _, secret = await register(client, world.bank, receiver.url)
    receiver.secrets = [secret]
    events = await _enqueue(db, world.bank.org.id, 3)
    async with running_worker(settings):
        await until(_status_is(db, "succeeded", 3), what="3 deliveries")
    assert len(receiver.received) == 3 and all(r.verified for r in receiver.received)
    assert len(set(receiver.ids())) == 3 and all(i.startswith("msg_") for i in receiver.ids())
    assert all(abs(int(r.timestamp) - time.time()) < 60 for r in receiver.received)
    bodies = [msgspec.json.decode(r.body) for r in receiver.received]
    assert {b["type"] for b in bodies} == {"pool.enterprise.admitted"}
    assert sorted(b["data"]["i"] for b in bodies) == [0, 1, 2]
    rows = await db.fetch("SELECT * FROM webhook_attempts ORDER BY id")
    assert [(r["outcome"], r["response_code"], r["response_body"]) for r in rows] == [("success", 200, "ok")] * 3
    assert all(r["latency_ms"] >= 0 and r["attempt_no"] == 1 for r in rows)
    assert {r["event_id"] for r in await db.fetch("SELECT event_id FROM webhook_messages")} == set(events)


async def test_receiver_down_then_up(db: Any, world: Any, client: Any, settings: Any) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    receiver = Receiver(port=port)
    _, secret = await register(client, world.bank, receiver.url)
    receiver.secrets = [secret]
    await _enqueue(db, world.bank.org.id)
    async with running_worker(settings):

        async def refused_twice() -> bool:
            return bool(await db.fetchval("SELECT count(*) FROM webhook_attempts WHERE outcome = 'retry'") >= 2)

        await until(refused_twice, what="two refused attempts")
        await receiver.start()
        try:
            await until(_status_is(db, "succeeded", 1), what="delivery after the receiver came up")
        finally:
            await receiver.stop()
    assert len(receiver.received) == 1 and receiver.received[0].verified
    errors = [r["error"] for r in await db.fetch("SELECT error FROM webhook_attempts WHERE outcome = 'retry'")]
    assert errors and all("Connect" in (e or "") for e in errors)
    assert await db.fetchval("SELECT failing_since FROM webhook_endpoints") is None  # cleared by the success


async def test_slower_than_the_timeout_is_retried_under_the_same_id(
    db: Any, world: Any, client: Any, settings: Any, receiver: Receiver
) -> None:
    _, secret = await register(client, world.bank, receiver.url)
    receiver.secrets = [secret]
    receiver.behaviour = lambda _r, nth: Answer(delay=settings.webhook_timeout + 0.5) if nth == 0 else Answer()
    await _enqueue(db, world.bank.org.id)
    async with running_worker(settings):
        await until(_status_is(db, "succeeded", 1), what="delivery after a slow answer")
    assert len(receiver.received) == 2 and len(set(receiver.ids())) == 1
    rows = await db.fetch("SELECT outcome, error, attempt_no FROM webhook_attempts ORDER BY id")
    assert [r["outcome"] for r in rows] == ["retry", "success"]
    assert "no 2xx within" in rows[0]["error"] and [r["attempt_no"] for r in rows] == [1, 2]


async def test_500s_then_success_and_the_body_is_logged(
    db: Any, world: Any, client: Any, settings: Any, receiver: Receiver
) -> None:
    _, secret = await register(client, world.bank, receiver.url)
    receiver.secrets = [secret]
    receiver.behaviour = lambda _r, nth: Answer(status=500, body=b"boom " * 400) if nth < 2 else Answer()
    await _enqueue(db, world.bank.org.id)
    async with running_worker(settings):
        await until(_status_is(db, "succeeded", 1), what="delivery after two 500s")
    rows = await db.fetch("SELECT outcome, response_code, response_body FROM webhook_attempts ORDER BY id")
    assert [(r["outcome"], r["response_code"]) for r in rows] == [("retry", 500), ("retry", 500), ("success", 200)]
    assert rows[0]["response_body"].startswith("boom boom") and len(rows[0]["response_body"]) == 1024
    assert len(set(receiver.ids())) == 1 and all(r.verified for r in receiver.received)


async def test_retries_give_up_after_the_schedule(
    db: Any, world: Any, client: Any, settings: Any, receiver: Receiver
) -> None:
    _, secret = await register(client, world.bank, receiver.url)
    receiver.secrets = [secret]
    receiver.behaviour = lambda _r, _n: Answer(status=503)
    await _enqueue(db, world.bank.org.id)
    async with running_worker(settings):
        await until(_status_is(db, "failed", 1), what="the message to fail")
    assert len(receiver.received) == 8  # the first attempt and 7 retries
    assert await db.fetchval("SELECT enabled FROM webhook_endpoints")  # failing briefly does not disable


async def test_429_retry_after_is_honoured(db: Any, world: Any, client: Any, settings: Any, receiver: Receiver) -> None:
    _, secret = await register(client, world.bank, receiver.url)
    receiver.secrets = [secret]
    receiver.behaviour = lambda _r, nth: Answer(status=429, headers={"Retry-After": "1"}) if nth == 0 else Answer()
    await _enqueue(db, world.bank.org.id)
    async with running_worker(settings):
        await until(_status_is(db, "succeeded", 1), what="delivery after 429")
    first, second = receiver.received
    assert second.at - first.at >= 0.95  # the schedule alone would retry after 0.05 s
    assert first.webhook_id == second.webhook_id


async def test_redirect_is_a_failure_and_not_followed(
    db: Any, world: Any, client: Any, settings: Any, receiver: Receiver
) -> None:
    _, secret = await register(client, world.bank, receiver.url)
    receiver.secrets = [secret]
    moved = {"Location": receiver.url.replace("/hook", "/elsewhere")}
    receiver.behaviour = lambda _r, nth: Answer(status=302, headers=moved) if nth == 0 else Answer()
    await _enqueue(db, world.bank.org.id)
    async with running_worker(settings):
        await until(_status_is(db, "succeeded", 1), what="delivery after a redirect")
    assert [r.path for r in receiver.received] == ["/hook", "/hook"]
    rows = await db.fetch("SELECT outcome, response_code FROM webhook_attempts ORDER BY id")
    assert [(r["outcome"], r["response_code"]) for r in rows] == [("retry", 302), ("success", 200)]


async def test_410_disables_the_endpoint_and_tells_the_institution(
    db: Any, world: Any, client: Any, settings: Any, receiver: Receiver
) -> None:
    endpoint_id, secret = await register(client, world.bank, receiver.url)
    receiver.secrets = [secret]
    receiver.behaviour = lambda _r, _n: Answer(status=410)
    await _enqueue(db, world.bank.org.id)
    async with running_worker(settings):
        await until(_status_is(db, "failed", 1), what="the 410 to fail the message")
    endpoint = await db.fetchrow("SELECT enabled, disabled_reason FROM webhook_endpoints")
    assert not endpoint["enabled"] and endpoint["disabled_reason"].startswith("gone")
    assert len(receiver.received) == 1
    audit = await db.fetch("SELECT action, subject_id FROM audit_log WHERE action = 'webhook_endpoint.auto_disabled'")
    assert [(a["action"], a["subject_id"]) for a in audit] == [("webhook_endpoint.auto_disabled", endpoint_id)]
    notes = (await client.get("/api/v1/webhooks/notifications", headers=world.bank.headers)).json()["items"]
    assert [n["kind"] for n in notes] == ["webhook_endpoint.disabled"] and "410" in notes[0]["message"]
    # New events are not fanned out to a disabled endpoint.
    await _enqueue(db, world.bank.org.id)
    assert await db.fetchval("SELECT count(*) FROM webhook_messages") == 1


async def test_endpoint_failing_for_five_days_is_disabled(
    db: Any, world: Any, client: Any, settings: Any, receiver: Receiver
) -> None:
    endpoint_id, secret = await register(client, world.bank, receiver.url)
    receiver.secrets = [secret]
    receiver.behaviour = lambda _r, _n: Answer(status=500)
    await db.execute(
        "UPDATE webhook_endpoints SET failing_since = now() - interval '5 days 1 minute' WHERE id = $1",
        uuid.UUID(endpoint_id),
    )
    await _enqueue(db, world.bank.org.id, 2)
    async with running_worker(settings):
        await until(_status_is(db, "failed", 2), what="both messages to fail")
    row = await db.fetchrow("SELECT enabled, disabled_reason FROM webhook_endpoints")
    assert not row["enabled"] and row["disabled_reason"].startswith("failing")
    assert await db.fetchval("SELECT count(*) FROM notifications WHERE subject_id = $1", endpoint_id) == 1


async def test_rotation_signs_with_both_secrets_for_24_hours(
    db: Any, world: Any, client: Any, settings: Any, receiver: Receiver
) -> None:
    endpoint_id, old = await register(client, world.bank, receiver.url)
    rotated = await client.post(f"/api/v1/webhooks/endpoints/{endpoint_id}/rotate-secret", headers=world.bank.headers)
    assert rotated.status_code == 200
    new = rotated.json()["secret"]
    assert new != old and new.startswith("whsec_")
    assert rotated.json()["previous_secret_expires_at"] == rotated.json()["endpoint"]["previous_secret_expires_at"]
    for secrets in ([old], [new]):
        receiver.received.clear()
        receiver.secrets = secrets
        await _enqueue(db, world.bank.org.id)
        async with running_worker(settings):
            await until(_status_is(db, "pending", 0), what="delivery")
        assert [r.verified for r in receiver.received] == [True]
        assert len(receiver.received[0].signature.split(" ")) == 2
    # After the overlap only the new secret signs.
    await db.execute("UPDATE webhook_endpoints SET previous_expires_at = now() - interval '1 second'")
    receiver.received.clear()
    receiver.secrets = [old]
    receiver.verify = False
    await _enqueue(db, world.bank.org.id)
    async with running_worker(settings):
        await until(_status_is(db, "pending", 0), what="delivery")
    got = receiver.received[0]
    assert len(got.signature.split(" ")) == 1
    headers = {"webhook-id": got.webhook_id, "webhook-timestamp": got.timestamp, "webhook-signature": got.signature}
    assert not receiver.check(got.body, headers)
    receiver.secrets = [new]
    assert receiver.check(got.body, headers)
