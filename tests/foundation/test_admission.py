"""Admission control: a few at a time, strictly first come first served, a bounded queue, cancellation."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from ipledge.admission import Busy, FairLimiter


async def _turns(limiter: FairLimiter, n: int, work: float = 0.0) -> list[int]:
    """Start n holders one after another; the order in which they got in."""
    order: list[int] = []

    async def one(i: int) -> None:
        async with limiter:
            order.append(i)
            await asyncio.sleep(work)

    tasks = []
    for i in range(n):
        tasks.append(asyncio.create_task(one(i)))
        await asyncio.sleep(0)  # each starts waiting before the next arrives
    await asyncio.gather(*tasks)
    return order


async def test_at_most_slots_at_once_in_arrival_order() -> None:
    limiter = FairLimiter(2, 100)
    inside, peak = 0, 0

    async def one(i: int, order: list[int]) -> None:
        nonlocal inside, peak
        async with limiter:
            order.append(i)
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.001)
            inside -= 1

    order: list[int] = []
    tasks = []
    for i in range(20):
        tasks.append(asyncio.create_task(one(i, order)))
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    assert peak == 2 and order == list(range(20))
    assert limiter.running == 0 and limiter.waiting == 0 and limiter.admitted == 20


async def test_a_released_slot_goes_to_the_oldest_waiter_not_a_newcomer() -> None:
    limiter = FairLimiter(1, 100)
    order: list[str] = []

    async def holder(name: str) -> None:
        async with limiter:
            order.append(name)
            await asyncio.sleep(0)

    await limiter.__aenter__()  # the slot is taken
    waiting = asyncio.create_task(holder("waiter"))
    await asyncio.sleep(0)
    assert limiter.waiting == 1
    await limiter.__aexit__(None, None, None)  # released: handed to the waiter...
    newcomer = asyncio.create_task(holder("newcomer"))  # ...before it even ran; a newcomer must queue
    await asyncio.gather(waiting, newcomer)
    assert order == ["waiter", "newcomer"]


async def test_the_queue_is_bounded() -> None:
    limiter = FairLimiter(1, 2)
    await limiter.__aenter__()
    waiters = [asyncio.create_task(limiter.__aenter__()) for _ in range(2)]
    await asyncio.sleep(0)
    with pytest.raises(Busy) as refused:
        await limiter.__aenter__()
    assert refused.value.status == 503 and refused.value.headers == {"Retry-After": "1"}
    assert limiter.refused == 1 and limiter.waiting == 2
    for _ in range(3):
        await limiter.__aexit__(None, None, None)
        await asyncio.sleep(0)
    await asyncio.gather(*waiters)
    assert limiter.running == 0 and limiter.waiting == 0


async def test_a_cancelled_waiter_leaves_the_queue() -> None:
    limiter = FairLimiter(1, 10)
    await limiter.__aenter__()
    gone = asyncio.create_task(limiter.__aenter__())
    await asyncio.sleep(0)
    assert limiter.waiting == 1
    gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert limiter.waiting == 0
    await limiter.__aexit__(None, None, None)
    assert limiter.running == 0
    assert await _turns(limiter, 3) == [0, 1, 2]


async def test_a_waiter_cancelled_after_being_handed_the_slot_passes_it_on() -> None:
    limiter = FairLimiter(1, 10)
    await limiter.__aenter__()
    first = asyncio.create_task(limiter.__aenter__())
    second = asyncio.create_task(limiter.__aenter__())
    await asyncio.sleep(0)
    await limiter.__aexit__(None, None, None)  # handed to `first`, which has not run yet
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.wait_for(second, 1)  # `second` got the slot `first` could not use
    assert limiter.running == 1 and limiter.waiting == 0
    await limiter.__aexit__(None, None, None)
    assert limiter.running == 0


async def test_a_waiter_cancelled_then_skipped_by_a_release_still_raises_cancelled() -> None:
    """Cancelled, and before its task runs a holder releases (skipping the cancelled waiter): a plain cancel."""
    limiter = FairLimiter(1, 10)
    await limiter.__aenter__()
    gone = asyncio.create_task(limiter.__aenter__())
    await asyncio.sleep(0)
    gone.cancel()  # its future is cancelled now; the task sees it on its next step
    await limiter.__aexit__(None, None, None)  # drops the cancelled waiter and frees the slot
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert limiter.running == 0 and limiter.waiting == 0
    assert await _turns(limiter, 2) == [0, 1]


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError):
        FairLimiter(0, 1)
    with pytest.raises(ValueError):
        FairLimiter(1, -1)


async def test_assessments_beyond_the_queue_get_503_with_retry_after(db_url: str, world: Any) -> None:
    """Over HTTP: with the process's slot held and no queue, an assessment is refused at once, nothing stored."""
    from litestar.testing import AsyncTestClient

    from ipledge.app import create_app
    from ipledge.settings import load_settings
    from tests.factories import patent_number

    settings = load_settings(
        {}, database_url=db_url, db_pool_min=1, db_pool_max=4, log_level="WARNING",
        assessment_concurrency=1, assessment_queue=0,
    )  # fmt: skip
    app = create_app(settings)
    limiter: FairLimiter = app.state.limiters["assessments"]
    body = {"patents": [{"number": patent_number(2018)}], "requested_amount": 1_000_000}
    async with AsyncTestClient(app=app) as client:
        async with limiter:
            r = await client.post("/api/v1/assessments", headers=world.enterprise.headers, json=body)
            assert r.status_code == 503, r.text
            assert r.headers["retry-after"] == "1" and r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["type"] == "/problems/busy"
            unauthenticated = await client.post("/api/v1/assessments", json=body)
            assert unauthenticated.status_code == 401  # no key: refused before it could queue
        # The slot free again, the same request is served (its patent is unknown: a 422 naming it).
        r = await client.post("/api/v1/assessments", headers=world.enterprise.headers, json=body)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "patents[0].number", r.text
    assert limiter.refused == 1 and limiter.admitted == 2
    documented = app.openapi_schema.to_schema()["paths"]["/api/v1/assessments"]["post"]["responses"]["503"]
    assert list(documented["content"]) == ["application/problem+json"]


# --- the pool's release: no reset round trip, except for connections that keep session state ------------------


async def test_release_resets_only_connections_marked_as_keeping_session_state(db_url: str) -> None:
    """A marked connection's session advisory lock is gone once released; an open transaction is always rolled
    back; an unmarked connection is handed back without the reset query (its session settings stay)."""
    from ipledge.db.pool import create_pool, keeps_session_state

    pool = await create_pool(db_url, min_size=1, max_size=1)  # one connection: every acquire gets the same one
    try:
        async with pool.acquire() as conn:
            keeps_session_state(conn)
            assert await conn.fetchval("SELECT pg_try_advisory_lock(4242)")
        async with pool.acquire() as conn:
            held = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
            assert await conn.fetchval(held) == 0
            await conn.execute("SET application_name = 'left-behind'")
            tr = conn.transaction()
            await tr.start()
            await conn.execute("CREATE TEMP TABLE t_rolled_back (x int)")
        async with pool.acquire() as conn:
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT to_regclass('pg_temp.t_rolled_back')") is None
            # Not reset: the reason no code may SET a session variable without marking the connection.
            assert await conn.fetchval("SHOW application_name") == "left-behind"
    finally:
        await pool.close()


async def test_the_webhook_claimers_session_setting_does_not_outlive_it(db_url: str) -> None:
    """The worker's claiming connection runs with synchronous_commit off for the session; given back to the pool
    (after a failed claim, or at shutdown), the next holder gets the database's setting again."""
    from ipledge.db.pool import create_pool
    from ipledge.webhooks.delivery import CLAIM_SESSION
    from ipledge.webhooks.worker import _Held

    admin = await asyncpg.connect(db_url)  # the test cluster commits asynchronously: this database does not
    try:
        await admin.execute(
            f"ALTER DATABASE {await admin.fetchval('SELECT current_database()')} SET synchronous_commit = on"
        )
    finally:
        await admin.close()
    pool = await create_pool(db_url, min_size=1, max_size=1)
    held = _Held(pool, CLAIM_SESSION)
    try:
        claimer = await held.get()
        assert await claimer.fetchval("SHOW synchronous_commit") == "off"
        await held.drop()
        async with pool.acquire() as conn:
            assert await conn.fetchval("SHOW synchronous_commit") == "on"
    finally:
        pool.terminate()
