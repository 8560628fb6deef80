"""SQL for patents and their legal events."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import asyncpg
import msgspec

from ipledge.db.types import Conn
from ipledge.registry import schemas as s

_COLUMNS = """
p.number, p.patent_type, p.title, p.abstract, o.credit_code AS owner, p.owner_name, p.filing_date, p.grant_date,
p.expiry_date, p.legal_status, p.fees_paid, p.claims_total, p.claims_independent, p.claim_types, p.first_claim,
p.ipc_codes, p.family_offices, p.forward_citations, p.backward_citations, p.chain_codes AS chains
"""
_FROM = "patents p LEFT JOIN organisations o ON o.id = p.owner_id"

_INSERT = """
INSERT INTO patents (number, patent_type, title, abstract, owner_id, owner_name, filing_date, grant_date, expiry_date,
    legal_status, fees_paid, claims_total, claims_independent, claim_types, first_claim, ipc_codes, family_offices,
    forward_citations, backward_citations, chain_codes)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
"""
_UPSERT = (
    _INSERT
    + """ON CONFLICT (number) DO UPDATE SET title = EXCLUDED.title, abstract = EXCLUDED.abstract,
    owner_id = EXCLUDED.owner_id, owner_name = EXCLUDED.owner_name, filing_date = EXCLUDED.filing_date,
    grant_date = EXCLUDED.grant_date, expiry_date = EXCLUDED.expiry_date, legal_status = EXCLUDED.legal_status,
    fees_paid = EXCLUDED.fees_paid, claims_total = EXCLUDED.claims_total,
    claims_independent = EXCLUDED.claims_independent, claim_types = EXCLUDED.claim_types,
    first_claim = EXCLUDED.first_claim, ipc_codes = EXCLUDED.ipc_codes, family_offices = EXCLUDED.family_offices,
    forward_citations = EXCLUDED.forward_citations, backward_citations = EXCLUDED.backward_citations,
    chain_codes = EXCLUDED.chain_codes, updated_at = now()
"""
)
#: An enterprise's upsert updates only rows it owns already (a row of another owner, or of none, is left alone
#: even if it appeared after the import's check; the check reports them, see registry.service.import_patents).
_UPSERT_OWN = _UPSERT + " WHERE patents.owner_id = EXCLUDED.owner_id"

PatentRow = tuple[Any, ...]


def _patent(row: asyncpg.Record, events: list[s.PatentEvent] | None = None) -> s.Patent:
    data = dict(row)
    if data["owner"] is not None:
        data["owner"] = data["owner"].strip()
    data["events"] = events or []
    return msgspec.convert(data, s.Patent)


async def owners_by_credit_code(conn: Conn, codes: list[str]) -> dict[str, tuple[uuid.UUID, str, str]]:
    """Credit code → (organisation id, name, kind) for the codes that exist."""
    rows = await conn.fetch("SELECT id, name, kind, credit_code FROM organisations WHERE credit_code = ANY($1)", codes)
    return {r["credit_code"].strip(): (r["id"], r["name"], r["kind"]) for r in rows}


async def existing_numbers(conn: Conn, numbers: list[str]) -> set[str]:
    rows = await conn.fetch("SELECT number FROM patents WHERE number = ANY($1)", numbers)
    return {r["number"] for r in rows}


async def existing_owners(conn: Conn, numbers: list[str]) -> dict[str, uuid.UUID | None]:
    """Number → owner organisation (None when the registry names none) of the numbers already registered."""
    rows = await conn.fetch("SELECT number, owner_id FROM patents WHERE number = ANY($1)", numbers)
    return {r["number"]: r["owner_id"] for r in rows}


async def write_patents(conn: Conn, rows: list[PatentRow], *, upsert: bool, own_only: bool = False) -> None:
    """Insert the rows; with ``upsert``, update existing ones (only those the writer owns with ``own_only``)."""
    await conn.executemany((_UPSERT_OWN if own_only else _UPSERT) if upsert else _INSERT, rows)


async def write_events(conn: Conn, events: list[tuple[str, str, date, dict[str, Any]]]) -> None:
    if events:
        await conn.executemany(
            "INSERT INTO patent_events (number, kind, event_date, detail) VALUES ($1, $2, $3, $4)", events
        )


async def get_events(conn: Conn, number: str) -> list[s.PatentEvent]:
    rows = await conn.fetch(
        "SELECT id, kind, event_date AS date, detail, created_at FROM patent_events WHERE number = $1"
        " ORDER BY event_date, id",
        number,
    )
    return [msgspec.convert(dict(r), s.PatentEvent) for r in rows]


async def get_patent(conn: Conn, number: str) -> tuple[s.Patent, uuid.UUID | None] | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS}, p.owner_id FROM {_FROM} WHERE p.number = $1", number)
    if row is None:
        return None
    data = dict(row)
    owner_id = data.pop("owner_id")
    return _patent(row, await get_events(conn, number)), owner_id


class PatentFilter(msgspec.Struct, kw_only=True):
    owner_id: uuid.UUID | None = None
    consented_only: bool = False
    patent_type: str | None = None
    legal_status: str | None = None
    chain: str | None = None
    ipc: str | None = None
    q: str | None = None
    filed_from: date | None = None
    filed_to: date | None = None


async def list_patents(conn: Conn, f: PatentFilter, after: str | None, limit: int) -> list[s.Patent]:
    where = [
        "($1::uuid IS NULL OR p.owner_id = $1)",
        "($2::text IS NULL OR p.patent_type = $2)",
        "($3::text IS NULL OR p.legal_status = $3)",
        "($4::text IS NULL OR p.chain_codes @> ARRAY[$4::text])",
        "($5::text IS NULL OR EXISTS (SELECT 1 FROM unnest(p.ipc_codes) c WHERE replace(c, ' ', '') LIKE $5 || '%'))",
        "($6::text IS NULL OR p.title ILIKE '%' || $6 || '%')",
        "($7::date IS NULL OR p.filing_date >= $7)",
        "($8::date IS NULL OR p.filing_date <= $8)",
        "($9::text IS NULL OR p.number > $9)",
    ]
    if f.consented_only:
        where.append("EXISTS (SELECT 1 FROM enterprises e WHERE e.organisation_id = p.owner_id AND e.consent_share)")
    ipc = f.ipc.replace(" ", "").upper() if f.ipc else None
    q = f.q.replace("%", r"\%").replace("_", r"\_") if f.q else None
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM {_FROM} WHERE {' AND '.join(where)} ORDER BY p.number LIMIT $10",
        f.owner_id,
        f.patent_type,
        f.legal_status,
        f.chain,
        ipc,
        q,
        f.filed_from,
        f.filed_to,
        after,
        limit + 1,
    )
    return [_patent(r) for r in rows]
