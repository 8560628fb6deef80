"""Institution criteria: a bank or fund registers what it lends to or invests in; every change is a version."""

from __future__ import annotations

import uuid

import asyncpg
import msgspec

from ipledge.auth import Principal
from ipledge.context import request_id_var
from ipledge.db.types import Conn, Pool
from ipledge.errors import InvalidInput, NotFound
from ipledge.registry import store as registry_store
from matching import schemas as s

_COLUMNS = (
    "c.organisation_id, o.name, c.version, c.kind, c.provinces, c.chains, c.amount_min::float8 AS amount_min,"
    " c.amount_max::float8 AS amount_max, c.min_grade, c.products, c.stages, c.thesis, c.region_mandate, c.created_at"
)
_FROM = "institution_criteria c JOIN organisations o ON o.id = c.organisation_id"


async def _institution(conn: Conn, actor: Principal, org_id: uuid.UUID) -> asyncpg.Record:
    """The bank or fund ``org_id`` if the actor may see it (itself or an operator), else 404."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT id, kind, status FROM organisations WHERE id = $1 AND kind IN ('bank', 'fund')", org_id
    )
    if row is None or not (actor.is_operator or actor.organisation_id == org_id):
        raise NotFound("机构不存在 / institution not found")
    return row


async def register(pool: Pool, actor: Principal, org_id: uuid.UUID, data: s.CriteriaIn) -> s.Criteria:
    """Register a new version of the institution's criteria (the previous versions stay)."""
    async with pool.acquire() as conn, conn.transaction():
        org = await _institution(conn, actor, org_id)
        if (org["kind"] == "bank") != (data.kind == "bank"):
            raise InvalidInput("kind", f"机构类型为 {org['kind']} / the organisation is a {org['kind']}")
        known = {r["code"] for r in await conn.fetch("SELECT code FROM chains WHERE code = ANY($1)", data.chains)}
        unknown = [c for c in data.chains if c not in known]
        if unknown:
            raise InvalidInput("chains", f"未知产业链 {unknown} / unknown chains")
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('criteria:' || $1::uuid::text, 0))", org_id)
        version = await conn.fetchval(
            "SELECT coalesce(max(version), 0) + 1 FROM institution_criteria WHERE organisation_id = $1", org_id
        )
        values = msgspec.structs.asdict(data)
        await conn.execute(
            "INSERT INTO institution_criteria (organisation_id, version, kind, provinces, chains, amount_min,"
            " amount_max, min_grade, products, stages, thesis, region_mandate, actor_key)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            org_id,
            version,
            *(values[k] for k in ("kind", "provinces", "chains", "amount_min", "amount_max", "min_grade")),
            *(values[k] for k in ("products", "stages", "thesis", "region_mandate")),
            actor.key_id,
        )
        await registry_store.audit(
            conn, actor, "criteria.registered", "organisation", str(org_id), {"version": version}, request_id_var.get()
        )
    return (await history(pool, actor, org_id))[0]


async def current(pool: Pool, actor: Principal, org_id: uuid.UUID) -> s.Criteria:
    versions = await history(pool, actor, org_id, limit=1)
    if not versions:
        raise NotFound("尚未登记准入条件 / no criteria registered")
    return versions[0]


async def history(pool: Conn, actor: Principal, org_id: uuid.UUID, limit: int = 100) -> list[s.Criteria]:
    """The institution's criteria versions, newest first."""
    await _institution(pool, actor, org_id)
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM {_FROM} WHERE c.organisation_id = $1 ORDER BY c.version DESC LIMIT $2", org_id, limit
    )
    return [msgspec.convert(dict(r), s.Criteria) for r in rows]
