"""Builders for the matching integration tests: eligible enterprises, pool entries, criteria."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from ipledge.auth import Principal
from ipledge.registry import enterprise_store as es
from tests.factories import Actor, credit_code, make_actor, patent_number

_n = itertools.count(1)

ELIGIBLE: dict[str, Any] = {
    "size_class": "small",
    "independent_legal_person": True,
    "certifications": ["zjtx"],
    "chain": "ic",
    "business_scope": "集成电路芯片设计、晶圆封装测试与存储器研发",
    "revenue": 5e7,
    "profit": 5e6,
    "rd_spend": 6e6,
    "employees": 100,
    "rd_staff": 30,
    "university_partnership": True,
    "patent_industrialisation_rate": 0.6,
    "patent_intensive_industry": True,
    "patent_product_filed": True,
    "patent_intensive_products": 2,
    "has_trademark": True,
    "has_ip_management": True,
    "violation_flags": [],
    "financing_need": 8e6,
    "consent_share": True,
}


def principal(actor: Actor, key_id: uuid.UUID | None = None) -> Principal:
    """A principal for direct service calls in tests."""
    return Principal(key_id or uuid.uuid4(), actor.org.id, actor.org.kind, "active", actor.org.credit_code)


async def set_profile(db: Any, org_id: uuid.UUID, **over: Any) -> None:
    profile = {**ELIGIBLE, **over}
    async with db.acquire() as conn:
        await es.write_profile(conn, org_id, profile, bump=False)


async def add_granted_patent(db: Any, org_id: uuid.UUID, title: str = "一种芯片封装结构") -> None:
    await db.execute(
        "INSERT INTO patents (number, patent_type, title, owner_id, owner_name, filing_date, grant_date, expiry_date,"
        " legal_status, chain_codes) VALUES ($1, 'invention', $2, $3, 'x', '2019-01-01', '2021-01-01', '2039-01-01',"
        " 'granted', '{ic}')",
        patent_number(),
        title,
        org_id,
    )


async def eligible_enterprise(db: Any, province: str = "44", **over: Any) -> Actor:
    """An enterprise with a key whose profile passes all ten criteria (and owns a granted patent)."""
    actor = await make_actor(db, "enterprise", f"合格测试企业{next(_n)}有限公司", province)
    await set_profile(db, actor.org.id, **over)
    await add_granted_patent(db, actor.org.id)
    return actor


async def bulk_enterprises(db: Any, count: int, province: str, state: str | None = None, **over: Any) -> list[Any]:
    """Many eligible enterprises by SQL (no keys); optionally with a pool entry in ``state``."""
    ids = []
    for _ in range(count):
        code = credit_code(province)
        org_id = await db.fetchval(
            "INSERT INTO organisations (kind, name, credit_code, province_code, status)"
            " VALUES ('enterprise', $1, $2, $3, 'active') RETURNING id",
            f"批量测试企业{next(_n)}",
            code,
            province,
        )
        await db.execute("INSERT INTO enterprises (organisation_id) VALUES ($1)", org_id)
        await set_profile(db, org_id, **over)
        await add_granted_patent(db, org_id)
        if state is not None:
            await db.execute(
                "INSERT INTO pool_entries (enterprise_id, province_code, state, policy_version, admitted_at,"
                " admission_kind) VALUES ($1, $2, $3, '2024.1', CASE WHEN $3 = 'admitted' THEN now() END,"
                " CASE WHEN $3 = 'admitted' THEN 'initial' END)",
                org_id,
                province,
                state,
            )
        ids.append((org_id, code))
    return ids


async def register_criteria(db: Any, org_id: uuid.UUID, **over: Any) -> None:
    values = {"kind": "bank", "provinces": [], "chains": [], "amount_min": None, "amount_max": None, "thesis": ""}
    values.update(over)
    version = await db.fetchval(
        "SELECT coalesce(max(version), 0) + 1 FROM institution_criteria WHERE organisation_id = $1", org_id
    )
    await db.execute(
        "INSERT INTO institution_criteria (organisation_id, version, kind, provinces, chains, amount_min, amount_max,"
        " thesis) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        org_id,
        version,
        values["kind"],
        values["provinces"],
        values["chains"],
        values["amount_min"],
        values["amount_max"],
        values["thesis"],
    )
