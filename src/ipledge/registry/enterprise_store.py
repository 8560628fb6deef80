"""SQL for enterprise profiles and their version history."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import msgspec

from ipledge.db.types import Conn
from ipledge.registry import schemas as s

#: API field → column, for the profile fields whose names differ.
_COLUMN = {"chain": "chain_code"}
PROFILE_FIELDS: tuple[str, ...] = tuple(s.EnterpriseProfile.__struct_fields__)

_SELECT = """
SELECT o.id, o.name, o.credit_code, o.province_code AS province, p.name_zh AS province_name, o.city, o.status,
       e.version, e.size_class, e.independent_legal_person, e.certifications, e.chain_code AS chain, e.business_scope,
       e.revenue::float8, e.profit::float8, e.rd_spend::float8, e.employees, e.rd_staff, e.university_partnership,
       e.patent_industrialisation_rate::float8, e.patent_intensive_industry, e.patent_product_filed,
       e.patent_intensive_products, e.has_trademark, e.has_ip_management, e.violation_flags,
       e.financing_need::float8, e.consent_share, e.updated_at,
       ARRAY(SELECT DISTINCT c FROM patents p, unnest(p.chain_codes) c WHERE p.owner_id = o.id ORDER BY c)
           AS patent_chains
FROM enterprises e JOIN organisations o ON o.id = e.organisation_id JOIN provinces p ON p.code = o.province_code
"""


def _enterprise(row: asyncpg.Record) -> s.Enterprise:
    data = dict(row)
    data["credit_code"] = data["credit_code"].strip()
    return msgspec.convert(data, s.Enterprise)


def profile_snapshot(enterprise: s.Enterprise) -> dict[str, Any]:
    """The profile part of an enterprise, as stored in each history row."""
    return {name: getattr(enterprise, name) for name in PROFILE_FIELDS}


async def insert_profile(conn: Conn, org_id: uuid.UUID) -> None:
    await conn.execute("INSERT INTO enterprises (organisation_id) VALUES ($1)", org_id)


async def get_enterprise(conn: Conn, org_id: uuid.UUID, *, for_update: bool = False) -> s.Enterprise | None:
    suffix = " FOR UPDATE OF e" if for_update else ""
    row = await conn.fetchrow(f"{_SELECT} WHERE e.organisation_id = $1{suffix}", org_id)
    return None if row is None else _enterprise(row)


async def list_enterprises(
    conn: Conn,
    *,
    province: str | None,
    chain: str | None,
    consented_only: bool,
    after: str | None,
    limit: int,
) -> list[s.Enterprise]:
    rows = await conn.fetch(
        f"{_SELECT} WHERE ($1::text IS NULL OR o.province_code = $1) AND ($2::text IS NULL OR e.chain_code = $2)"
        " AND (NOT $3 OR e.consent_share) AND ($4::text IS NULL OR o.credit_code > $4)"
        " ORDER BY o.credit_code LIMIT $5",
        province,
        chain,
        consented_only,
        after,
        limit + 1,
    )
    return [_enterprise(r) for r in rows]


async def write_profile(conn: Conn, org_id: uuid.UUID, changes: dict[str, Any], *, bump: bool = True) -> None:
    """Apply profile changes, as a new version unless ``bump`` is false (caller holds the row lock)."""
    cols = [_COLUMN.get(k, k) for k in changes]
    sets = "".join(f", {col} = ${i}" for i, col in enumerate(cols, start=2))
    version = "version + 1" if bump else "version"
    await conn.execute(
        f"UPDATE enterprises SET version = {version}, updated_at = now(){sets} WHERE organisation_id = $1",
        org_id,
        *changes.values(),
    )


async def record_version(conn: Conn, enterprise: s.Enterprise, changed_by: uuid.UUID | None) -> None:
    await conn.execute(
        "INSERT INTO enterprise_versions (organisation_id, version, profile, changed_by) VALUES ($1, $2, $3, $4)",
        enterprise.id,
        enterprise.version,
        profile_snapshot(enterprise),
        changed_by,
    )


async def list_versions(conn: Conn, org_id: uuid.UUID) -> list[s.EnterpriseVersion]:
    rows = await conn.fetch(
        "SELECT version, profile, changed_by, created_at FROM enterprise_versions WHERE organisation_id = $1"
        " ORDER BY version DESC",
        org_id,
    )
    return [msgspec.convert(dict(r), s.EnterpriseVersion) for r in rows]


async def chain_exists(conn: Conn, code: str) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM chains WHERE code = $1)", code))
