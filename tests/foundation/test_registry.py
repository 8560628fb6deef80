"""Enterprises with history, patents imported in bulk, listing with pagination and filters."""

from __future__ import annotations

from typing import Any

from tests.factories import patent_number


def _row(owner: str, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "number": patent_number(),
        "title": "一种芯片封装结构",
        "owner": owner,
        "filing_date": "2019-03-01",
        "legal_status": "pending",
        "ipc_codes": ["H01L 23/31"],
    }
    row.update(over)
    return row


async def test_profile_updates_keep_history(client: Any, world: Any) -> None:
    code = world.enterprise.org.credit_code
    h = world.enterprise.headers
    r = await client.patch(f"/api/v1/enterprises/{code}", headers=h, json={"revenue": 1.2e7, "employees": 80})
    assert r.status_code == 200 and r.json()["revenue"] == 1.2e7
    r = await client.patch(f"/api/v1/enterprises/{code}", headers=h, json={"rd_staff": 20, "chain": "ai"})
    body = r.json()
    assert body["rd_staff"] == 20 and body["revenue"] == 1.2e7 and body["chain"] == "ai"
    history = (await client.get(f"/api/v1/enterprises/{code}/history", headers=h)).json()
    assert [v["version"] for v in history] == [body["version"], body["version"] - 1, body["version"] - 2]
    assert history[1]["profile"]["revenue"] == 1.2e7 and history[1]["profile"]["rd_staff"] is None
    r = await client.patch(f"/api/v1/enterprises/{code}", headers=h, json={"rd_staff": 81})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "rd_staff"


async def test_json_import_lands_good_rows_and_lists_bad_ones(client: Any, world: Any, db: Any) -> None:
    owner = world.enterprise.org.credit_code
    good = [_row(owner), _row(owner, events=[{"kind": "licence", "date": "2021-05-01"}])]
    bad = [
        _row(owner, number="201710601862.4"),
        _row(owner, filing_date="2999-01-01"),
        _row(world.other_enterprise.org.credit_code),  # not the uploader's
        dict(good[0]),  # duplicate inside the upload
        "not an object",
        _row(owner, title="带\u0000的标题"),
    ]
    rows = [good[0], bad[0], good[1], bad[1], bad[2], bad[3], bad[4], bad[5]]
    r = await client.post("/api/v1/patents/import", headers=world.enterprise.headers, json=rows)
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["received"] == 8 and result["imported"] == 2
    assert [(e["row"], e["errors"][0]["field"]) for e in result["rejected"]] == [
        (2, "number"),
        (4, "filing_date"),
        (5, "owner"),
        (6, "number"),
        (7, "body"),
        (8, "title"),
    ]
    assert await db.fetchval("SELECT count(*) FROM patents") == 2
    assert await db.fetchval("SELECT count(*) FROM patent_events") == 1
    # Importing the same rows again: every row already exists, nothing changes.
    again = (await client.post("/api/v1/patents/import", headers=world.enterprise.headers, json=good)).json()
    assert again["imported"] == 0 and {e["errors"][0]["field"] for e in again["rejected"]} == {"number"}
    upsert = await client.post(
        "/api/v1/patents/import?mode=upsert",
        headers=world.enterprise.headers,
        json=[{**good[0], "title": "改名后的标题", "events": []}],
    )
    assert upsert.json()["imported"] == 1
    assert await db.fetchval("SELECT title FROM patents WHERE number = $1", good[0]["number"]) == "改名后的标题"


async def test_csv_import(client: Any, world: Any, db: Any) -> None:
    owner = world.enterprise.org.credit_code
    n1, n2 = patent_number(kind=2), patent_number()
    csv_text = (
        "number,title,owner,filing_date,grant_date,legal_status,claims_total,claims_independent,ipc_codes,fees_paid\n"
        f"{n1},一种电池包壳体,{owner},2020-05-06,2020-11-01,granted,8,1,H01M 50/20;B60L 50/64,是\n"
        f"{n2},一种方法,{owner},2020-05-06,,granted,x,1,,true\n"
    )
    r = await client.post(
        "/api/v1/patents/import",
        headers={**world.enterprise.headers, "content-type": "text/csv"},
        content=csv_text.encode(),
    )
    result = r.json()
    assert result["imported"] == 1, result
    assert {e["errors"][0]["field"] for e in result["rejected"]} <= {"claims_total", "grant_date"}
    row = await db.fetchrow(
        "SELECT patent_type, expiry_date, ipc_codes, chain_codes FROM patents WHERE number = $1", n1
    )
    assert row["patent_type"] == "utility_model" and str(row["expiry_date"]) == "2030-05-06"
    assert row["ipc_codes"] == ["H01M 50/20", "B60L 50/64"] and "nev" in row["chain_codes"]
    r = await client.post(
        "/api/v1/patents/import",
        headers={**world.enterprise.headers, "content-type": "text/csv"},
        content=b"number,colour\n1,red\n",
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "header"


async def test_listing_paginates_and_filters(client: Any, world: Any) -> None:
    owner = world.enterprise.org.credit_code
    rows = [_row(owner, filing_date=f"20{10 + i}-01-01") for i in range(7)]
    rows.append(_row(owner, ipc_codes=["G06N 3/08"], title="一种模型训练方法"))
    r = await client.post("/api/v1/patents/import", headers=world.operator.headers, json=rows)
    assert r.json()["imported"] == 8
    seen: list[str] = []
    url = "/api/v1/patents?limit=3"
    while url:
        page = (await client.get(url, headers=world.operator.headers)).json()
        assert len(page["items"]) <= 3
        seen += [p["number"] for p in page["items"]]
        url = f"/api/v1/patents?limit=3&cursor={page['next_cursor']}" if page["next_cursor"] else ""
    assert seen == sorted(r["number"] for r in rows)
    tagged = (await client.get(f"/api/v1/enterprises/{owner}", headers=world.operator.headers)).json()
    assert tagged["patent_chains"] == ["ai", "ic"]
    h = world.operator.headers
    assert [p["title"] for p in (await client.get("/api/v1/patents?chain=ai", headers=h)).json()["items"]] == [
        "一种模型训练方法"
    ]
    assert len((await client.get("/api/v1/patents?ipc=H01L23", headers=h)).json()["items"]) == 7
    assert (
        len((await client.get("/api/v1/patents?filed_from=2014-01-01&filed_to=2016-12-31", headers=h)).json()["items"])
        == 3
    )
    assert len((await client.get("/api/v1/patents?q=训练", headers=h)).json()["items"]) == 1


async def test_legal_events_and_patent_detail(client: Any, world: Any) -> None:
    owner = world.enterprise.org.credit_code
    row = _row(owner, legal_status="granted", grant_date="2021-02-02")
    assert (await client.post("/api/v1/patents", headers=world.enterprise.headers, json=row)).status_code == 201
    r = await client.post(
        f"/api/v1/patents/{row['number']}/events",
        headers=world.enterprise.headers,
        json={"kind": "pledge", "date": "2022-03-04", "detail": {"bank": "某银行"}},
    )
    assert r.status_code == 201
    detail = (await client.get(f"/api/v1/patents/{row['number']}", headers=world.operator.headers)).json()
    assert [(e["kind"], e["date"]) for e in detail["events"]] == [("pledge", "2022-03-04")]
    assert detail["owner"] == owner and detail["expiry_date"] == "2039-03-01"


async def test_chain_catalogue_is_editable_data(client: Any, world: Any) -> None:
    chains = (await client.get("/api/v1/chains", headers=world.fund.headers)).json()
    assert len(chains) == 12 and chains[0]["code"] == "ic"
    body = {
        "name_zh": "低空经济",
        "name_en": "Low-altitude economy",
        "ipc_prefixes": ["B64C", "B64U"],
        "keywords": ["无人机"],
    }
    r = await client.put("/api/v1/chains/low_altitude", headers=world.operator.headers, json=body)
    assert r.status_code == 200 and r.json()["ipc_prefixes"] == ["B64C", "B64U"]
    assert (await client.put("/api/v1/chains/low_altitude", headers=world.bank.headers, json=body)).status_code == 403
    assert len((await client.get("/api/v1/provinces", headers=world.fund.headers)).json()) == 31


async def test_organisation_review_flow(client: Any, world: Any) -> None:
    h = world.operator.headers
    pending = (await client.get("/api/v1/organisations?status=pending", headers=h)).json()["items"]
    assert [o["id"] for o in pending] == [str(world.pending_bank.org.id)]
    r = await client.post(f"/api/v1/organisations/{world.pending_bank.org.id}/reject", headers=h, json={"reason": "x"})
    assert r.json()["status"] == "rejected"
    r = await client.post(f"/api/v1/organisations/{world.pending_bank.org.id}/reject", headers=h, json={"reason": "x"})
    assert r.status_code == 409


async def test_an_upsert_cannot_take_another_enterprises_patent(client: Any, world: Any, db: Any) -> None:
    """An enterprise's upsert updates its own patents only: naming itself the owner of another's registered
    patent (or of one the registry gives no owner) is refused for that row and changes nothing."""
    a, b = world.enterprise, world.other_enterprise
    theirs = _row(a.org.credit_code, events=[{"kind": "licence", "date": "2021-05-01"}])
    r = await client.post("/api/v1/patents/import", headers=a.headers, json=[theirs])
    assert r.json()["imported"] == 1, r.text
    ownerless = _row(b.org.credit_code)
    unowned = {**ownerless, "owner": None, "owner_name": "某大学"}
    r = await client.post("/api/v1/patents/import", headers=world.operator.headers, json=[unowned])
    assert r.json()["imported"] == 1, r.text
    mine = _row(b.org.credit_code)
    takeover = [
        {**theirs, "owner": b.org.credit_code, "title": "x", "events": []},
        {**ownerless, "title": "y"},
        mine,
    ]
    r = await client.post("/api/v1/patents/import?mode=upsert", headers=b.headers, json=takeover)
    result = r.json()
    assert result["imported"] == 1 and [(e["row"], e["errors"][0]["field"]) for e in result["rejected"]] == [
        (1, "number"),
        (2, "number"),
    ], result
    row = await db.fetchrow("SELECT owner_id, title FROM patents WHERE number = $1", theirs["number"])
    assert row["owner_id"] == a.org.id and row["title"] == theirs["title"]
    assert await db.fetchval("SELECT owner_id FROM patents WHERE number = $1", ownerless["number"]) is None
    assert (await client.get(f"/api/v1/patents/{theirs['number']}", headers=b.headers)).status_code == 404
    assert (await client.get(f"/api/v1/patents/{theirs['number']}", headers=a.headers)).status_code == 200
