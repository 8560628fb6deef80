"""Feedback with an Idempotency-Key: replay, conflict, a concurrent race; statistics; tenancy."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from ipledge.db.pool import create_pool
from ipledge.errors import Conflict
from matching import schemas as s
from matching import service_feedback
from tests.matching.helpers import principal

LOAN = {"outcome": "loan_granted", "amount": 5e6, "granted_on": "2024-06-01", "term_months": 12, "rate": 0.035}


async def test_same_key_replays_other_body_conflicts(client: Any, db: Any, world: Any) -> None:
    code = world.enterprise.org.credit_code
    headers = {**world.bank.headers, "Idempotency-Key": "loan-0001"}
    body = {"credit_code": code, **LOAN}
    first = await client.post("/api/v1/feedback", headers=headers, json=body)
    assert first.status_code == 201, first.text
    # the same object serialised differently is the same request
    raw = json.dumps(dict(reversed(list(body.items()))), indent=2).encode()
    again = await client.post("/api/v1/feedback", headers={**headers, "Content-Type": "application/json"}, content=raw)
    assert again.status_code == 201 and again.json() == first.json()
    other = await client.post("/api/v1/feedback", headers=headers, json={**body, "amount": 6e6})
    assert other.status_code == 409
    assert await db.fetchval("SELECT count(*) FROM feedback") == 1
    # keys are per organisation: the fund may use the same key
    fund = {**world.fund.headers, "Idempotency-Key": "loan-0001"}
    r = await client.post("/api/v1/feedback", headers=fund, json={"credit_code": code, "outcome": "contacted"})
    assert r.status_code == 201


async def test_concurrent_requests_with_one_key_write_one_row(db: Any, db_url: str, world: Any) -> None:
    bank = principal(world.bank)
    data = s.FeedbackIn(credit_code=world.enterprise.org.credit_code, outcome="contacted")
    body = b'{"credit_code": "%s", "outcome": "contacted"}' % world.enterprise.org.credit_code.encode()
    wide = await create_pool(db_url, min_size=20, max_size=20)
    try:
        answers = await asyncio.gather(
            *(service_feedback.submit(wide, bank, "race-1", body, data) for _ in range(20)), return_exceptions=True
        )
    finally:
        await wide.close()
    assert not [a for a in answers if isinstance(a, BaseException)]
    assert len({(status, fb.id) for status, fb in answers}) == 1  # type: ignore[misc]
    assert await db.fetchval("SELECT count(*) FROM feedback") == 1
    other = b'{"credit_code": "%s", "outcome": "declined"}' % world.enterprise.org.credit_code.encode()
    try:
        await service_feedback.submit(db, bank, "race-1", other, data)
    except Conflict:
        pass
    else:
        raise AssertionError("another body under the same key must conflict")


async def test_validation_and_failed_requests_leave_no_key(client: Any, db: Any, world: Any) -> None:
    code = world.enterprise.org.credit_code
    h = {**world.bank.headers, "Idempotency-Key": "k-1"}
    r = await client.post("/api/v1/feedback", headers=h, json={"credit_code": code, **{**LOAN, "rate": None}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "rate"
    r = await client.post("/api/v1/feedback", headers=h, json={"credit_code": code, "outcome": "declined"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "decline_reason"
    r = await client.post("/api/v1/feedback", headers=h, json={"credit_code": code, **LOAN, "rate": 1.5})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "rate"
    r = await client.post("/api/v1/feedback", headers=world.bank.headers, json={"credit_code": code, **LOAN})
    assert r.status_code == 400  # no Idempotency-Key
    # the other enterprise did not consent: 404, and the key stays unused
    other = world.other_enterprise.org.credit_code
    r = await client.post("/api/v1/feedback", headers=h, json={"credit_code": other, "outcome": "contacted"})
    assert r.status_code == 404
    assert await db.fetchval("SELECT count(*) FROM idempotency_keys") == 0
    r = await client.post("/api/v1/feedback", headers=h, json={"credit_code": code, "outcome": "contacted"})
    assert r.status_code == 201
    r = await client.post("/api/v1/feedback", headers={**world.enterprise.headers, "Idempotency-Key": "e"}, json={})
    assert r.status_code == 403


async def test_statistics_and_tenancy(client: Any, db: Any, world: Any) -> None:
    code = world.enterprise.org.credit_code
    await db.execute("UPDATE enterprises SET chain_code = 'ic' WHERE organisation_id = $1", world.enterprise.org.id)
    posts = [
        (world.bank, "b1", {"credit_code": code, "outcome": "contacted"}),
        (world.bank, "b2", {"credit_code": code, **LOAN}),
        (world.fund, "f1", {"credit_code": code, "outcome": "investment_made", "amount": 2e7}),
    ]
    for actor, key, body in posts:
        r = await client.post("/api/v1/feedback", headers={**actor.headers, "Idempotency-Key": key}, json=body)
        assert r.status_code == 201, r.text
    mine = (await client.get("/api/v1/feedback", headers=world.bank.headers)).json()["items"]
    assert len(mine) == 2 and {f["organisation_id"] for f in mine} == {str(world.bank.org.id)}
    theirs = f"/api/v1/feedback?organisation_id={world.fund.org.id}"
    assert len((await client.get(theirs, headers=world.bank.headers)).json()["items"]) == 2  # still only its own
    assert len((await client.get(theirs, headers=world.operator.headers)).json()["items"]) == 1
    stats = (await client.get("/api/v1/feedback/stats?by=province", headers=world.operator.headers)).json()
    row = stats["rows"][0]
    assert stats["by"] == "province" and row["key"] == "44" and row["label"] == "广东"
    assert (row["contacted"], row["loans"], row["loan_amount"], row["investments"], row["investment_amount"]) == (
        1,
        1,
        5e6,
        1,
        2e7,
    )
    chain = (await client.get("/api/v1/feedback/stats?by=chain", headers=world.bank.headers)).json()
    assert chain["rows"][0]["label"] == "集成电路" and chain["rows"][0]["investments"] == 0  # bank's own rows only
    inst = (await client.get("/api/v1/feedback/stats?by=institution", headers=world.operator.headers)).json()
    assert len(inst["rows"]) == 2
    r = await client.get("/api/v1/feedback/stats?by=nothing", headers=world.operator.headers)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "by", r.text
