"""How assessment reports are stored: compressed per language (migration 0015); rows written before in the
older forms (json per language, 0009; one jsonb, 0003) still read as before."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import msgspec
import pytest

from tests.valuation.test_api_assessments import patent_row, seed
from valuation.public import enterprise_summaries
from valuation.schemas import ReportBody
from valuation.store import pack_report, unpack_report

_REPORT_ONLY = {"id", "created_at", "created_by", "inputs"}

_COLUMNS = (
    "enterprise_id, created_by_org, created_by_key, as_of, model_version, coefficient_version, patent_count,"
    " requested_amount, collateral_value, suggested_loan, suggested_term_months, inputs"
)


async def _copy(db: Any, assessment_id: str, forms: dict[str, Any], seconds: int = 1) -> uuid.UUID:
    """A copy of a row, a little later, holding its report in the columns ``forms`` names (the rest NULL).

    (The pool's codecs encode the json and jsonb values given as Python objects.)
    """
    names = ", ".join(forms)
    params = ", ".join(f"${k}" for k in range(3, 3 + len(forms)))
    return await db.fetchval(  # type: ignore[no-any-return]
        f"INSERT INTO assessments ({_COLUMNS}, {names}, created_at) SELECT {_COLUMNS}, {params},"
        f" created_at + $2 * interval '1 second' FROM assessments WHERE id = $1 RETURNING id",
        uuid.UUID(assessment_id),
        seconds,
        *forms.values(),
    )


async def _documents(db: Any, assessment_id: str) -> tuple[bytes, bytes]:
    row = await db.fetchrow(
        "SELECT report_zh_lz4, report_en_lz4 FROM assessments WHERE id = $1", uuid.UUID(assessment_id)
    )
    return unpack_report(row["report_zh_lz4"]), unpack_report(row["report_en_lz4"])


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


async def test_a_new_report_is_stored_compressed_per_language_as_the_service_encoded_it(
    client: Any, world: Any, db: Any, assessed: dict[str, Any]
) -> None:
    row = await db.fetchrow(
        "SELECT report IS NULL AND report_zh IS NULL AND report_en IS NULL AS no_older_form,"
        " octet_length(report_zh_lz4) AS packed, patent_degrees FROM assessments WHERE id = $1",
        uuid.UUID(assessed["id"]),
    )
    assert row["no_older_form"]
    zh, en = await _documents(db, assessed["id"])
    assert row["packed"] < len(zh) / 2  # compressed indeed
    assert json.loads(zh) == {k: v for k, v in assessed.items() if k not in _REPORT_ONLY}
    english = await client.get(
        f"/api/v1/assessments/{assessed['id']}", headers={**world.enterprise.headers, "Accept-Language": "en"}
    )
    assert english.status_code == 200
    assert json.loads(en) == {k: v for k, v in english.json().items() if k not in _REPORT_ONLY}
    assert json.loads(zh)["steps"] != json.loads(en)["steps"]
    assert row["patent_degrees"] == [p["V"] for p in assessed["patents"]]


async def test_rows_in_the_older_forms_read_as_before(
    client: Any, world: Any, db: Any, assessed: dict[str, Any]
) -> None:
    summary = (await enterprise_summaries(db, [world.enterprise.org.id]))[world.enterprise.org.id]
    zh, en = await _documents(db, assessed["id"])
    per_language = await _copy(db, assessed["id"], {"report_zh": json.loads(zh), "report_en": json.loads(en)}, 1)
    both = {"zh": json.loads(zh), "en": json.loads(en)}
    one_jsonb = await _copy(db, assessed["id"], {"report": both}, 2)
    assert await db.fetchval(
        "SELECT report_zh_lz4 IS NULL AND patent_degrees IS NULL AND report IS NULL FROM assessments WHERE id = $1",
        per_language,
    )
    for older in (per_language, one_jsonb):
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
    assert [i["id"] for i in listed.json()["items"]] == [str(one_jsonb), str(per_language), assessed["id"]]
    # The latest row is now one in an older form: the summary read from its report equals the one read from
    # the new row's patent_degrees; and again with the per-language row the latest.
    assert (await enterprise_summaries(db, [world.enterprise.org.id]))[world.enterprise.org.id] == summary
    await _copy(db, str(per_language), {"report_zh": json.loads(zh), "report_en": json.loads(en)}, 5)
    assert (await enterprise_summaries(db, [world.enterprise.org.id]))[world.enterprise.org.id] == summary


async def test_a_row_holds_its_report_in_exactly_one_form(db: Any, assessed: dict[str, Any]) -> None:
    zh, en = await _documents(db, assessed["id"])
    degrees = [p["V"] for p in assessed["patents"]]
    packed = {"report_zh_lz4": pack_report(zh), "report_en_lz4": pack_report(en), "patent_degrees": degrees}
    per_language = {"report_zh": json.loads(zh), "report_en": json.loads(en)}
    one_jsonb = {"report": {"zh": json.loads(zh), "en": json.loads(en)}}
    bad = [
        {**packed, **per_language},
        {**packed, **one_jsonb},
        {**per_language, **one_jsonb},
        {"report_zh_lz4": packed["report_zh_lz4"], "patent_degrees": degrees},  # one language
        {"report_zh_lz4": packed["report_zh_lz4"], "report_en_lz4": packed["report_en_lz4"]},  # no degrees
        {**packed, "patent_degrees": degrees[:-1]},  # a degree per offered patent (patent_count)
        {**packed, "patent_degrees": [*degrees[:-1], None]},
        {"report_zh": json.loads(zh)},
        {"patent_degrees": degrees},  # no report at all
    ]
    for forms in bad:
        with pytest.raises(asyncpg.CheckViolationError):
            await _copy(db, assessed["id"], forms)
    for good in (packed, per_language, one_jsonb):
        assert await _copy(db, assessed["id"], good)


async def test_the_stored_report_is_the_encoders_text_byte_for_byte(db: Any, assessed: dict[str, Any]) -> None:
    """The reports are stored as msgspec encoded them (store.insert_assessment), non-ASCII text included, not
    re-serialised; the inputs (jsonb) hold what the service returned."""
    for document in await _documents(db, assessed["id"]):
        assert msgspec.json.encode(msgspec.json.decode(document, type=ReportBody)) == document
        assert unpack_report(pack_report(document)) == document
    zh = (await _documents(db, assessed["id"]))[0].decode()
    assert any(ord(ch) > 0x7F for ch in zh)
    assert json.loads(zh) == {k: v for k, v in assessed.items() if k not in _REPORT_ONLY}
    inputs = await db.fetchval("SELECT inputs::text FROM assessments WHERE id = $1", uuid.UUID(assessed["id"]))
    assert json.loads(inputs) == assessed["inputs"]
