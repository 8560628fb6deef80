"""The batch command: chunks written atomically with their checkpoint, resumable after a crash or a kill."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sys
import time
from typing import Any

import pytest

from valuation.batch_run import InjectedFailure, RunRefused, chunk_end, run_batch
from valuation.copybin import decode_rows, encode_rows, numeric_18_2

N = 240

SEED_SQL = """
INSERT INTO patents (number, patent_type, title, owner_id, owner_name, filing_date, grant_date, expiry_date,
    legal_status, claims_total, claims_independent, claim_types, ipc_codes, family_offices, forward_citations,
    backward_citations, chain_codes)
SELECT d || '.' || (SELECT CASE WHEN t % 11 = 10 THEN 'X' ELSE (t % 11)::text END FROM (
           SELECT sum(substr(d, k, 1)::int * (ARRAY[2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5])[k]) AS t
           FROM generate_series(1, 12) k) w),
       CASE WHEN i % 5 = 0 THEN 'utility_model' ELSE 'invention' END,
       '专利 ' || i,
       ($1::uuid[])[1 + i % 10],
       '权利人',
       date '2015-01-01' + (i % 900),
       date '2017-01-01' + (i % 900),
       CASE WHEN i % 5 = 0 THEN date '2025-01-01' ELSE date '2035-01-01' END + (i % 900),
       CASE WHEN i % 11 = 0 THEN 'pending' WHEN i % 13 = 0 THEN 'lapsed' ELSE 'granted' END,
       3 + i % 20, 1 + i % 3, 'product',
       ARRAY['H01L 23/' || (i % 40), 'G06F 3/0' || (i % 9)],
       CASE WHEN i % 3 = 0 THEN ARRAY['US', 'JP'] ELSE ARRAY[]::text[] END,
       i % 17, i % 9, ARRAY['ic']
FROM (SELECT i, '20151' || lpad(i::text, 7, '0') AS d FROM generate_series(1, $2::int) i) g
"""


async def seed_patents(db: Any, world: Any, n: int = N) -> list[Any]:
    """``n`` patents over 9 enterprises (the world's two, seven more in province 32) and no owner (1 in 10)."""
    extra = await db.fetch(
        "INSERT INTO organisations (kind, name, credit_code, province_code, status)"
        " SELECT 'enterprise', '企业' || k, 'TESTBATCHORG' || lpad(k::text, 6, '0'), '32', 'active'"
        " FROM generate_series(1, 7) k RETURNING id"
    )
    owners = [world.enterprise.org.id, world.other_enterprise.org.id, *(r[0] for r in extra), None]
    await db.executemany("INSERT INTO enterprises (organisation_id) VALUES ($1)", [(r[0],) for r in extra])
    await db.execute(SEED_SQL, owners, n)
    await db.execute(
        "UPDATE enterprises SET revenue = 2e7, chain_code = 'ic', patent_industrialisation_rate = 0.6"
        " WHERE organisation_id = ANY ($1::uuid[])",
        owners[:-1],
    )
    return owners


async def assert_prefix(db: Any, run_id: int, done: int) -> None:
    """The rows written are the first ``done`` patents in stream order (owned by owner, then unowned): no gap."""
    ordered = await db.fetch("SELECT number FROM patents ORDER BY owner_id IS NULL, owner_id, number")
    written = [r[0] for r in await db.fetch("SELECT number FROM patent_valuations WHERE run_id = $1", run_id)]
    assert len(written) == len(set(written)) == done
    assert set(written) == {r[0] for r in ordered[:done]}


async def state(db: Any) -> tuple[int, int, int, str]:
    run = await db.fetchrow("SELECT id, done, status FROM valuation_runs ORDER BY id DESC LIMIT 1")
    written = await db.fetchval("SELECT count(*) FROM patent_valuations WHERE run_id = $1", run["id"])
    return run["id"], run["done"], written, run["status"]


def test_copy_codec_round_trips_fixed_width_rows() -> None:
    fields = [("a", ">i4", 4), ("b", ">f8", 8)]
    import numpy as np

    data = encode_rows({"a": np.array([1, 2]), "b": np.array([0.5, np.nan])}, fields)
    rows = decode_rows(data, fields)
    assert rows["a"].tolist() == [1, 2] and rows["b"][0] == 0.5 and np.isnan(rows["b"][1])
    with_null = encode_rows({"a": np.array([1]), "b": np.array([0.5])}, [("a", ">i4", -1), ("b", ">f8", 8)])
    with pytest.raises(ValueError, match="fixed-width rows"):
        decode_rows(with_null, fields)
    digits = numeric_18_2(np.array([1234567.891, 0.0]))["d"].tolist()
    assert digits == [[0, 0, 123, 4567, 8900], [0, 0, 0, 0, 0]]


def test_chunks_end_at_owner_boundaries() -> None:
    import numpy as np

    owner = np.array([bytes([k]) * 16 for k in (1, 1, 2, 2, 2, 3)], dtype="V16")
    assert chunk_end(owner, 3, final=False) == 5  # owner 2's run continues past row 3
    assert chunk_end(owner, 5, final=False) == 5
    assert chunk_end(owner[:5], 3, final=False) == 0  # owner 2 may continue in rows not read yet
    assert chunk_end(owner[:5], 3, final=True) == 5
    assert chunk_end(owner, 10, final=False) == 0 and chunk_end(owner, 10, final=True) == 6
    nil = np.array([bytes(16)] * 4, dtype="V16")
    assert chunk_end(nil, 2, final=False) == 2  # unowned patents share nothing: cut anywhere


async def test_injected_failure_between_chunks_then_resume(db: Any, world: Any) -> None:
    await seed_patents(db, world)
    with pytest.raises(InjectedFailure):
        await run_batch(db, chunk=40, fail_after_chunks=2, as_of=dt.date(2024, 6, 1))
    run_id, done, written, status = await state(db)
    assert status == "running" and written == done and 80 <= done < N
    await assert_prefix(db, run_id, done)
    first = await db.fetch("SELECT number, value_base FROM patent_valuations WHERE run_id = $1", run_id)
    resumed = await run_batch(db, chunk=40, resume=True)
    assert resumed.id == run_id and resumed.done == N
    run_id, done, written, status = await state(db)
    assert (done, written, status) == (N, N, "completed")
    numbers = {r[0] for r in await db.fetch("SELECT number FROM patent_valuations WHERE run_id = $1", run_id)}
    assert numbers == {r[0] for r in await db.fetch("SELECT number FROM patents")}
    again = {
        r[0]: r[1] for r in await db.fetch("SELECT number, value_base FROM patent_valuations WHERE run_id = $1", run_id)
    }
    assert all(again[r[0]] == r[1] for r in first)
    # A fresh (non-resumed) run over everything gives the same numbers as the resumed one.
    fresh = await run_batch(db, chunk=1000, as_of=dt.date(2024, 6, 1))
    same = await db.fetchval(
        "SELECT count(*) FROM patent_valuations a JOIN patent_valuations b USING (number)"
        " WHERE a.run_id = $1 AND b.run_id = $2 AND a.value_base IS NOT DISTINCT FROM b.value_base"
        " AND a.value_degree = b.value_degree",
        run_id,
        fresh.id,
    )
    assert same == N


async def test_filtered_batch_by_chain_and_province(db: Any, world: Any) -> None:
    await seed_patents(db, world, 40)
    run = await run_batch(db, chunk=7, province="33", as_of=dt.date(2024, 6, 1))  # other_enterprise is in 33
    assert run.total == 4 and run.done == 4
    run = await run_batch(db, chunk=7, chain="ic", as_of=dt.date(2024, 6, 1))
    assert run.done == 40


async def test_single_assessment_matches_the_batch(client: Any, db: Any, world: Any) -> None:
    await seed_patents(db, world, 120)
    today = dt.datetime.now(dt.UTC).date()
    run = await run_batch(db, chunk=50, as_of=today)
    rows = await db.fetch(
        "SELECT v.number, v.value_degree, v.value_base::float8 FROM patent_valuations v JOIN patents p USING (number)"
        " WHERE v.run_id = $1 AND p.owner_id = $2 AND p.legal_status = 'granted' ORDER BY v.number LIMIT 3",
        run.id,
        world.enterprise.org.id,
    )
    body = {"patents": [{"number": r[0]} for r in rows], "requested_amount": 1e6, "as_of": today.isoformat()}
    report = (await client.post("/api/v1/assessments", headers=world.enterprise.headers, json=body)).json()
    for r, p in zip(rows, report["patents"], strict=True):
        assert p["V"] == pytest.approx(r[1], abs=0.01)
        assert p["value"]["base"] == pytest.approx(r[2], abs=0.01)
    cited = await db.fetchval("SELECT count(*) FROM citation_cohorts")
    assert cited > 0


async def test_killed_batch_process_resumes_without_gaps_or_duplicates(db: Any, db_url: str, world: Any) -> None:
    await seed_patents(db, world)
    env = {**os.environ, "DATABASE_URL": db_url, "IPLEDGE_LOG_LEVEL": "ERROR"}
    cmd = [sys.executable, "-m", "ipledge.cli", "valuation", "batch", "--chunk", "20", "--quiet"]
    proc = await asyncio.create_subprocess_exec(
        *cmd, "--pause-ms", "300", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        done = 0
        while time.monotonic() < deadline and done < 40 and proc.returncode is None:
            done = await db.fetchval("SELECT coalesce(max(done), 0) FROM valuation_runs")
            await asyncio.sleep(0.05)
        assert proc.returncode is None, "the batch finished before it could be killed"
        proc.send_signal(signal.SIGKILL)  # a real crash: no cleanup, no rollback handler in the process
        await asyncio.wait_for(proc.wait(), 10)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    run_id, done, written, status = await state(db)
    assert status == "running" and written == done and 40 <= done < N
    await assert_prefix(db, run_id, done)
    resumed = await asyncio.create_subprocess_exec(
        *cmd, "--resume", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(resumed.communicate(), 120)
    assert resumed.returncode == 0, err
    assert f"run {run_id}: {N} of {N}".encode() in out
    assert await state(db) == (run_id, N, N, "completed")
    await assert_prefix(db, run_id, N)


async def test_a_run_is_not_resumed_over_changed_reference_data(db: Any, world: Any) -> None:
    """Rows written before a crash used the reference data of then; a resume after it changed would mix two
    states in one run (found: 79 of 240 rows differed from a fresh run), so it is refused, and a new run goes on."""
    await seed_patents(db, world)
    with pytest.raises(InjectedFailure):
        await run_batch(db, chunk=40, fail_after_chunks=2, as_of=dt.date(2024, 6, 1))
    await db.execute(
        "INSERT INTO market_transactions (kind, chain_code, transaction_date, price, revenue, indicator_scores, note)"
        " VALUES ('pledge', 'ic', '2024-01-02', 3e6, 4e7, $1, 'after the crash')",
        [60.0] * 27,
    )
    with pytest.raises(RunRefused, match="changed since run"):
        await run_batch(db, chunk=40, resume=True)
    run_id, done, _, status = await state(db)
    assert status == "running" and done < N  # left as it was
    fresh = await run_batch(db, chunk=1000, as_of=dt.date(2024, 6, 1))
    assert fresh.id != run_id and fresh.done == N


async def test_two_processes_cannot_work_on_one_run(db: Any, world: Any) -> None:
    await seed_patents(db, world)
    with pytest.raises(InjectedFailure):
        await run_batch(db, chunk=40, fail_after_chunks=1, as_of=dt.date(2024, 6, 1))
    run_id, done, _, _ = await state(db)
    async with db.acquire() as other:  # another process holding the run
        assert await other.fetchval("SELECT pg_try_advisory_lock(hashtext('valuation_runs'), $1::int)", run_id)
        with pytest.raises(RunRefused, match="another process"):
            await run_batch(db, chunk=40, resume=True)
        assert (await state(db))[1] == done
        await other.execute("SELECT pg_advisory_unlock(hashtext('valuation_runs'), $1::int)", run_id)
    resumed = await run_batch(db, chunk=40, resume=True)
    assert resumed.id == run_id and resumed.done == N
