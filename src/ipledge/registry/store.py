"""SQL for the registry. Functions take a connection so callers own the transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from ipledge.auth import Principal, Role, hash_key, new_key
from ipledge.db.types import Conn
from ipledge.registry import schemas as s

# --- audit ------------------------------------------------------------------------------------------


async def audit(
    conn: Conn,
    actor: Principal | None,
    action: str,
    subject_type: str,
    subject_id: str,
    detail: dict[str, Any] | None = None,
    request_id: str | None = None,
) -> None:
    """Append one audit row (who, when, what, why)."""
    await conn.execute(
        "INSERT INTO audit_log (actor_org, actor_key, action, subject_type, subject_id, detail, request_id)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        actor.organisation_id if actor else None,
        actor.key_id if actor else None,
        action,
        subject_type,
        subject_id,
        detail or {},
        request_id,
    )


# --- organisations -----------------------------------------------------------------------------------

_ORG_COLUMNS = """
o.id, o.kind, o.name, o.credit_code, o.province_code AS province, p.name_zh AS province_name, o.city,
o.contact_name, o.contact_phone, o.contact_email, o.status, o.created_at, o.updated_at
"""
_ORG_FROM = "organisations o JOIN provinces p ON p.code = o.province_code"


def _org(row: asyncpg.Record) -> s.Organisation:
    data = dict(row)
    data["credit_code"] = data["credit_code"].strip()
    return msgspec.convert(data, s.Organisation)


async def insert_organisation(conn: Conn, data: s.OrganisationCreate | s.EnterpriseCreate, kind: str) -> uuid.UUID:
    """Insert an organisation; banks and funds start pending, the others active."""
    status = "pending" if kind in ("bank", "fund") else "active"
    org_id: uuid.UUID = await conn.fetchval(
        "INSERT INTO organisations (kind, name, credit_code, province_code, city, contact_name, contact_phone,"
        " contact_email, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        kind,
        data.name,
        data.credit_code,
        data.province,
        data.city,
        data.contact_name,
        data.contact_phone,
        data.contact_email,
        status,
    )
    return org_id


async def get_organisation(conn: Conn, org_id: uuid.UUID) -> s.Organisation | None:
    row = await conn.fetchrow(f"SELECT {_ORG_COLUMNS} FROM {_ORG_FROM} WHERE o.id = $1", org_id)
    return None if row is None else _org(row)


async def organisation_id_by_credit_code(conn: Conn, code: str) -> uuid.UUID | None:
    found: uuid.UUID | None = await conn.fetchval("SELECT id FROM organisations WHERE credit_code = $1", code)
    return found


async def list_organisations(
    conn: Conn,
    *,
    kind: str | None,
    province: str | None,
    status: str | None,
    after: list[Any] | None,
    limit: int,
) -> list[s.Organisation]:
    args: list[Any] = [kind, province, status, limit + 1]
    where = "($1::text IS NULL OR o.kind = $1) AND ($2::text IS NULL OR o.province_code = $2)"
    where += " AND ($3::text IS NULL OR o.status = $3)"
    if after is not None:
        where += " AND (o.created_at, o.id) > ($5::timestamptz, $6::uuid)"
        args += [datetime.fromisoformat(after[0]), uuid.UUID(after[1])]
    rows = await conn.fetch(
        f"SELECT {_ORG_COLUMNS} FROM {_ORG_FROM} WHERE {where} ORDER BY o.created_at, o.id LIMIT $4", *args
    )
    return [_org(r) for r in rows]


async def update_organisation(conn: Conn, org_id: uuid.UUID, changes: dict[str, Any]) -> None:
    if not changes:
        return
    sets = ", ".join(f"{col} = ${i}" for i, col in enumerate(changes, start=2))
    await conn.execute(f"UPDATE organisations SET {sets}, updated_at = now() WHERE id = $1", org_id, *changes.values())


async def set_status(conn: Conn, org_id: uuid.UUID, status: str) -> None:
    await conn.execute("UPDATE organisations SET status = $2, updated_at = now() WHERE id = $1", org_id, status)


# --- API keys ----------------------------------------------------------------------------------------

_KEY_COLUMNS = "id, organisation_id, role, prefix, label, created_at, revoked_at"


async def create_key(conn: Conn, org_id: uuid.UUID, role: Role, label: str) -> s.KeyCreated:
    """Create a key and return it once, with the secret."""
    key = new_key()
    row = await conn.fetchrow(
        f"INSERT INTO api_keys (organisation_id, role, prefix, key_hash, label) VALUES ($1, $2, $3, $4, $5)"
        f" RETURNING {_KEY_COLUMNS}",
        org_id,
        role,
        key[:10],
        hash_key(key),
        label,
    )
    assert row is not None
    return msgspec.convert({**dict(row), "key": key}, s.KeyCreated)


async def list_keys(conn: Conn, org_id: uuid.UUID) -> list[s.KeyInfo]:
    rows = await conn.fetch(
        f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE organisation_id = $1 ORDER BY created_at, id", org_id
    )
    return [msgspec.convert(dict(r), s.KeyInfo) for r in rows]


async def get_key(conn: Conn, key_id: uuid.UUID) -> s.KeyInfo | None:
    row = await conn.fetchrow(f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE id = $1", key_id)
    return None if row is None else msgspec.convert(dict(row), s.KeyInfo)


async def revoke_key(conn: Conn, key_id: uuid.UUID) -> bool:
    status = await conn.execute("UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", key_id)
    return bool(status.endswith(" 1"))


async def revoke_keys_labelled(conn: Conn, label: str) -> int:
    status = await conn.execute("UPDATE api_keys SET revoked_at = now() WHERE label = $1 AND revoked_at IS NULL", label)
    return int(status.split()[-1])


# --- chains ------------------------------------------------------------------------------------------


async def list_chains(conn: Conn) -> list[s.Chain]:
    rows = await conn.fetch(
        "SELECT code, name_zh, name_en, ipc_prefixes, keywords, patent_intensive FROM chains ORDER BY position"
    )
    return [msgspec.convert(dict(r), s.Chain) for r in rows]


async def chain_catalogue(conn: Conn) -> list[tuple[str, list[str]]]:
    """(code, IPC prefixes) for tagging, in catalogue order."""
    return [(c.code, c.ipc_prefixes) for c in await list_chains(conn)]


async def upsert_chain(conn: Conn, code: str, data: s.ChainUpsert) -> None:
    await conn.execute(
        "INSERT INTO chains (code, name_zh, name_en, ipc_prefixes, keywords, patent_intensive)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (code) DO UPDATE SET name_zh = $2, name_en = $3,"
        " ipc_prefixes = $4, keywords = $5, patent_intensive = $6, updated_at = now()",
        code,
        data.name_zh,
        data.name_en,
        data.ipc_prefixes,
        data.keywords,
        data.patent_intensive,
    )


async def list_provinces(conn: Conn) -> list[s.ProvinceInfo]:
    rows = await conn.fetch("SELECT code, name_zh, name_en FROM provinces ORDER BY code")
    return [msgspec.convert(dict(r), s.ProvinceInfo) for r in rows]
