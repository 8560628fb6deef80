"""Real worker processes: a SIGKILL mid-delivery loses nothing; two workers never send one attempt at once."""

from __future__ import annotations

import asyncio
import random
import signal
import uuid
from typing import Any

from ipledge import outbox
from tests.webhooks.conftest import register, spawn_worker, stop_process, until
from tests.webhooks.receiver import Answer, Receiver


async def _listening_workers(db: Any) -> int:
    return int(
        await db.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'"
        )
    )


async def _events_each_delivered_under_one_id(db: Any, receiver: Receiver) -> None:
    rows = await db.fetch("SELECT id, event_id, status FROM webhook_messages")
    assert rows and all(r["status"] == "succeeded" for r in rows)
    verified = {r.webhook_id for r in receiver.received if r.verified}
    assert verified == {r["id"] for r in rows}  # every message arrived, verified, under its own id only
    assert len({r["event_id"] for r in rows}) == len(rows)  # one message per (event, endpoint)


async def test_worker_killed_mid_delivery_loses_nothing(
    db: Any, world: Any, client: Any, settings: Any, receiver: Receiver
) -> None:
    _, secret = await register(client, world.bank, receiver.url)
    receiver.secrets = [secret]
    hold = asyncio.Event()
    receiver.behaviour = lambda _r, nth: Answer(hold=hold) if nth == 0 else Answer()
    for i in range(5):
        await outbox.enqueue(db, event_type="push_list.published", organisation_id=world.bank.org.id, payload={"i": i})
    first = spawn_worker(settings)
    second = None
    try:

        async def all_held() -> bool:
            return len(receiver.received) == 5

        await until(all_held, what="the first worker to send all five")
        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=10) == -signal.SIGKILL
        hold.set()  # the held requests now answer a dead socket

        async def released() -> bool:
            return not any(receiver.inflight.values())

        await until(released, what="held requests to end")
        second = spawn_worker(settings)

        async def delivered() -> bool:
            return bool(await db.fetchval("SELECT count(*) FROM webhook_messages WHERE status = 'succeeded'") == 5)

        await until(delivered, within=30, what="the second worker to deliver after the lease expired")
    finally:
        stop_process(first, signal.SIGKILL)
        if second is not None:
            assert stop_process(second) == 0  # SIGTERM: a clean, drained exit
    await _events_each_delivered_under_one_id(db, receiver)
    assert len(receiver.received) == 10 and not receiver.overlaps
    # The killed worker logged nothing; the survivor's attempt is the message's second.
    attempts = await db.fetch("SELECT attempt_no, outcome FROM webhook_attempts")
    assert sorted((a["attempt_no"], a["outcome"]) for a in attempts) == [(2, "success")] * 5


async def test_two_workers_never_send_the_same_attempt_at_once(
    db: Any, world: Any, client: Any, settings: Any, receiver: Receiver
) -> None:
    _, bank_secret = await register(client, world.bank, receiver.url)
    _, fund_secret = await register(client, world.fund, receiver.url)
    receiver.secrets = [bank_secret, fund_secret]
    rng = random.Random(7)
    receiver.behaviour = lambda _r, nth: Answer(status=500, delay=0.002) if rng.random() < 0.2 else Answer(delay=0.005)
    # A generous timeout: on a loaded 2-core machine a 1 s limit turns scheduling delays into retries.
    slow_ok = {"IPLEDGE_WEBHOOK_TIMEOUT": "5", "IPLEDGE_WEBHOOK_LEASE": "10"}
    workers = [spawn_worker(settings, **slow_ok), spawn_worker(settings, **slow_ok)]
    try:

        async def both_listening() -> bool:
            return await _listening_workers(db) >= 2

        await until(both_listening, within=60, what="both workers to start")  # each imports scikit-learn first
        for i in range(150):
            for org in (world.bank.org.id, world.fund.org.id):
                await outbox.enqueue(db, event_type="pool.enterprise.admitted", organisation_id=org, payload={"i": i})

        async def delivered() -> bool:
            return bool(await db.fetchval("SELECT count(*) FROM webhook_messages WHERE status = 'succeeded'") == 300)

        await until(delivered, within=60, what="300 deliveries by two workers")
    finally:
        codes = [stop_process(w) for w in workers]
    assert codes == [0, 0]
    await _events_each_delivered_under_one_id(db, receiver)
    assert receiver.overlaps == []  # no webhook-id ever arrived while another request with it was open
    rows = await db.fetch("SELECT message_id, attempt_no, worker FROM webhook_attempts")
    assert len({(r["message_id"], r["attempt_no"]) for r in rows}) == len(rows)  # each attempt made once
    assert len({r["worker"] for r in rows}) == 2  # both workers did part of the work
    assert {uuid.UUID(str(r["message_id"])[4:]) for r in rows}  # ids are msg_<uuid hex>
