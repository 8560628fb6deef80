"""Bad input gets a 4xx problem naming the field; nothing is half-written."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
import pytest

from tests.factories import credit_code, patent_number

PROBLEM = "application/problem+json"


def _enterprise(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "测试科技有限公司", "credit_code": credit_code(), "province": "广东"}
    body.update(over)
    return body


async def test_unknown_route_is_problem_404(client: Any) -> None:
    r = await client.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["status"] == 404 and body["title"] == "未找到" and body["instance"] == "/api/v1/nothing-here"
    assert body["request_id"] == r.headers["x-request-id"]


async def test_english_titles_on_request(client: Any) -> None:
    r = await client.get("/api/v1/nothing-here", headers={"Accept-Language": "en-GB"})
    assert r.json()["title"] == "Not found"


async def test_method_not_allowed(client: Any, world: Any) -> None:
    r = await client.delete("/api/v1/chains", headers=world.operator.headers)
    assert r.status_code == 405 and r.headers["content-type"].startswith(PROBLEM)


async def test_body_over_one_mebibyte_is_413(client: Any, world: Any) -> None:
    big = {"name": "x" * (1024 * 1024 + 10)}
    r = await client.post("/api/v1/enterprises", headers=world.operator.headers, json=big)
    assert r.status_code == 413 and r.headers["content-type"].startswith(PROBLEM)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_enterprise(profile={"revenue": "5000000"}), "profile.revenue"),
        (_enterprise(profile={"revenue": -1}), "profile.revenue"),
        (_enterprise(profile={"employees": 1.5}), "profile.employees"),
        (_enterprise(profile={"patent_industrialisation_rate": 1.5}), "profile.patent_industrialisation_rate"),
        (_enterprise(profile={"certifications": ["zjtx", "zjtx"]}), "profile.certifications"),
        (_enterprise(profile={"employees": 10, "rd_staff": 11}), "profile.rd_staff"),
        (_enterprise(profile={"chain": "no_such_chain"}), "profile.chain"),
        (_enterprise(profile={"consent_share": "yes"}), "profile.consent_share"),
        (_enterprise(credit_code="91440300MA5FUTQ91X"), "credit_code"),
        (_enterprise(credit_code="short"), "credit_code"),
        (_enterprise(province="火星"), "province"),
        (_enterprise(unexpected=1), "unexpected"),
        (_enterprise(name=5), "name"),
    ],
)
async def test_bad_enterprise_fields_are_named(client: Any, world: Any, db: Any, body: Any, field: str) -> None:
    before = await db.fetchval("SELECT count(*) FROM organisations")
    r = await client.post("/api/v1/enterprises", headers=world.operator.headers, json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    problem = r.json()
    assert any(e["field"] == field for e in problem["errors"]), problem
    assert await db.fetchval("SELECT count(*) FROM organisations") == before


async def test_nan_and_infinity_are_not_numbers(client: Any, world: Any) -> None:
    for token in (b"NaN", b"Infinity", b"1e999"):
        raw = b'{"name": "Test Co Ltd", "credit_code": "%s", "province": "44", "profile": {"revenue": %s}}' % (
            credit_code().encode(),
            token,
        )
        r = await client.post(
            "/api/v1/enterprises", headers={**world.operator.headers, "content-type": "application/json"}, content=raw
        )
        assert r.status_code in (400, 422), (token, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)


async def test_malformed_json_is_a_4xx_problem(client: Any, world: Any) -> None:
    r = await client.post(
        "/api/v1/enterprises", headers={**world.operator.headers, "content-type": "application/json"}, content=b"{"
    )
    assert r.status_code in (400, 422) and r.headers["content-type"].startswith(PROBLEM)


async def test_duplicate_credit_code_is_409(client: Any, world: Any) -> None:
    body = _enterprise()
    assert (await client.post("/api/v1/enterprises", headers=world.operator.headers, json=body)).status_code == 201
    r = await client.post("/api/v1/enterprises", headers=world.operator.headers, json=body)
    assert r.status_code == 409 and r.headers["content-type"].startswith(PROBLEM)


def _patent(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "number": patent_number(),
        "title": "一种装置",
        "owner_name": "某公司",
        "filing_date": "2019-01-01",
        "legal_status": "pending",
    }
    body.update(over)
    return body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_patent(number="201710601862.4"), "number"),
        (_patent(number="2017106018"), "number"),
        (_patent(filing_date="2999-01-01"), "filing_date"),
        (_patent(filing_date="2019-13-01"), "filing_date"),
        (_patent(grant_date="2018-01-01", legal_status="granted"), "grant_date"),
        (_patent(legal_status="granted"), "grant_date"),
        (_patent(claims_total=2, claims_independent=3), "claims_independent"),
        (_patent(ipc_codes=["not an ipc"]), "ipc_codes[0]"),
        (_patent(ipc_codes=["H01L"] * 101), "ipc_codes"),
        (_patent(forward_citations=-1), "forward_citations"),
        (_patent(family_offices=["US", "US"]), "family_offices"),
        (_patent(owner_name=None), "owner"),
        (_patent(owner="91440300MA5FUTQ91X"), "owner"),
        (_patent(events=[{"kind": "pledge", "date": "2999-01-01"}]), "events[0].date"),
        (_patent(events=[{"kind": "bribe", "date": "2020-01-01"}]), "events[0].kind"),
    ],
)
async def test_bad_patent_fields_are_named(client: Any, world: Any, db: Any, body: Any, field: str) -> None:
    body = {k: v for k, v in body.items() if v is not None}
    r = await client.post("/api/v1/patents", headers=world.operator.headers, json=body)
    assert r.status_code == 422, r.text
    assert any(e["field"] == field for e in r.json()["errors"]), r.json()
    assert await db.fetchval("SELECT count(*) FROM patents") == 0


async def test_bad_query_parameters(client: Any, world: Any) -> None:
    h = world.operator.headers
    r = await client.get("/api/v1/patents?limit=0", headers=h)
    assert r.status_code == 400 and r.headers["content-type"].startswith(PROBLEM)
    assert any(e["field"] == "limit" for e in r.json()["errors"])
    r = await client.get("/api/v1/patents?cursor=%%%garbage", headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor"
    r = await client.get("/api/v1/organisations?province=Atlantis", headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "province"


async def test_nul_characters_in_parameters_are_refused(client: Any, world: Any) -> None:
    h = world.operator.headers
    r = await client.get("/api/v1/patents", params={"owner": "a\x00b"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "owner"
    r = await client.get("/api/v1/enterprises/abc%00def", headers=h)
    assert r.status_code in (404, 422)


async def test_nul_characters_in_json_bodies_are_refused(client: Any, world: Any, db: Any) -> None:
    body = _enterprise(name="测试\u0000科技有限公司")
    r = await client.post("/api/v1/enterprises", headers=world.operator.headers, json=body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name"
    body = _enterprise(profile={"business_scope": "芯片\u0000"})
    r = await client.post("/api/v1/enterprises", headers=world.operator.headers, json=body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "profile.business_scope"
    assert await db.fetchval("SELECT count(*) FROM organisations WHERE kind = 'enterprise'") == 2


async def test_crafted_cursors_are_a_422_on_every_listing(client: Any, world: Any) -> None:
    """A cursor that decodes but holds the wrong things (a non-date, a number for an id, a list for text) is a
    422 naming ``cursor`` on every GET that takes one, for every role; never a 500."""
    import base64
    import json
    import re

    schema = (await client.get("/schema/openapi.json")).json()
    listings = [
        path
        for path, item in schema["paths"].items()
        if "get" in item and any(p["name"] == "cursor" for p in item["get"].get("parameters", []))
    ]
    assert len(listings) >= 15, listings
    nil = "00000000-0000-0000-0000-000000000000"
    crafted = [["not-a-date", "x"], [1, 2], ["2024-01-01T00:00:00+00:00", 7], [[1]], [True], [3.5], [None, None],
               ["9999-12-31T23:59:59-23:00", nil], ["\u0000"], [2**63, nil], [-1, nil],
               ["0001-01-01T00:00:00", "\u0000"]]  # fmt: skip
    cursors = [base64.urlsafe_b64encode(json.dumps(c).encode()).decode().rstrip("=") for c in crafted]
    refused: dict[str, set[str]] = {}
    for path in listings:
        url = re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", path)
        for actor in world.all().values():
            for cursor in cursors:
                r = await client.get(url, params={"cursor": cursor}, headers=actor.headers)
                assert r.status_code < 500, (path, cursor, r.text)
                if r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor":
                    refused.setdefault(path, set()).add(cursor)
    # A push list's rows are paged only once the bank has a list (404 before the cursor is read).
    assert set(listings) - set(refused) <= {"/api/v1/push-lists/current", "/api/v1/push-lists/{list_id}"}
    assert all(len(refused[path]) == len(cursors) for path in refused), refused  # each cursor, by some role


class _Inner(msgspec.Struct, forbid_unknown_fields=True):
    x: int


class _Outer(msgspec.Struct, forbid_unknown_fields=True):
    method: str
    inner: _Inner | None = None
    declared: dict[Literal["importance", "effect"], int] = {}


def test_missing_fields_and_bad_keys_are_named() -> None:
    """msgspec's "missing required field" and a dict key of the wrong kind name the field, not the whole body."""
    from ipledge.errors import msgspec_field_error

    def error(body: bytes, kind: Any = _Outer) -> tuple[str, str]:
        with pytest.raises(msgspec.ValidationError) as caught:
            msgspec.json.decode(body, type=kind, strict=True)
        found = msgspec_field_error(caught.value)
        return found.field, found.message

    assert error(b"{}") == ("method", "缺少必填字段 / required field missing")
    assert error(b'{"method": "a", "inner": {}}')[0] == "inner.x"
    assert error(b"[{}]", list[_Outer])[0] == "[0].method"
    field, message = error(b'{"method": "a", "declared": {"bogus": 3}}')
    assert field == "declared" and "bogus" in message
    assert error(b'{"method": 1}')[0] == "method"


async def test_an_assessment_without_its_amount_names_it(client: Any, world: Any) -> None:
    r = await client.post(
        "/api/v1/assessments", headers=world.enterprise.headers, json={"patents": [{"number": "201810000007.1"}]}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "requested_amount", r.text


async def test_a_patent_import_nested_thousands_deep_is_a_422(client: Any, world: Any) -> None:
    headers = {**world.enterprise.headers, "Content-Type": "application/json"}
    for body in (b"[" * 5000 + b"]" * 5000, b'{"a":' * 5000 + b"1" + b"}" * 5000):
        r = await client.post("/api/v1/patents/import", headers=headers, content=body)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body", r.text


async def test_amounts_below_one_fen_name_their_field(client: Any, world: Any) -> None:
    """A positive amount that rounds to 0.00 in the database is refused naming the field, not the constraint."""
    ops = world.operator.headers
    row = {"kind": "licence", "chain": "ic", "date": "2024-03-15", "price": 0.004, "revenue": 4.5e7,
           "indicator_scores": [60.0] * 27}  # fmt: skip
    r = await client.post("/api/v1/valuation/transactions", headers=ops, json=row)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "price", r.text
    r = await client.post("/api/v1/valuation/transactions", headers=ops, json={**row, "price": 1e6, "revenue": 0.001})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "revenue", r.text
    r = await client.post(
        "/api/v1/assessments",
        headers=world.enterprise.headers,
        json={"patents": [{"number": "201810000007.1"}], "requested_amount": 0.004},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "requested_amount", r.text
    assert (
        await client.post("/api/v1/valuation/transactions", headers=ops, json={**row, "price": 0.01})
    ).status_code == 201


async def test_the_openapi_document_describes_error_responses_as_sent(client: Any, world: Any) -> None:
    """Every documented 4xx/5xx is application/problem+json with the Problem schema, and a real one validates."""
    import jsonschema_rs  # schemathesis's validator

    doc = (await client.get("/schema/openapi.json")).json()
    documented = [
        (path, method, code, response)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "responses" in op
        for code, response in op["responses"].items()
        if code[:1] in "45"
    ]
    assert len(documented) > 50
    wrong = [(p, m, c) for p, m, c, r in documented if set(r.get("content", {})) != {"application/problem+json"}]
    assert wrong == []
    export = doc["paths"]["/api/v1/push-lists/{list_id}/{fmt}"]["get"]["responses"]["200"]["content"]
    assert set(export) == {"text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    schemas = doc["components"]["schemas"]
    r = await client.post("/api/v1/assessments", headers=world.enterprise.headers, json={"patents": []})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    problem = {"components": {"schemas": schemas}, **schemas["Problem"]}
    assert jsonschema_rs.is_valid(problem, r.json()), r.json()
    assert not jsonschema_rs.is_valid(problem, {"status_code": 422, "detail": "x"})  # Litestar's own shape is not it
