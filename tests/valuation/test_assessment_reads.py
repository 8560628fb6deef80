"""What an assessment reads beside its facts (cohorts, medians, market transactions): kept per reference token."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np

from tests.valuation.test_api_assessments import offered, patent_row  # noqa: F401  (the fixture)
from valuation import store
from valuation.codes import CHAIN_CODES


def same(a: Any, b: Any) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))


async def _token(conn: Any) -> Any:
    return await conn.fetchval("SELECT token FROM valuation_reference_state")


async def _record(conn: Any, transactions: list[tuple[str, str]]) -> None:
    """Priced transactions (chain, date) with made-up prices and scores, then the citation cohorts counted."""
    scores = [float(k) for k in range(27)]
    for k, (chain, day) in enumerate(transactions):
        values = ("pledge", chain, dt.date.fromisoformat(day), 1e6 + k, 5e6 + k, None, scores, "", None)
        await store.insert_transaction(conn, values)
    async with conn.transaction():
        await store.refresh_cohorts(conn)


async def _read_apart(conn: Any, as_of: dt.date, who: Any, numbers: list[str], coeffs: Any) -> tuple[Any, ...]:
    """What an assessment reads, by the readers that do not keep anything: the facts, then the market
    transactions of the batch's chains."""
    batch, rows, gates = await store.enterprise_facts(conn, as_of, who, numbers, coeffs)
    chains = sorted({CHAIN_CODES[c] for c in batch.chain.tolist() if c >= 0})
    return batch, rows, gates, await store.market_transactions(conn, as_of, coeffs.market.window_years, chains)


def assert_same_facts(facts: tuple[Any, ...], apart: tuple[Any, ...], where: Any = None) -> None:
    """Both reads give the same rows, gates, batch and transactions."""
    (batch, rows, gates, tx), (batch0, rows0, gates0, tx0) = facts, apart
    assert rows.tobytes() == rows0.tobytes()
    assert gates.keys() == gates0.keys() and all(same(gates[k], gates0[k]) for k in gates)
    for field in dataclasses.fields(batch):
        a, b = getattr(batch, field.name), getattr(batch0, field.name)
        if isinstance(a, dict):
            assert a.keys() == b.keys() and all(same(a[k], b[k]) for k in a), field.name
        else:
            assert same(a, b), field.name
    assert (tx is None) == (tx0 is None), where
    if tx is not None and tx0 is not None:
        for field in dataclasses.fields(tx):
            assert same(getattr(tx, field.name), getattr(tx0, field.name)), field.name


async def test_assessment_facts_equal_the_facts_and_the_transactions_of_the_batch_chains(
    client: Any,
    world: Any,
    offered: list[dict[str, Any]],  # noqa: F811
    db: Any,
) -> None:
    other = world.other_enterprise
    foreign = patent_row(other.org.credit_code)
    r = await client.post("/api/v1/patents/import", headers=other.headers, json=[foreign])
    assert r.status_code == 200 and r.json()["imported"] == 1, r.text
    async with db.acquire() as conn:
        # A patent tagged 'ai' owned by an 'ic' enterprise: 'ai' is read (its median) but is not a batch chain.
        await conn.execute("UPDATE patents SET chain_codes = ARRAY['ai'] WHERE number = $1", offered[1]["number"])
        await conn.execute("UPDATE patents SET chain_codes = ARRAY['nev'] WHERE number = $1", foreign["number"])
        await conn.execute("UPDATE enterprises SET chain_code = NULL WHERE organisation_id = $1", other.org.id)
        await _record(
            conn,
            [("ic", "2023-03-01"), ("ic", "2012-01-01"), ("ai", "2023-05-01"), ("nev", "2022-01-01"),
             ("robot", "2023-01-01"), ("ic", "2024-01-15"), ("nev", "2024-05-30")],
        )  # fmt: skip
        coeffs = await store.active_coefficients(conn)
        owner = world.enterprise.org.id
        numbers = [offered[1]["number"], offered[2]["number"], foreign["number"]]
        seen: set[str] = set()
        for as_of in (dt.date(2024, 6, 1), dt.date(2023, 4, 1), dt.date(2011, 1, 1)):
            for who in (owner, None):
                facts = await store.assessment_facts(conn, as_of, who, numbers, coeffs, await _token(conn))
                assert_same_facts(facts, await _read_apart(conn, as_of, who, numbers, coeffs), (as_of, who))
                if facts[3] is not None:
                    seen |= {CHAIN_CODES[c] for c in facts[3].chain.tolist()}
        assert seen == {"ic", "nev"}  # 'ai' read with the medians' chains, then dropped; 'robot' never read


async def test_reference_data_kept_per_token_equal_what_is_read_and_follow_every_change(
    client: Any,
    world: Any,
    offered: list[dict[str, Any]],  # noqa: F811
    db: Any,
) -> None:
    async with db.acquire() as conn:
        await conn.execute("UPDATE patents SET chain_codes = ARRAY['ai'] WHERE number = $1", offered[1]["number"])
        await _record(conn, [("ic", "2023-03-01"), ("ai", "2023-05-01"), ("nev", "2022-01-01")])
        coeffs = await store.active_coefficients(conn)
        owner = world.enterprise.org.id
        numbers = [offered[1]["number"], offered[2]["number"]]
        as_of = dt.date(2024, 6, 1)

        async def both() -> tuple[Any, Any]:
            """(read now by the readers that keep nothing, through the cache under the current token)."""
            fresh = await _read_apart(conn, as_of, owner, numbers, coeffs)
            kept = await store.assessment_facts(conn, as_of, owner, numbers, coeffs, await _token(conn))
            return fresh, kept

        loads = store.reference_cache.loads
        fresh, kept = await both()
        assert_same_facts(kept, fresh)
        fresh, kept = await both()
        assert_same_facts(kept, fresh)
        assert store.reference_cache.loads == loads + 1  # read once, then kept
        before = await both()

        # Each reference table changes the token in the changing statement's transaction, and what is kept follows.
        changes = [
            "INSERT INTO market_transactions (kind, chain_code, transaction_date, price, revenue, indicator_scores)"
            " VALUES ('pledge', 'ic', '2024-01-02', 3000000, 9000000, array_fill(50::float8, ARRAY[27]))",
            f"UPDATE enterprises SET revenue = revenue * 3 WHERE organisation_id = '{owner}'",
            "UPDATE citation_cohorts SET patents = patents + 5",
        ]
        for change in changes:
            token = await _token(conn)
            await conn.execute(change)
            assert await _token(conn) != token, change
            fresh, kept = await both()
            assert_same_facts(kept, fresh)
        # (the changes did change what an assessment reads: more transactions, another median, other percentiles)
        tx0, tx1 = before[1][3], kept[3]
        assert tx0 is not None and tx1 is not None and tx1.ids.shape[0] == tx0.ids.shape[0] + 1
        assert not same(before[1][0].numeric["chain_median_sales"], kept[0].numeric["chain_median_sales"])
        # A change to anything else leaves the token alone.
        token = await _token(conn)
        await conn.execute("UPDATE enterprises SET consent_share = NOT consent_share WHERE organisation_id = $1", owner)
        await conn.execute("UPDATE patents SET title = title || ' ' WHERE number = $1", offered[2]["number"])
        assert await _token(conn) == token
