"""An assessment reads its facts in one joined COPY; they must equal what the batch's separate queries read."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import numpy as np

from tests.factories import patent_number
from tests.valuation.test_api_assessments import offered, patent_row  # noqa: F401  (the fixture)
from valuation import store
from valuation.features import (
    CHAINS_PARAM,
    ENTERPRISE_FIELDS,
    EVENT_FIELDS,
    JOINED_FIELDS,
    NIL_OWNER,
    PATENT_FIELDS,
    enterprises_sql,
    events_sql,
    joined_sql,
    patents_sql,
    split_joined,
)


def same(a: Any, b: Any) -> bool:
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))


async def test_joined_facts_equal_the_separate_queries(
    client: Any,
    world: Any,
    offered: list[dict[str, Any]],  # noqa: F811
    db: Any,
) -> None:
    other = world.other_enterprise
    foreign = patent_row(other.org.credit_code, events=[{"kind": "licence", "date": "2021-05-01"}])
    r = await client.post("/api/v1/patents/import", headers=other.headers, json=[foreign])
    assert r.status_code == 200 and r.json()["imported"] == 1, r.text
    unowned = patent_number(2019)
    async with db.acquire() as conn:
        await conn.execute("CREATE TEMP TABLE t AS SELECT * FROM patents WHERE false")
        await conn.execute("INSERT INTO t SELECT * FROM patents WHERE number = $1", offered[0]["number"])
        await conn.execute("UPDATE t SET number = $1, owner_id = NULL", unowned)
        await conn.execute("INSERT INTO patents SELECT * FROM t")
        owner = await conn.fetchval(
            "SELECT id FROM organisations WHERE credit_code = $1", world.enterprise.org.credit_code
        )
        numbers = [offered[1]["number"], foreign["number"], unowned]
        for as_of in (dt.date(2024, 6, 1), dt.date(2021, 12, 31)):
            for who in (owner, uuid.UUID(NIL_OWNER)):
                joined = await store.copy_rows(conn, joined_sql(), JOINED_FIELDS, as_of, CHAINS_PARAM, who, numbers)
                rows, events, enterprises = split_joined(joined)
                rows0 = await store.copy_rows(
                    conn, patents_sql("enterprise"), PATENT_FIELDS, as_of, CHAINS_PARAM, who, numbers
                )
                events0 = await store.copy_rows(conn, events_sql(True), EVENT_FIELDS, as_of, who, numbers)
                owners = sorted({uuid.UUID(bytes=bytes(o)) for o in rows0["owner"]} - {uuid.UUID(NIL_OWNER)})
                enterprises0 = await store.copy_rows(
                    conn, enterprises_sql(True), ENTERPRISE_FIELDS, CHAINS_PARAM, owners
                )
                assert rows.size == rows0.size >= 3 and events0.size >= 1 and enterprises0.size >= 1
                assert bytes(rows["number"][-1]).decode() == unowned  # unowned rows last, as in the batch query
                for name, _, _ in PATENT_FIELDS:
                    assert same(rows[name], rows0[name]), name
                for name, _, _ in EVENT_FIELDS:
                    assert same(events[name], events0[name]), name
                for name, _, _ in ENTERPRISE_FIELDS:
                    assert same(enterprises[name], enterprises0[name]), name
            # What an assessment reads in its one statement: the same rows, in the same order.
            code = world.enterprise.org.credit_code
            applicant, registry, facts = await store.applicant_and_registry(conn, code, numbers, as_of)
            copied = await store.copy_rows(conn, joined_sql(), JOINED_FIELDS, as_of, CHAINS_PARAM, owner, numbers)
            assert applicant is not None and applicant["id"] == owner and set(registry) == set(numbers)
            assert facts.size == copied.size >= 3
            raw = await conn.fetch(store._APPLICANT_CALL, code, numbers, as_of, CHAINS_PARAM)
            assert len(raw) == 3 and [r["facts"] is not None for r in raw] == [True, False, False]  # sent once
            for name, _, _ in JOINED_FIELDS:
                assert same(facts[name], copied[name]), name
        # No such organisation: no applicant, the offered numbers' facts alone (unowned ones, others' ones).
        applicant, registry, facts = await store.applicant_and_registry(conn, "0" * 18, numbers, as_of)
        alone = await store.copy_rows(
            conn, joined_sql(), JOINED_FIELDS, as_of, CHAINS_PARAM, uuid.UUID(NIL_OWNER), numbers
        )
        assert applicant is None and set(registry) == set(numbers) and facts.size == alone.size == 3
        _, _, none = await store.applicant_and_registry(conn, "0" * 18, [patent_number(2015)], as_of)
        assert none.size == 0


async def test_facts_function_is_the_joined_query(db: Any) -> None:
    """Migration 0010's function runs exactly :func:`joined_sql` (a change of the query needs a new migration)."""
    async with db.acquire() as conn:
        body = await conn.fetchval("SELECT prosrc FROM pg_proc WHERE proname = 'valuation_assessment_facts'")
    assert body == store.facts_function_body()


async def test_applicant_function_returns_what_the_store_reads(db: Any) -> None:
    """Migration 0014's function: its plan kept (generic), and after the applicant's columns the registry columns
    valuation.store reads by name, in order, then the facts."""
    async with db.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT proargnames, proargmodes::text[] AS proargmodes, proconfig FROM pg_proc"
            " WHERE proname = 'valuation_applicant'"
        )
    returned = [name for name, mode in zip(row["proargnames"], row["proargmodes"], strict=True) if mode == "t"]
    assert returned[-len(store._REGISTRY_COLUMNS) - 1 :] == [*store._REGISTRY_COLUMNS, "facts"]
    assert row["proconfig"] == ["plan_cache_mode=force_generic_plan"]
