"""valuation.public.enterprise_summaries: what matching and roadshows read about an enterprise."""

from __future__ import annotations

from typing import Any

from tests.valuation.test_api_assessments import patent_row, seed
from valuation.public import enterprise_summaries
from valuation.store import active_version, ensure_default_set


async def test_summary_comes_from_the_latest_assessment(client: Any, world: Any, db: Any) -> None:
    owner = world.enterprise.org.credit_code
    rows = [patent_row(owner), patent_row(owner, forward_citations=40), patent_row(owner, family_offices=[])]
    await seed(client, world, rows)
    assert await enterprise_summaries(db, [world.enterprise.org.id, world.other_enterprise.org.id]) == {}
    body = {"patents": [{"number": r["number"]} for r in rows], "requested_amount": 5e6}
    report = (await client.post("/api/v1/assessments", headers=world.enterprise.headers, json=body)).json()
    summaries = await enterprise_summaries(db, [world.enterprise.org.id, world.other_enterprise.org.id])
    assert set(summaries) == {world.enterprise.org.id}
    summary = summaries[world.enterprise.org.id]
    expected = sum(sorted((p["V"] for p in report["patents"]), reverse=True)[:3]) / 3
    assert abs(summary.value_degree - round(expected, 2)) < 0.01
    assert summary.collateral_value == report["collateral_value"]
    thresholds = {"A": 80, "B": 65, "C": 50}
    assert summary.grade == next((g for g, t in thresholds.items() if expected >= t), "D")


async def test_summary_falls_back_to_the_latest_completed_batch_run(client: Any, world: Any, db: Any) -> None:
    owner = world.other_enterprise.org.credit_code
    numbers = []
    for v in (90.0, 85.0, 70.0, 10.0):
        row = patent_row(owner)
        numbers.append((row["number"], v))
        r = await client.post("/api/v1/patents", headers=world.operator.headers, json=row)
        assert r.status_code == 201, r.text
    await ensure_default_set(db)
    version = await active_version(db)
    for status, scale in (("completed", 1.0), ("running", 0.5)):
        run = await db.fetchval(
            "INSERT INTO valuation_runs (as_of, coefficient_version, model_version, chunk_size, total, status)"
            " VALUES (current_date, $1, 'm', 10, 4, $2) RETURNING id",
            version,
            status,
        )
        await db.executemany(
            "INSERT INTO patent_valuations (run_id, number, value_degree, legal, technical, economic, grade,"
            " confidence) VALUES ($1, $2, $3, 50, 50, 50, 0, 1)",
            [(run, n, v * scale) for n, v in numbers],
        )
    summary = (await enterprise_summaries(db, [world.other_enterprise.org.id]))[world.other_enterprise.org.id]
    assert summary.value_degree == round((90 + 85 + 70) / 3, 2) and summary.grade == "A"
    assert summary.collateral_value is None
