"""SQL of the cultivation pool. Functions take a connection; callers own the transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from ipledge.auth import Principal
from ipledge.db.types import Conn
from matching.quota import ProvinceCounts

_ENTRY = """
SELECT p.*, o.credit_code, o.name FROM pool_entries p JOIN organisations o ON o.id = p.enterprise_id
"""


async def open_entry(conn: Conn, enterprise_id: uuid.UUID, *, lock: bool = False) -> asyncpg.Record | None:
    """The enterprise's entry that is not final (applied, under review or admitted), if any."""
    suffix = " FOR UPDATE OF p" if lock else ""
    row: asyncpg.Record | None = await conn.fetchrow(
        f"{_ENTRY} WHERE p.enterprise_id = $1 AND p.state IN ('applied', 'under_review', 'admitted'){suffix}",
        enterprise_id,
    )
    return row


async def latest_entry(conn: Conn, enterprise_id: uuid.UUID) -> asyncpg.Record | None:
    """The enterprise's most recent entry in any state."""
    row: asyncpg.Record | None = await conn.fetchrow(
        f"{_ENTRY} WHERE p.enterprise_id = $1 ORDER BY p.created_at DESC, p.id LIMIT 1", enterprise_id
    )
    return row


async def insert_entry(
    conn: Conn, enterprise_id: uuid.UUID, province: str, criteria: list[dict[str, Any]], policy_version: str
) -> uuid.UUID:
    entry_id: uuid.UUID = await conn.fetchval(
        "INSERT INTO pool_entries (enterprise_id, province_code, state, criteria, policy_version)"
        " VALUES ($1, $2, 'applied', $3, $4) RETURNING id",
        enterprise_id,
        province,
        criteria,
        policy_version,
    )
    return entry_id


async def set_state(conn: Conn, entry_id: uuid.UUID, state: str, **fields: Any) -> None:
    """Write the new state and any of: admission_kind, criteria, overrides, rate_at_admission, reason_code."""
    stamp = {"admitted": "admitted_at = now(),", "graduated": "closed_at = now(),"}
    stamp |= {"withdrawn": stamp["graduated"], "rejected": stamp["graduated"]}
    sets = "".join(f", {name} = ${i}" for i, name in enumerate(fields, start=3))
    await conn.execute(
        f"UPDATE pool_entries SET {stamp.get(state, '')} updated_at = now(), state = $2{sets} WHERE id = $1",
        entry_id,
        state,
        *fields.values(),
    )


async def record_transition(
    conn: Conn,
    entry: asyncpg.Record | dict[str, Any],
    to_state: str,
    actor: Principal | None,
    request_id: str | None,
    *,
    reason: str = "",
    reason_code: str | None = None,
    criteria: list[dict[str, Any]] | None = None,
    overrides: list[dict[str, Any]] | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append the transition's audit row (who, when, why, the criteria results)."""
    await conn.execute(
        "INSERT INTO pool_transitions (entry_id, enterprise_id, from_state, to_state, actor_org, actor_key, reason,"
        " reason_code, criteria, overrides, detail, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
        " $12)",
        entry["id"],
        entry["enterprise_id"],
        entry.get("state"),
        to_state,
        actor.organisation_id if actor else None,
        actor.key_id if actor else None,
        reason,
        reason_code,
        criteria or [],
        overrides or [],
        detail or {},
        request_id,
    )


async def lock_quota(conn: Conn, province: str) -> ProvinceCounts:
    """Lock the province's counters row (creating it) until the transaction ends."""
    await conn.execute("INSERT INTO pool_quotas (province_code) VALUES ($1) ON CONFLICT DO NOTHING", province)
    row = await conn.fetchrow(
        "SELECT initial_admissions, supplements, graduations FROM pool_quotas WHERE province_code = $1 FOR UPDATE",
        province,
    )
    assert row is not None
    return ProvinceCounts(
        initial_admissions=row["initial_admissions"], supplements=row["supplements"], graduations=row["graduations"]
    )


async def bump_quota(conn: Conn, province: str, column: str) -> None:
    assert column in ("initial_admissions", "supplements", "graduations")
    await conn.execute(
        f"UPDATE pool_quotas SET {column} = {column} + 1, updated_at = now() WHERE province_code = $1", province
    )


async def quota_rows(conn: Conn) -> list[asyncpg.Record]:
    """Every province with its counters and its current number of admitted members."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT p.code, p.name_zh, coalesce(q.initial_admissions, 0) AS initial_admissions,"
        " coalesce(q.supplements, 0) AS supplements, coalesce(q.graduations, 0) AS graduations,"
        " (SELECT count(*) FROM pool_entries e WHERE e.province_code = p.code AND e.state = 'admitted') AS members"
        " FROM provinces p LEFT JOIN pool_quotas q ON q.province_code = p.code ORDER BY p.code"
    )
    return rows


async def list_entries(
    conn: Conn, *, province: str | None, state: str | None, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[asyncpg.Record]:
    args: list[Any] = [province, state, limit + 1]
    where = "($1::text IS NULL OR p.province_code = $1) AND ($2::text IS NULL OR p.state = $2)"
    if after is not None:
        where += " AND (p.created_at, p.id) > ($4, $5)"
        args += list(after)
    rows: list[asyncpg.Record] = await conn.fetch(f"{_ENTRY} WHERE {where} ORDER BY p.created_at, p.id LIMIT $3", *args)
    return rows


async def admitted_entries(conn: Conn, province: str | None) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        f"{_ENTRY} WHERE p.state = 'admitted' AND ($1::text IS NULL OR p.province_code = $1)"
        " ORDER BY p.admitted_at, p.id",
        province,
    )
    return rows


async def patents_in_force(conn: Conn, enterprise_id: uuid.UUID) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM patents WHERE owner_id = $1 AND legal_status = 'granted' AND fees_paid"
        " AND expiry_date > current_date",
        enterprise_id,
    )
    return count


# --- progress reports --------------------------------------------------------------------------------

_REPORT_COLUMNS = (
    "id, entry_id, enterprise_id, reported_on, industrialisation_rate::float8 AS industrialisation_rate,"
    " new_patent_intensive_products, product_sales_growth, product_profit_growth, note, created_at"
)


async def insert_report(
    conn: Conn, entry_id: uuid.UUID, enterprise_id: uuid.UUID, values: dict[str, Any], actor: Principal
) -> asyncpg.Record:
    row: asyncpg.Record | None = await conn.fetchrow(
        "INSERT INTO progress_reports (entry_id, enterprise_id, reported_on, industrialisation_rate,"
        " new_patent_intensive_products, product_sales_growth, product_profit_growth, note, actor_org, actor_key)"
        f" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {_REPORT_COLUMNS}",
        entry_id,
        enterprise_id,
        values["reported_on"],
        values["industrialisation_rate"],
        values["new_patent_intensive_products"],
        values["product_sales_growth"],
        values["product_profit_growth"],
        values["note"],
        actor.organisation_id,
        actor.key_id,
    )
    assert row is not None
    return row


async def reports_for(conn: Conn, entry_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[asyncpg.Record]]:
    """Progress reports of the given entries, oldest first."""
    rows = await conn.fetch(
        f"SELECT {_REPORT_COLUMNS} FROM progress_reports WHERE entry_id = ANY($1) ORDER BY reported_on, created_at",
        list(entry_ids),
    )
    out: dict[uuid.UUID, list[asyncpg.Record]] = {}
    for r in rows:
        out.setdefault(r["entry_id"], []).append(r)
    return out


# --- recipients of pool events -----------------------------------------------------------------------


async def institutions_serving(conn: Conn, province: str) -> list[uuid.UUID]:
    """Approved banks and funds whose registered criteria cover ``province`` (regions and mandate)."""
    rows = await conn.fetch(
        "SELECT o.id FROM organisations o JOIN LATERAL (SELECT kind, provinces, region_mandate"
        "   FROM institution_criteria ic WHERE ic.organisation_id = o.id ORDER BY version DESC LIMIT 1) c ON true"
        " WHERE o.kind IN ('bank', 'fund') AND o.status = 'active'"
        " AND (cardinality(c.provinces) = 0 OR $1 = ANY (c.provinces))"
        " AND (c.kind <> 'guidance_fund' OR cardinality(c.region_mandate) = 0 OR $1 = ANY (c.region_mandate))"
        " ORDER BY o.id",
        province,
    )
    return [r["id"] for r in rows]
