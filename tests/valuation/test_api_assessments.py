"""Pledge assessments over HTTP: immutable reports, gates from the registry, tenancy, HTML, languages."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar.serialization import encode_json

from tests.factories import patent_number
from valuation import service, store
from valuation.schemas import ReportBody


def patent_row(owner: str, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "number": patent_number(2018),
        "title": "一种芯片封装结构及其制造方法",
        "owner": owner,
        "filing_date": "2018-03-01",
        "grant_date": "2020-06-01",
        "legal_status": "granted",
        "claims_total": 12,
        "claims_independent": 2,
        "claim_types": "product_and_method",
        "first_claim": "一种芯片封装结构，包括基板、芯片和封装层。",
        "ipc_codes": ["H01L 23/31", "H01L 21/56"],
        "family_offices": ["US", "EP"],
        "forward_citations": 7,
        "backward_citations": 5,
    }
    row.update(over)
    return row


async def seed(client: Any, world: Any, rows: list[dict[str, Any]], revenue: float = 3e7) -> None:
    actor = world.enterprise
    code = actor.org.credit_code
    r = await client.patch(
        f"/api/v1/enterprises/{code}",
        headers=world.operator.headers,
        json={"revenue": revenue, "chain": "ic", "certifications": ["hnte"]},
    )
    assert r.status_code == 200, r.text
    r = await client.post("/api/v1/patents/import", headers=actor.headers, json=rows)
    assert r.status_code == 200 and r.json()["imported"] == len(rows), r.text


@pytest.fixture
async def offered(client: Any, world: Any) -> list[dict[str, Any]]:
    owner = world.enterprise.org.credit_code
    rows = [
        patent_row(owner),
        patent_row(owner, forward_citations=30, events=[{"kind": "licence", "date": "2021-05-01"}]),
        patent_row(owner, events=[{"kind": "pledge", "date": "2022-01-10"}]),  # pledged, never released
        patent_row(owner, legal_status="lapsed"),
        patent_row(owner, events=[{"kind": "invalidation_request", "date": "2023-02-01"}]),
    ]
    await seed(client, world, rows)
    return rows


async def test_assessment_report_is_complete_and_stored_append_only(
    client: Any, world: Any, offered: list[dict[str, Any]], db: Any
) -> None:
    body = {"patents": [{"number": r["number"]} for r in offered], "requested_amount": 1_000_000}
    body["patents"][0] |= {"maturity": "mass_production", "declared": {"importance": 5, "effect": 4}}
    r = await client.post("/api/v1/assessments", headers=world.enterprise.headers, json=body)
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["model_version"] == "gbt42748-simplified-1.0" and report["coefficient_version"] == "2024.1"
    assert report["enterprise"]["credit_code"] == world.enterprise.org.credit_code
    by_number = {p["number"]: p for p in report["patents"]}
    first = by_number[offered[0]["number"]]
    assert first["eligible"] and first["grade"] in "ABCD" and 0 < first["V"] <= 100
    assert {"L", "T", "E", "confidence", "defaulted", "indicators", "methods", "value", "gates", "steps"} <= set(first)
    assert "importance" not in first["defaulted"] and "control" in first["defaulted"]
    assert first["methods"]["income"]["value"] > 0 and first["value"]["low"] <= first["value"]["base"]
    assert first["value"]["base"] <= first["value"]["high"]
    assert first["methods"]["market"]["applicable"] is False
    assert first["pledge_rate"] > 0 and all(g["passed"] for g in first["gates"])
    failed = {p["number"]: [g["code"] for g in p["gates"] if not g["passed"]] for p in report["patents"]}
    assert failed[offered[2]["number"]] == ["already_pledged"]
    assert failed[offered[3]["number"]] == ["not_in_force", "term_too_short"]
    assert failed[offered[4]["number"]] == ["pending_invalidation"]
    collateral = sum(p["collateral_value"] for p in report["patents"])
    assert report["collateral_value"] == pytest.approx(collateral, abs=0.05)
    assert report["suggested_loan"] == pytest.approx(min(1_000_000, report["collateral_value"]), abs=0.01)
    assert 0 < report["suggested_term_months"] <= 36
    assert any("建议贷款额" in s for s in report["steps"])
    assert report["inputs"]["request"]["requested_amount"] == 1_000_000
    assert len(report["inputs"]["patents"]) == 5
    # Stored once, immutable.
    with pytest.raises(asyncpg.PostgresError, match="append-only"):
        await db.execute("UPDATE assessments SET suggested_loan = 0")
    again = await client.get(f"/api/v1/assessments/{report['id']}", headers=world.enterprise.headers)
    assert again.status_code == 200 and again.json() == report
    # The response is spliced from the documents encoded for storage (service.assessment_json): the very bytes of
    # encoding the Assessment of the stored report.
    row = await db.fetchrow(
        "SELECT report_zh_lz4, created_at, created_by_org FROM assessments WHERE id = $1", uuid.UUID(report["id"])
    )
    stored = msgspec.json.decode(store.unpack_report(row["report_zh_lz4"]), type=ReportBody)
    whole = service._assessment(stored, uuid.UUID(report["id"]), row["created_at"], row["created_by_org"],
                                msgspec.json.decode(r.content)["inputs"])  # fmt: skip
    assert r.content == encode_json(whole)  # Litestar's own serialisation of the Assessment
    english = await client.get(
        f"/api/v1/assessments/{report['id']}", headers={**world.enterprise.headers, "Accept-Language": "en"}
    )
    en = english.json()
    assert en["lang"] == "en" and any("Suggested loan" in s for s in en["steps"])
    assert en["suggested_loan"] == report["suggested_loan"]
    # A re-assessment is a new report; the old one stays.
    r2 = await client.post("/api/v1/assessments", headers=world.enterprise.headers, json=body)
    assert r2.status_code == 201 and r2.json()["id"] != report["id"]
    page = (await client.get("/api/v1/assessments?limit=1", headers=world.enterprise.headers)).json()
    assert [i["id"] for i in page["items"]] == [r2.json()["id"]] and page["next_cursor"]
    page2 = await client.get(
        f"/api/v1/assessments?limit=1&cursor={page['next_cursor']}", headers=world.enterprise.headers
    )
    assert [i["id"] for i in page2.json()["items"]] == [report["id"]] and page2.json()["next_cursor"] is None


async def test_html_report_is_printable_chinese(client: Any, world: Any, offered: list[dict[str, Any]]) -> None:
    body = {"patents": [{"number": offered[0]["number"]}], "requested_amount": 500_000}
    report = (await client.post("/api/v1/assessments", headers=world.enterprise.headers, json=body)).json()
    r = await client.get(f"/api/v1/assessments/{report['id']}/html", headers=world.enterprise.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "专利质押融资快评报告" in r.text and offered[0]["number"] in r.text and "建议贷款额" in r.text


async def test_tenancy_bank_needs_consent_and_is_audited(
    client: Any, world: Any, offered: list[dict[str, Any]], db: Any
) -> None:
    body = {"patents": [{"number": offered[0]["number"]}], "requested_amount": 500_000}
    created = await client.post("/api/v1/assessments", headers=world.enterprise.headers, json=body)
    rid = created.json()["id"]
    code = world.enterprise.org.credit_code
    assert (await client.get(f"/api/v1/assessments/{rid}", headers=world.bank.headers)).status_code == 200
    listed = await client.get(f"/api/v1/assessments?enterprise={code}", headers=world.bank.headers)
    assert listed.status_code == 200 and len(listed.json()["items"]) == 1
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'assessment.read'") == 1
    for actor in (world.other_enterprise, world.fund, world.pending_bank):
        status = (await client.get(f"/api/v1/assessments/{rid}", headers=actor.headers)).status_code
        assert status in (403, 404)
    await db.execute("UPDATE enterprises SET consent_share = false WHERE organisation_id = $1", world.enterprise.org.id)
    assert (await client.get(f"/api/v1/assessments/{rid}", headers=world.bank.headers)).status_code == 404
    listed = await client.get(f"/api/v1/assessments?enterprise={code}", headers=world.bank.headers)
    assert listed.status_code == 404
    # An enterprise cannot assess for another one; an operator can, naming it.
    other = {**body, "enterprise": world.other_enterprise.org.credit_code}
    assert (await client.post("/api/v1/assessments", headers=world.enterprise.headers, json=other)).status_code == 404
    by_operator = {**body, "enterprise": code}
    r = await client.post("/api/v1/assessments", headers=world.operator.headers, json=by_operator)
    assert r.status_code == 201 and r.json()["created_by"] == str(world.operator.org.id)
    assert (await client.post("/api/v1/assessments", headers=world.bank.headers, json=by_operator)).status_code == 403


async def test_bad_requests_name_the_field(client: Any, world: Any, offered: list[dict[str, Any]], db: Any) -> None:
    h = world.enterprise.headers
    n = offered[0]["number"]
    cases = [
        ({"patents": [], "requested_amount": 1}, "patents"),
        ({"patents": [{"number": n}], "requested_amount": 0}, "requested_amount"),
        ({"patents": [{"number": n}], "requested_amount": "5"}, "requested_amount"),
        ({"patents": [{"number": n}, {"number": n}], "requested_amount": 5}, "patents[1].number"),
        ({"patents": [{"number": patent_number()}], "requested_amount": 5}, "patents[0].number"),
        ({"patents": [{"number": "201710601862.4"}], "requested_amount": 5}, "patents[0].number"),
        ({"patents": [{"number": n, "maturity": "x"}], "requested_amount": 5}, "patents[0].maturity"),
        ({"patents": [{"number": n, "declared": {"importance": 6}}], "requested_amount": 5}, "patents[0].declared"),
        ({"patents": [{"number": n}], "requested_amount": 5, "liquidation_haircut": 1.0}, "liquidation_haircut"),
        ({"patents": [{"number": n}], "requested_amount": 5, "as_of": "2999-01-01"}, "as_of"),
        ({"patents": [{"number": n}], "requested_amount": 5, "bogus": 1}, "bogus"),
    ]
    for body, field in cases:
        r = await client.post("/api/v1/assessments", headers=h, json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["errors"][0]["field"].startswith(field), (body, r.json())
    no_enterprise = {"patents": [{"number": n}], "requested_amount": 5}
    r = await client.post("/api/v1/assessments", headers=world.operator.headers, json=no_enterprise)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "enterprise"
    assert await db.fetchval("SELECT count(*) FROM assessments") == 0


async def test_another_owners_patent_cannot_be_offered(client: Any, world: Any, offered: list[dict[str, Any]]) -> None:
    """A patent registered to another enterprise is refused as an unknown number would be: valued, its record
    (title, claims, events) and its owner's facts (sales, chain, 高新) would reach the applicant's report."""
    other = world.other_enterprise
    r = await client.patch(
        f"/api/v1/enterprises/{other.org.credit_code}",
        headers=world.operator.headers,
        json={"revenue": 123_456_789, "chain": "ic", "certifications": ["hnte"]},
    )
    assert r.status_code == 200, r.text
    theirs = patent_row(other.org.credit_code, title="另一家企业的专利")
    r = await client.post("/api/v1/patents/import", headers=other.headers, json=[theirs])
    assert r.status_code == 200, r.text
    unknown = patent_row(other.org.credit_code)["number"]  # never registered
    answers = []
    for number in (theirs["number"], unknown):
        body = {"patents": [{"number": offered[0]["number"]}, {"number": number}], "requested_amount": 500_000}
        r = await client.post("/api/v1/assessments", headers=world.enterprise.headers, json=body)
        assert r.status_code == 422, r.text
        answers.append(r.json()["errors"])
    assert answers[0] == answers[1] and answers[0][0]["field"] == "patents[1].number"
    # An operator assessing for the enterprise is told why.
    body = {"enterprise": world.enterprise.org.credit_code, "patents": [{"number": theirs["number"]}],
            "requested_amount": 500_000}  # fmt: skip
    r = await client.post("/api/v1/assessments", headers=world.operator.headers, json=body)
    assert r.status_code == 422 and "another owner" in r.json()["errors"][0]["message"], r.text


@pytest.mark.parametrize(
    ("entries", "flags"),
    [
        ([], []),
        ([("withdrawn", "voluntary")], ["withdrawn_from_pool"]),
        ([("withdrawn", "data_fraud")], ["withdrawn_from_pool", "violation_report"]),
        ([("withdrawn", "data_fraud"), ("applied", None)], []),  # applied again since: its latest entry counts
        ([("admitted", None)], []),
    ],
)
async def test_pool_withdrawal_is_a_risk_flag(
    client: Any, world: Any, offered: list[dict[str, Any]], db: Any, entries: list[Any], flags: list[str]
) -> None:
    """VALUATION.md §3: "enterprise withdrawn from the pool or under a violation report" (matching's pool state)."""
    for i, (state, reason) in enumerate(entries):
        await db.execute(
            "INSERT INTO pool_entries (enterprise_id, province_code, state, policy_version, reason_code, created_at)"
            " VALUES ($1, '44', $2, '2024.1', $3, now() - make_interval(days => $4))",
            world.enterprise.org.id,
            state,
            reason,
            10 - i,
        )
    body = {"patents": [{"number": offered[0]["number"]}], "requested_amount": 500_000}
    r = await client.post("/api/v1/assessments", headers=world.enterprise.headers, json=body)
    assert r.status_code == 201, r.text
    codes = [f["code"] for f in r.json()["flags"]]
    assert [c for c in codes if c in ("withdrawn_from_pool", "violation_report")] == flags, codes


async def test_a_valuation_date_before_an_offered_patents_filing_is_refused(
    client: Any, world: Any, offered: list[dict[str, Any]]
) -> None:
    """The §2 formulas need the patent to exist on the valuation date (age ≥ 0, term ≤ the statutory one)."""
    body = {"patents": [{"number": offered[0]["number"]}], "requested_amount": 500_000, "as_of": "2010-01-01"}
    r = await client.post("/api/v1/assessments", headers=world.enterprise.headers, json=body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "as_of", r.text
    assert offered[0]["number"] in r.json()["errors"][0]["message"]


async def test_the_portfolio_is_the_one_on_the_valuation_date(client: Any, world: Any) -> None:
    """A patent filed after the valuation date is not in the portfolio valued with the offered one (it did not
    exist): the offered patent's report is the same as if the later one had never been registered."""
    owner = world.enterprise.org.credit_code
    early = patent_row(owner, filing_date="2016-03-01", grant_date="2018-06-01")
    await seed(client, world, [early])
    body = {"patents": [{"number": early["number"]}], "requested_amount": 500_000, "as_of": "2019-01-01"}
    before = (await client.post("/api/v1/assessments", headers=world.enterprise.headers, json=body)).json()
    late = patent_row(owner, filing_date="2021-03-01", grant_date="2022-06-01", forward_citations=0)
    r = await client.post("/api/v1/patents/import", headers=world.enterprise.headers, json=[late])
    assert r.status_code == 200, r.text
    r = await client.post("/api/v1/assessments", headers=world.enterprise.headers, json=body)
    assert r.status_code == 201, r.text
    after = r.json()
    assert after["patents"][0]["value"] == before["patents"][0]["value"]
    assert after["patents"][0]["methods"] == before["patents"][0]["methods"]
