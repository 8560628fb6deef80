"""Stateless calculators over HTTP and on the command line; coefficient sets; market transactions."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import msgspec
import pytest

from tests.valuation.test_api_assessments import patent_row, seed
from valuation.coefficients import default_coefficients

SPEC_EXAMPLE = {"method": "royalty_relief", "discount_rate": 0.10, "tax_rate": 0.25, "years": 5, "revenue": 1000,
                "royalty_rate": 0.03}  # fmt: skip


async def test_income_calculator_contract(client: Any, world: Any) -> None:
    for actor in (world.operator, world.enterprise, world.bank, world.fund):
        r = await client.post("/api/v1/valuation/methods/income", headers=actor.headers, json=SPEC_EXAMPLE)
        assert r.status_code == 200, r.text
        body = r.json()
        assert round(body["value"], 2) == 85.29 and body["basis"] == "after_tax" and body["periods"] == 5
        assert body["cash_flows"] == pytest.approx([22.5] * 5) and len(body["discount_factors"]) == 5
    en = await client.post(
        "/api/v1/valuation/methods/income", headers={**world.bank.headers, "Accept-Language": "en"}, json=SPEC_EXAMPLE
    )
    assert any("exactly" in s for s in en.json()["steps"])
    assert (await client.post("/api/v1/valuation/methods/income", json=SPEC_EXAMPLE)).status_code == 401


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"discount_rate": -0.1}, "discount_rate"),
        ({"discount_rate": "0.1"}, "discount_rate"),
        ({"tax_rate": 1.0}, "tax_rate"),
        ({"revenue": [1000, 1000]}, "years"),
        ({"method": "profit_split", "revenue": None, "royalty_rate": None, "profit": 500, "profit_share": 0.3,
          "equivalent_investment": {"patent_cost": 1, "patent_cost_profit_rate": 0.1, "licensee_assets": 2,
                                    "licensee_cost_profit_rate": 0.1}}, "equivalent_investment"),
        ({"method": "magic"}, "method"),
        ({"excess_profit": 5}, "excess_profit"),
        ({"surprise": 1}, "surprise"),
    ],
)  # fmt: skip
async def test_income_calculator_names_the_bad_field(
    client: Any, world: Any, change: dict[str, Any], field: str
) -> None:
    body = {k: v for k, v in (SPEC_EXAMPLE | change).items() if v is not None}
    r = await client.post("/api/v1/valuation/methods/income", headers=world.enterprise.headers, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field


async def test_cost_calculator(client: Any, world: Any) -> None:
    body = {"rd_cost": 800000, "cost_index": 1.1, "fees": 20000, "age_years": 4, "remaining_economic_life_years": 8}
    r = await client.post("/api/v1/valuation/methods/cost", headers=world.bank.headers, json=body)
    assert r.status_code == 200 and r.json()["value"] == pytest.approx(900000 * 8 / 12)
    bad = await client.post("/api/v1/valuation/methods/cost", headers=world.bank.headers, json=body | {"cost_index": 0})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cost_index"


def _cli(args: list[str], stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "IPLEDGE_LOG_LEVEL": "ERROR"}
    return subprocess.run(
        [sys.executable, "-m", "ipledge.cli", "valuation", *args], input=stdin, capture_output=True, env=env, timeout=60
    )


def test_cli_calculators() -> None:
    ok = _cli(["income"], msgspec.json.encode(SPEC_EXAMPLE))
    assert ok.returncode == 0, ok.stderr
    assert round(msgspec.json.decode(ok.stdout)["value"], 2) == 85.29
    bad = _cli(["income", "--lang", "en"], msgspec.json.encode(SPEC_EXAMPLE | {"discount_rate": 0}))
    assert bad.returncode != 0 and b"discount_rate" in bad.stderr and not bad.stdout
    wrong_type = _cli(["income"], msgspec.json.encode(SPEC_EXAMPLE | {"years": "5"}))
    assert wrong_type.returncode != 0 and b"years" in wrong_type.stderr
    cost = _cli(["cost"], b'{"rd_cost": 100, "age_years": 1, "remaining_economic_life_years": 1}')
    assert cost.returncode == 0 and msgspec.json.decode(cost.stdout)["value"] == 50
    cost_bad = _cli(["cost"], b'{"rd_cost": -1, "age_years": 1, "remaining_economic_life_years": 1}')
    assert cost_bad.returncode != 0 and b"rd_cost" in cost_bad.stderr


async def test_coefficient_sets_create_validate_activate(client: Any, world: Any, db: Any) -> None:
    listed = (await client.get("/api/v1/valuation/coefficient-sets", headers=world.bank.headers)).json()
    assert [(s["version"], s["active"]) for s in listed] == [("2024.1", True)]
    doc = msgspec.to_builtins(default_coefficients())
    doc["version"] = "2025.1"
    doc["pledge"]["rates"]["invention"]["A"] = 0.4
    bad = {**doc, "scenario_weights": {**doc["scenario_weights"], "pledge": {"L": 0.5, "T": 0.3, "E": 0.3}}}
    ops = world.operator.headers
    r = await client.post("/api/v1/valuation/coefficient-sets", headers=ops, json={"document": bad})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "document.scenario_weights.pledge"
    r = await client.post("/api/v1/valuation/coefficient-sets", headers=ops, json={"document": {**doc, "x": 1}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "document.x"
    forbidden = await client.post(
        "/api/v1/valuation/coefficient-sets", headers=world.bank.headers, json={"document": doc}
    )
    assert forbidden.status_code == 403
    r = await client.post(
        "/api/v1/valuation/coefficient-sets", headers=ops, json={"document": doc, "note": "2025 rates"}
    )
    assert r.status_code == 201 and r.json()["active"] is False and r.json()["document"]["version"] == "2025.1"
    dup = await client.post("/api/v1/valuation/coefficient-sets", headers=ops, json={"document": doc})
    assert dup.status_code == 409
    act = await client.post("/api/v1/valuation/coefficient-sets/2025.1/activate", headers=ops)
    assert act.status_code == 200 and act.json()["active"] is True
    listed = (await client.get("/api/v1/valuation/coefficient-sets", headers=ops)).json()
    assert {s["version"]: s["active"] for s in listed} == {"2024.1": False, "2025.1": True}
    missing = await client.post("/api/v1/valuation/coefficient-sets/9.9/activate", headers=ops)
    assert missing.status_code == 404
    # New assessments record the active version.
    owner = world.enterprise.org.credit_code
    row = patent_row(owner)
    await seed(client, world, [row])
    body = {"patents": [{"number": row["number"]}], "requested_amount": 100000}
    report = (await client.post("/api/v1/assessments", headers=world.enterprise.headers, json=body)).json()
    assert report["coefficient_version"] == "2025.1"
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action LIKE 'coefficients.%'") == 2


async def test_transactions_feed_the_market_approach(client: Any, world: Any) -> None:
    owner = world.enterprise.org.credit_code
    rows = [patent_row(owner) for _ in range(3)]
    await seed(client, world, rows)
    ops = world.operator.headers
    one = {"kind": "pledge", "chain": "ic", "date": "2024-03-15", "price": 3.2e6, "revenue": 4.5e7,
           "patent_number": rows[0]["number"]}  # fmt: skip
    r = await client.post("/api/v1/valuation/transactions", headers=ops, json=one)
    assert r.status_code == 201, r.text
    assert len(r.json()["indicator_scores"]) == 27
    scores = [60.0] * 27
    good = [
        {"kind": "licence", "chain": "ic", "date": f"2024-0{m}-01", "price": 1e6 * m, "revenue": 2e7,
         "indicator_scores": scores}
        for m in range(1, 6)
    ]  # fmt: skip
    bad = [
        {**good[0], "price": -1},
        {**good[0], "chain": "mars"},
        {k: v for k, v in good[0].items() if k != "indicator_scores"},
        {**good[0], "indicator_scores": [1.0] * 5},
        {**good[0], "patent_number": "201710601862.3", "indicator_scores": None},
        "nope",
    ]
    r = await client.post("/api/v1/valuation/transactions/import", headers=ops, json=[*good, *bad])
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["received"] == 11 and result["imported"] == 5
    assert [(e["row"], e["errors"][0]["field"]) for e in result["rejected"]] == [
        (6, "price"), (7, "chain"), (8, "indicator_scores"), (9, "indicator_scores"), (10, "patent_number"),
        (11, "body"),
    ]  # fmt: skip
    page = (await client.get("/api/v1/valuation/transactions?limit=4&chain=ic", headers=ops)).json()
    assert len(page["items"]) == 4 and page["next_cursor"]
    rest = await client.get(f"/api/v1/valuation/transactions?limit=4&cursor={page['next_cursor']}", headers=ops)
    assert len(rest.json()["items"]) == 2 and rest.json()["next_cursor"] is None
    assert (await client.get("/api/v1/valuation/transactions", headers=world.bank.headers)).status_code == 403
    body = {"patents": [{"number": rows[1]["number"]}], "requested_amount": 100000, "as_of": "2024-06-01"}
    report = (await client.post("/api/v1/assessments", headers=world.enterprise.headers, json=body)).json()
    market = report["patents"][0]["methods"]["market"]
    assert market["applicable"] is True and len(market["comparables"]) == 5
    assert report["patents"][0]["value"]["weights"]["market"] > 0


async def test_openapi_lists_the_valuation_operations_with_examples(client: Any) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    ops = {op["operationId"]: op for path in schema["paths"].values() for op in path.values() if "operationId" in op}
    for name in ("createAssessment", "getAssessment", "getAssessmentHtml", "listAssessments", "incomeMethod",
                 "costMethod", "listCoefficientSets", "createCoefficientSet", "activateCoefficientSet",
                 "createTransaction", "importTransactions", "listTransactions"):  # fmt: skip
        assert name in ops, name
    for name in ("createAssessment", "incomeMethod", "costMethod", "createTransaction"):
        content = ops[name]["requestBody"]["content"]["application/json"]
        assert content.get("examples") or content["schema"].get("examples"), name


async def test_hostile_path_and_query_values_are_4xx(client: Any, world: Any) -> None:
    h = world.operator.headers
    for url in ("/api/v1/valuation/coefficient-sets/a%00b", "/api/v1/assessments?enterprise=%00%00",
                "/api/v1/valuation/coefficient-sets/x%20y/activate"):  # fmt: skip
        r = await (client.post(url, headers=h) if url.endswith("activate") else client.get(url, headers=h))
        assert 400 <= r.status_code < 500, (url, r.status_code)


async def test_transaction_dates_and_rows_the_database_cannot_hold(client: Any, world: Any) -> None:
    """A transaction before its patent was filed, or before the Patent Law (1985-04-01), is refused naming ``date``;
    an import row holding a NUL is listed with its field while the good rows land."""
    owner = world.enterprise.org.credit_code
    row = patent_row(owner)  # filed 2018-03-01
    await seed(client, world, [row])
    ops = world.operator.headers
    one = {"kind": "pledge", "chain": "ic", "date": "2017-12-31", "price": 3.2e6, "revenue": 4.5e7,
           "patent_number": row["number"]}  # fmt: skip
    r = await client.post("/api/v1/valuation/transactions", headers=ops, json=one)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "date", r.text
    scores = [60.0] * 27
    old = {
        "kind": "licence",
        "chain": "ic",
        "date": "1985-03-31",
        "price": 1e6,
        "revenue": 2e7,
        "indicator_scores": scores,
    }
    r = await client.post("/api/v1/valuation/transactions", headers=ops, json=old)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "date", r.text
    good = {**old, "date": "2024-01-01"}
    r = await client.post(
        "/api/v1/valuation/transactions/import", headers=ops, json=[good, {**good, "note": "x\u0000y"}, good]
    )
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["imported"] == 2 and [(e["row"], e["errors"][0]["field"]) for e in result["rejected"]] == [
        (2, "note")
    ]


async def test_bodies_nested_thousands_deep_are_a_422(client: Any, world: Any) -> None:
    ops = {**world.operator.headers, "Content-Type": "application/json"}
    deep = b"[" * 5000 + b"]" * 5000
    deep_nul = b'{"kind": "pledge", "note": ' + b"[" * 3000 + b'"\\u0000"' + b"]" * 3000 + b"}"
    for url, body in (
        ("/api/v1/valuation/transactions/import", deep),
        ("/api/v1/valuation/transactions", deep_nul),
        ("/api/v1/valuation/coefficient-sets", b'{"document": ' + b"[" * 3000 + b'"\\u0000"' + b"]" * 3000 + b"}"),
        ("/api/v1/valuation/methods/income", deep),
    ):
        r = await client.post(url, headers=ops, content=body)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body", (url, r.text)


def test_cli_refuses_an_unknown_chain_and_a_closed_stdin() -> None:
    bad = subprocess.run(
        [sys.executable, "-m", "ipledge.cli", "valuation", "batch", "--chain", "bogus"],
        capture_output=True,
        env={**os.environ, "DATABASE_URL": "postgresql://nobody@/nowhere"},
        timeout=60,
    )
    assert bad.returncode == 2 and b"--chain" in bad.stderr and b"bogus" in bad.stderr
    closed = subprocess.run(
        [sys.executable, "-m", "ipledge.cli", "valuation", "income"], stdin=None, capture_output=True, timeout=60,
        preexec_fn=lambda: os.close(0),
    )  # fmt: skip
    assert closed.returncode == 2 and b"standard input" in closed.stderr and b"Traceback" not in closed.stderr
