"""The outbox: enqueue writes one event in the caller's transaction and fans it out to endpoints."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from ipledge import outbox


async def _endpoint(db: Any, org_id: Any, types: list[str], *, enabled: bool = True) -> Any:
    return await db.fetchval(
        "INSERT INTO webhook_endpoints (organisation_id, url, event_types, secret_sealed, enabled)"
        " VALUES ($1, 'http://127.0.0.1:9/hook', $2, 'plain:whsec_x', $3) RETURNING id",
        org_id,
        types,
        enabled,
    )


async def test_enqueue_fans_out_to_subscribed_enabled_endpoints(db: Any, world: Any) -> None:
    bank = world.bank.org.id
    wanted = await _endpoint(db, bank, ["pool.enterprise.admitted", "push_list.published"])
    await _endpoint(db, bank, ["push_list.published"])
    await _endpoint(db, bank, ["pool.enterprise.admitted"], enabled=False)
    await _endpoint(db, world.fund.org.id, ["pool.enterprise.admitted"])
    async with db.acquire() as conn, conn.transaction():
        event_id = await outbox.enqueue(
            conn, event_type="pool.enterprise.admitted", organisation_id=bank, payload={"credit_code": "X"}
        )
    assert event_id is not None
    rows = await db.fetch("SELECT id, endpoint_id, status FROM webhook_messages WHERE event_id = $1", event_id)
    assert [(r["endpoint_id"], r["status"]) for r in rows] == [(wanted, "pending")]
    assert rows[0]["id"].startswith("msg_")
    body = msgspec.json.decode(await db.fetchval("SELECT body FROM outbox_events WHERE id = $1", event_id))
    assert body["type"] == "pool.enterprise.admitted"
    assert body["data"] == {"credit_code": "X"}
    assert body["timestamp"].endswith("Z")


async def test_enqueue_is_part_of_the_callers_transaction(db: Any, world: Any) -> None:
    await _endpoint(db, world.bank.org.id, ["push_list.published"])
    with pytest.raises(RuntimeError):
        async with db.acquire() as conn, conn.transaction():
            await outbox.enqueue(conn, event_type="push_list.published", organisation_id=world.bank.org.id, payload={})
            raise RuntimeError("producer failed")
    assert await db.fetchval("SELECT count(*) FROM outbox_events") == 0
    assert await db.fetchval("SELECT count(*) FROM webhook_messages") == 0


async def test_dedupe_key_makes_a_second_enqueue_a_no_op(db: Any, world: Any) -> None:
    bank = world.bank.org.id
    first = await outbox.enqueue(
        db, event_type="push_list.published", organisation_id=bank, payload={"run": 1}, dedupe_key="run-1"
    )
    again = await outbox.enqueue(
        db, event_type="push_list.published", organisation_id=bank, payload={"run": 1}, dedupe_key="run-1"
    )
    other_org = await outbox.enqueue(
        db, event_type="push_list.published", organisation_id=world.fund.org.id, payload={}, dedupe_key="run-1"
    )
    assert first is not None and again is None and other_org is not None


async def test_unknown_event_type_is_refused(db: Any, world: Any) -> None:
    with pytest.raises(ValueError, match="unknown event type"):
        await outbox.enqueue(db, event_type="pool.nope", organisation_id=world.bank.org.id, payload={})


async def test_events_are_append_only(db: Any, world: Any) -> None:
    event_id = await outbox.enqueue(db, event_type="push_list.published", organisation_id=world.bank.org.id, payload={})
    with pytest.raises(Exception, match="append-only"):
        await db.execute("DELETE FROM outbox_events WHERE id = $1", event_id)
