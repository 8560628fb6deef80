"""How assessment reports are stored (migration 0009): per language as json, older jsonb rows still read."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import msgspec
import pytest

from tests.valuation.test_api_assessments import patent_row, seed
from valuation.public import enterprise_summaries
from valuation.schemas import ReportBody

_REPORT_ONLY = {"id", "created_at", "created_by", "inputs"}

_COPY_AS_OLDER_ROW = """
INSERT INTO assessments (enterprise_id, created_by_org, created_by_key, as_of, model_version, coefficient_version,
    patent_count, requested_amount, collateral_value, suggested_loan, suggested_term_months, inputs, report,
    created_at)
SELECT enterprise_id, created_by_org, created_by_key, as_of, model_version, coefficient_version, patent_count,
    requested_amount, collateral_value, suggested_loan, suggested_term_months, inputs,
    jsonb_build_object('zh', report_zh::jsonb, 'en', report_en::jsonb), created_at + interval '1 second'
FROM assessments WHERE id = $1 RETURNING id
"""


@pytest.fixture
async def assessed(client: Any, world: Any) -> dict[str, Any]:
    owner = world.enterprise.org.credit_code
    rows = [patent_row(owner), patent_row(owner, forward_citations=40), patent_row(owner, family_offices=[])]
    await seed(client, world, rows)
    body = {"patents": [{"number": r["number"]} for r in rows], "requested_amount": 5e6}
    r = await client.post("/api/v1/assessments", headers=world.enterprise.headers, json=body)
    assert r.status_code == 201, r.text
    report: dict[str, Any] = r.json()
    return report


async def test_a_new_report_is_stored_per_language_as_the_service_encoded_it(
    client: Any, world: Any, db: Any, assessed: dict[str, Any]
) -> None:
    row = await db.fetchrow(
        "SELECT report IS NULL AS no_jsonb, report_zh::text AS zh, report_en::text AS en FROM assessments"
        " WHERE id = $1",
        assessed["id"],
    )
    assert row["no_jsonb"]
    assert json.loads(row["zh"]) == {k: v for k, v in assessed.items() if k not in _REPORT_ONLY}
    en = await client.get(
        f"/api/v1/assessments/{assessed['id']}", headers={**world.enterprise.headers, "Accept-Language": "en"}
    )
    assert en.status_code == 200
    assert json.loads(row["en"]) == {k: v for k, v in en.json().items() if k not in _REPORT_ONLY}
    assert json.loads(row["zh"])["steps"] != json.loads(row["en"])["steps"]


async def test_rows_with_the_older_jsonb_report_read_as_before(
    client: Any, world: Any, db: Any, assessed: dict[str, Any]
) -> None:
    summary = (await enterprise_summaries(db, [world.enterprise.org.id]))[world.enterprise.org.id]
    older = await db.fetchval(_COPY_AS_OLDER_ROW, assessed["id"])
    assert await db.fetchval("SELECT report_zh IS NULL AND report IS NOT NULL FROM assessments WHERE id = $1", older)
    for lang in ("zh", "en"):
        headers = {**world.enterprise.headers, "Accept-Language": lang}
        new = (await client.get(f"/api/v1/assessments/{assessed['id']}", headers=headers)).json()
        r = await client.get(f"/api/v1/assessments/{older}", headers=headers)
        assert r.status_code == 200, r.text
        assert {k: v for k, v in r.json().items() if k not in ("id", "created_at")} == {
            k: v for k, v in new.items() if k not in ("id", "created_at")
        }
    html = await client.get(f"/api/v1/assessments/{older}/html", headers=world.enterprise.headers)
    assert html.status_code == 200 and assessed["enterprise"]["credit_code"] in html.text
    listed = await client.get("/api/v1/assessments", headers=world.enterprise.headers)
    assert [i["id"] for i in listed.json()["items"]] == [str(older), assessed["id"]]
    # The older row is now the latest: the summary read from its jsonb equals the one read from the json.
    assert (await enterprise_summaries(db, [world.enterprise.org.id]))[world.enterprise.org.id] == summary


async def test_a_row_holds_its_report_in_exactly_one_form(db: Any, assessed: dict[str, Any]) -> None:
    both = _COPY_AS_OLDER_ROW.replace("inputs,\n    jsonb", "inputs, report_zh, report_en,\n    jsonb").replace(
        "inputs, report,", "inputs, report_zh, report_en, report,"
    )
    neither = _COPY_AS_OLDER_ROW.replace("jsonb_build_object('zh', report_zh::jsonb, 'en', report_en::jsonb)", "NULL")
    one_language = _COPY_AS_OLDER_ROW.replace(
        "jsonb_build_object('zh', report_zh::jsonb, 'en', report_en::jsonb)", "NULL, report_zh"
    ).replace("inputs, report,", "inputs, report, report_zh,")
    for query in (both, neither, one_language):
        with pytest.raises(asyncpg.CheckViolationError):
            await db.fetchval(query, assessed["id"])


async def test_the_stored_json_is_the_encoders_text_byte_for_byte(db: Any, assessed: dict[str, Any]) -> None:
    """The reports go to PostgreSQL as UTF-8 bytes (store.insert_assessment): the stored text is msgspec's
    encoding, non-ASCII text included, not re-serialised; the inputs (jsonb) hold what the service returned."""
    row = await db.fetchrow(
        "SELECT report_zh::text AS zh, report_en::text AS en, inputs::text AS inputs FROM assessments WHERE id = $1",
        assessed["id"],
    )
    for text in (row["zh"], row["en"]):
        assert msgspec.json.encode(msgspec.json.decode(text, type=ReportBody)).decode() == text
    assert any(ord(ch) > 0x7F for ch in row["zh"])
    assert json.loads(row["zh"]) == {k: v for k, v in assessed.items() if k not in _REPORT_ONLY}
    assert json.loads(row["inputs"]) == assessed["inputs"]
