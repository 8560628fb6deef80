"""The pool over HTTP: criteria, application, review, admission with overrides, graduation, withdrawal."""

from __future__ import annotations

from typing import Any

from tests.matching.helpers import eligible_enterprise, register_criteria, set_profile


async def _admit(client: Any, op: dict[str, str], code: str, **body: Any) -> Any:
    r = await client.post(f"/api/v1/pool/entries/{code}/review", headers=op, json={})
    assert r.status_code == 200, r.text
    return await client.post(f"/api/v1/pool/entries/{code}/admit", headers=op, json=body)


async def test_enterprise_sees_criteria_applies_and_is_admitted_with_audit_and_events(
    client: Any, db: Any, world: Any
) -> None:
    ent = await eligible_enterprise(db)
    code = ent.org.credit_code
    r = await client.get(f"/api/v1/pool/eligibility/{code}", headers=ent.headers)
    body = r.json()
    assert r.status_code == 200 and body["outcome"] == "eligible" and len(body["criteria"]) == 10
    assert all(c["verdict"] == "pass" and c["reason"] for c in body["criteria"])
    en = await client.get(f"/api/v1/pool/eligibility/{code}", headers={**ent.headers, "Accept-Language": "en"})
    assert "registered in" in en.json()["criteria"][0]["reason"]
    # another enterprise's criteria are not visible
    r = await client.get(f"/api/v1/pool/eligibility/{code}", headers=world.other_enterprise.headers)
    assert r.status_code == 404

    r = await client.post("/api/v1/pool/applications", headers=ent.headers, json={})
    assert r.status_code == 201 and r.json()["state"] == "applied", r.text
    r = await client.post("/api/v1/pool/applications", headers=ent.headers, json={})
    assert r.status_code == 409

    await register_criteria(db, world.bank.org.id, provinces=["44"])  # serves Guangdong: gets the event
    await register_criteria(db, world.fund.org.id, kind="vc_pe", provinces=["33"])  # does not
    r = await _admit(client, world.operator.headers, code, note="材料齐全")
    assert r.status_code == 200 and r.json()["state"] == "admitted" and r.json()["admission_kind"] == "initial", r.text

    transitions = await db.fetch(
        "SELECT from_state, to_state, actor_org, jsonb_array_length(criteria) AS n FROM pool_transitions"
        " WHERE enterprise_id = $1 ORDER BY id",
        ent.org.id,
    )
    assert [(t["from_state"], t["to_state"]) for t in transitions] == [
        (None, "applied"),
        ("applied", "under_review"),
        ("under_review", "admitted"),
    ]
    assert transitions[2]["actor_org"] == world.operator.org.id and transitions[2]["n"] == 10
    events = await db.fetch("SELECT organisation_id, event_type, payload FROM outbox_events")
    assert [(e["organisation_id"], e["event_type"]) for e in events] == [
        (world.bank.org.id, "pool.enterprise.admitted")
    ]
    assert events[0]["payload"]["credit_code"] == code and events[0]["payload"]["link"].endswith(code)
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'pool.admitted'") == 1
    quotas = {
        q["province"]: q for q in (await client.get("/api/v1/pool/quotas", headers=world.operator.headers)).json()
    }
    assert quotas["44"]["cap"] == 500 and quotas["44"]["initial_admissions"] == 1 and quotas["44"]["members"] == 1
    assert quotas["11"]["cap"] == 300


async def test_failed_criteria_need_written_overrides(client: Any, db: Any, world: Any) -> None:
    ent = await eligible_enterprise(db, has_ip_management=None, has_trademark=False)
    code = ent.org.credit_code
    op = world.operator.headers
    assert (await client.post("/api/v1/pool/applications", headers=op, json={"credit_code": code})).status_code == 201
    r = await _admit(client, op, code)
    assert r.status_code == 409 and "trademark" in r.json()["detail"] and "ip_management" in r.json()["detail"]
    r = await client.post(
        f"/api/v1/pool/entries/{code}/admit",
        headers=op,
        json={"overrides": [{"code": "trademark", "justification": "短"}]},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"].startswith("overrides")
    overrides = [
        {"code": "trademark", "justification": "商标注册申请已受理，受理号 2024-001，视同满足"},
        {"code": "ip_management", "justification": "已通过贯标认证现场审核，证书待发"},
    ]
    r = await client.post(f"/api/v1/pool/entries/{code}/admit", headers=op, json={"overrides": overrides})
    assert r.status_code == 200, r.text
    crit = {c["code"]: c for c in r.json()["criteria"]}
    assert crit["trademark"]["verdict"] == "fail" and crit["trademark"]["override_justification"].startswith("商标")
    stored = await db.fetchval(
        "SELECT overrides FROM pool_transitions WHERE enterprise_id = $1 AND to_state = 'admitted'", ent.org.id
    )
    assert [o["code"] for o in stored] == ["trademark", "ip_management"]


async def test_graduation_needs_a_qualifying_report_and_frees_supplement_seats(
    client: Any, db: Any, world: Any
) -> None:
    ent = await eligible_enterprise(db, province="11")
    code, op = ent.org.credit_code, world.operator.headers
    await client.post("/api/v1/pool/applications", headers=ent.headers, json={})
    assert (await _admit(client, op, code)).status_code == 200
    r = await client.post(f"/api/v1/pool/entries/{code}/graduate", headers=op, json={})
    assert r.status_code == 409
    today = (await db.fetchval("SELECT current_date")).isoformat()
    weak = {"reported_on": today, "industrialisation_rate": 0.62}
    r = await client.post(f"/api/v1/pool/entries/{code}/progress-reports", headers=ent.headers, json=weak)
    assert r.status_code == 201 and r.json()["qualifies"] is False, r.text
    assert (await client.get("/api/v1/pool/candidates/graduation", headers=op)).json() == []
    strong = {"reported_on": today, "industrialisation_rate": 0.75, "new_patent_intensive_products": 1}
    r = await client.post(f"/api/v1/pool/entries/{code}/progress-reports", headers=ent.headers, json=strong)
    assert r.json()["qualifies"] is True and set(r.json()["grounds"]) == {"rate_rise", "new_products"}
    candidates = (await client.get("/api/v1/pool/candidates/graduation?province=北京", headers=op)).json()
    assert [c["credit_code"] for c in candidates] == [code] and candidates[0]["reasons"]
    r = await client.post(f"/api/v1/pool/entries/{code}/graduate", headers=op, json={"reason": "成效达标"})
    assert r.status_code == 200 and r.json()["state"] == "graduated" and r.json()["allowed_transitions"] == []
    quotas = {q["province"]: q for q in (await client.get("/api/v1/pool/quotas", headers=op)).json()}
    assert quotas["11"]["graduations"] == 1 and quotas["11"]["supplement_limit"] == 2


async def test_withdrawal_reason_codes(client: Any, db: Any, world: Any) -> None:
    op = world.operator.headers
    ent = await eligible_enterprise(db)
    code = ent.org.credit_code
    await client.post("/api/v1/pool/applications", headers=ent.headers, json={})
    await _admit(client, op, code)
    r = await client.post(
        f"/api/v1/pool/entries/{code}/withdraw", headers=op, json={"reason_code": "no_progress", "reason": "两年无进展"}
    )
    assert r.status_code == 409  # admitted today: not a two-year candidate
    # the two-year list, seen from the future
    late = (await client.get("/api/v1/pool/candidates/withdrawal?today=2099-01-01", headers=op)).json()
    assert [c["credit_code"] for c in late] == [code]
    r = await client.post(
        f"/api/v1/pool/entries/{code}/withdraw", headers=op, json={"reason_code": "nonsense", "reason": "xxxx"}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason_code"
    r = await client.post(
        f"/api/v1/pool/entries/{code}/withdraw",
        headers=op,
        json={"reason_code": "data_fraud", "reason": "统计数据造假，经核实"},
    )
    assert r.status_code == 200 and r.json()["state"] == "withdrawn" and r.json()["reason_code"] == "data_fraud"
    # a new application starts a new record
    r = await client.post("/api/v1/pool/applications", headers=ent.headers, json={})
    assert r.status_code == 201 and r.json()["state"] == "applied"


async def test_consent_and_role_guards(client: Any, db: Any, world: Any) -> None:
    code = world.enterprise.org.credit_code
    r = await client.put(
        f"/api/v1/pool/consent/{code}", headers=world.enterprise.headers, json={"consent_share": False}
    )
    assert r.status_code == 200 and r.json() == {"credit_code": code, "consent_share": False}
    r = await client.put(
        f"/api/v1/pool/consent/{code}", headers=world.other_enterprise.headers, json={"consent_share": True}
    )
    assert r.status_code == 404
    r = await client.put(
        f"/api/v1/pool/consent/{code}", headers=world.enterprise.headers, json={"consent_share": "yes"}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "consent_share"
    for who in (world.bank, world.enterprise):
        r = await client.post(f"/api/v1/pool/entries/{code}/review", headers=who.headers, json={})
        assert r.status_code == 403
    assert (await client.get("/api/v1/pool/quotas", headers=world.bank.headers)).status_code == 403
    await set_profile(db, world.other_enterprise.org.id)
    r = await client.get("/api/v1/pool/entries?state=bogus", headers=world.operator.headers)
    assert r.status_code in (400, 422)
