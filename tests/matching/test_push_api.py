"""Push runs, their idempotence and lock, schedules, and the pull API (JSON pages, CSV, XLSX)."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import openpyxl

from ipledge.db.pool import create_pool
from matching import service_push
from matching.schedule import next_run, run_due_push_runs
from tests.matching.helpers import bulk_enterprises, register_criteria


async def _setup(db: Any, world: Any) -> list[Any]:
    admitted = await bulk_enterprises(db, 6, "44", state="admitted")
    await bulk_enterprises(db, 1, "44", state="admitted", consent_share=False)
    await bulk_enterprises(db, 2, "44", state="under_review")
    await register_criteria(db, world.bank.org.id, provinces=["44"], chains=["ic"], amount_min=2e6, amount_max=2e7)
    await register_criteria(db, world.fund.org.id, kind="vc_pe", chains=["ai"])  # nothing fits
    return admitted


async def test_push_run_publishes_changed_lists_only(client: Any, db: Any, world: Any) -> None:
    admitted = await _setup(db, world)
    op = world.operator.headers
    r = await client.post("/api/v1/push-runs", headers=op)
    run = r.json()
    assert r.status_code == 201 and run["lists_published"] == 1 and run["rows_published"] == 6, r.text
    assert run["enterprises"] == 7 and run["institutions"] == 2
    assert run["text_model"]["vocabulary_size"] > 0 and len(run["text_model"]["sha256"]) == 64
    events = await db.fetch("SELECT organisation_id, event_type, payload FROM outbox_events ORDER BY created_at")
    assert [(e["organisation_id"], e["event_type"]) for e in events] == [(world.bank.org.id, "push_list.published")]
    assert events[0]["payload"]["new"] == 6 and events[0]["payload"]["sequence"] == 1

    again = (await client.post("/api/v1/push-runs", headers=op)).json()
    assert again["lists_published"] == 0 and again["rows_published"] == 0
    assert await db.fetchval("SELECT count(*) FROM outbox_events") == 1
    assert await db.fetchval("SELECT count(*) FROM push_lists") == 1

    await db.execute("UPDATE pool_entries SET state = 'withdrawn' WHERE enterprise_id = $1", admitted[0][0])
    third = (await client.post("/api/v1/push-runs", headers=op)).json()
    assert third["lists_published"] == 1
    current = (await client.get("/api/v1/push-lists/current", headers=world.bank.headers)).json()
    assert current["push_list"]["sequence"] == 2 and current["push_list"]["removed"] == [str(admitted[0][0])]
    assert len(current["items"]) == 5 and {i["change"] for i in current["items"]} <= {"same", "changed"}
    runs = (await client.get("/api/v1/push-runs?limit=2", headers=op)).json()
    assert len(runs["items"]) == 2 and runs["next_cursor"]
    assert (await client.post("/api/v1/push-runs", headers=world.bank.headers)).status_code == 403


async def test_two_push_runs_at_once_have_one_effect(db: Any, db_url: str, world: Any) -> None:
    await _setup(db, world)
    wide = await create_pool(db_url, min_size=2, max_size=2)
    try:
        runs = await asyncio.gather(
            *(service_push.run_push(wide, trigger="manual", actor=None, base_url="http://t") for _ in range(2))
        )
    finally:
        await wide.close()
    assert sorted(r.lists_published for r in runs) == [0, 1]
    assert await db.fetchval("SELECT count(*) FROM push_lists") == 1
    assert await db.fetchval("SELECT count(*) FROM outbox_events WHERE event_type = 'push_list.published'") == 1


async def test_pull_api_pages_exports_and_tenancy(client: Any, db: Any, world: Any) -> None:
    await _setup(db, world)
    await client.post("/api/v1/push-runs", headers=world.operator.headers)
    bank = world.bank.headers
    page1 = (await client.get("/api/v1/push-lists/current?limit=4", headers=bank)).json()
    assert [i["rank"] for i in page1["items"]] == [1, 2, 3, 4] and page1["next_cursor"]
    page2 = (await client.get(f"/api/v1/push-lists/current?limit=4&cursor={page1['next_cursor']}", headers=bank)).json()
    assert [i["rank"] for i in page2["items"]] == [5, 6] and page2["next_cursor"] is None
    row = page1["items"][0]
    assert row["chain"] == "集成电路" and any("集成电路" in t for t in row["reasons"])
    en = (await client.get("/api/v1/push-lists/current", headers={**bank, "Accept-Language": "en"})).json()
    assert en["items"][0]["chain"] == "Integrated circuits"
    list_id = page1["push_list"]["id"]

    # tenancy: the fund has no list and cannot read the bank's
    assert (await client.get("/api/v1/push-lists/current", headers=world.fund.headers)).status_code == 404
    assert (await client.get(f"/api/v1/push-lists/{list_id}", headers=world.fund.headers)).status_code == 404
    assert (await client.get(f"/api/v1/push-lists/{list_id}/csv", headers=world.fund.headers)).status_code == 404
    other = f"/api/v1/push-lists/current?organisation_id={world.bank.org.id}"
    assert (await client.get(other, headers=world.fund.headers)).status_code == 404
    assert (await client.get("/api/v1/push-lists", headers=world.fund.headers)).json()["items"] == []
    assert (await client.get("/api/v1/push-lists/current", headers=world.enterprise.headers)).status_code == 403
    assert (await client.get("/api/v1/push-lists/current", headers=world.operator.headers)).status_code == 422
    assert (await client.get(other, headers=world.operator.headers)).status_code == 200

    r = await client.get(f"/api/v1/push-lists/{list_id}/csv", headers=bank)
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8", r.headers
    assert r.content.startswith(b"\xef\xbb\xbf")
    lines = r.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("排名,企业名称,统一社会信用代码") and len(lines) == 7
    r = await client.get("/api/v1/push-lists/current/xlsx", headers={**bank, "Accept-Language": "en"})
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("Rank", "Enterprise", "Unified social credit code") and len(values) == 7
    assert values[1][0] == 1 and isinstance(values[1][2], str) and len(values[1][2]) == 18
    assert (await client.get(f"/api/v1/push-lists/{list_id}/pdf", headers=bank)).status_code in (400, 404, 422)
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'push_list.exported'") == 2

    # an enterprise that withdraws its consent leaves the lists already published at once
    gone = page1["items"][0]["credit_code"]
    await db.execute(
        "UPDATE enterprises SET consent_share = false FROM organisations o"
        " WHERE o.id = enterprises.organisation_id AND o.credit_code = $1",
        gone,
    )
    after = (await client.get(f"/api/v1/push-lists/{list_id}", headers=bank)).json()
    assert len(after["items"]) == 5 and gone not in {i["credit_code"] for i in after["items"]}
    csv_lines = (await client.get(f"/api/v1/push-lists/{list_id}/csv", headers=bank)).content.decode("utf-8-sig")
    assert len(csv_lines.splitlines()) == 6 and gone not in csv_lines


async def test_schedules_run_once_per_period(client: Any, db: Any, world: Any) -> None:
    await _setup(db, world)
    op = world.operator.headers
    first = datetime.now(UTC) - timedelta(hours=1)
    r = await client.post(
        "/api/v1/push-schedules",
        headers=op,
        json={"name": "每月推送", "every": "monthly", "first_run_at": first.isoformat()},
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        "/api/v1/push-schedules", headers=op, json={"name": "x", "first_run_at": "2025-01-01T09:00:00"}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "first_run_at"
    now = datetime.now(UTC)
    assert await run_due_push_runs(db, now=now, base_url="http://t") == 1
    assert await run_due_push_runs(db, now=now, base_url="http://t") == 0
    schedule = (await client.get("/api/v1/push-schedules", headers=op)).json()[0]
    assert datetime.fromisoformat(schedule["next_run_at"]) > now and schedule["last_run_id"]
    assert await db.fetchval("SELECT trigger FROM push_runs") == "scheduled"


def test_next_run_skips_missed_periods_and_clamps_month_ends() -> None:
    jan31 = datetime(2025, 1, 31, 9, tzinfo=UTC)
    assert next_run(jan31, "monthly", jan31) == datetime(2025, 2, 28, 9, tzinfo=UTC)
    assert next_run(jan31, "monthly", datetime(2025, 3, 1, tzinfo=UTC)) == datetime(2025, 3, 31, 9, tzinfo=UTC)
    assert next_run(jan31, "weekly", jan31 + timedelta(days=8)) == jan31 + timedelta(weeks=2)
    assert next_run(jan31, "daily", jan31) == jan31 + timedelta(days=1)
