from __future__ import annotations

from typing import Any

from tests.factories import credit_code, patent_number


async def test_health_and_ready(client: Any) -> None:
    r = await client.get("/health")
    assert r.status_code == 200 and r.json() == {"status": "alive"}
    r = await client.get("/ready")
    assert r.status_code == 200 and r.json() == {"status": "ready"}


async def test_create_enterprise_and_patent(client: Any, world: Any) -> None:
    h = world.operator.headers
    code = credit_code()
    r = await client.post(
        "/api/v1/enterprises",
        headers=h,
        json={
            "name": "深圳测试科技有限公司",
            "credit_code": code,
            "province": "广东",
            "profile": {"revenue": 5e6, "chain": "ic", "employees": 100, "rd_staff": 30},
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["credit_code"] == code and body["chain"] == "ic" and body["version"] == 1
    number = patent_number()
    r = await client.post(
        "/api/v1/patents",
        headers=h,
        json={
            "number": number,
            "title": "一种芯片封装结构",
            "owner": code,
            "filing_date": "2019-07-20",
            "grant_date": "2021-01-05",
            "legal_status": "granted",
            "ipc_codes": ["H01L 21/02"],
        },
    )
    assert r.status_code == 201, r.text
    p = r.json()
    assert p["patent_type"] == "invention" and p["expiry_date"] == "2039-07-20" and p["chains"] == ["ic"]
