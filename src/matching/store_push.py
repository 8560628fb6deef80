"""SQL of push runs and push lists. Functions take a connection; callers own the transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from ipledge.db.types import Conn
from matching.push import PushedRow

_LIST_COLUMNS = (
    "l.id, l.run_id, l.organisation_id, l.sequence, l.criteria_version, l.row_count, l.new_count, l.changed_count,"
    " l.removed, l.created_at"
)


async def last_lists(conn: Conn) -> dict[str, tuple[int, dict[str, PushedRow]]]:
    """Per institution, the sequence of the last list it received and that list's rows."""
    heads = await conn.fetch(
        "SELECT DISTINCT ON (organisation_id) id, organisation_id, sequence FROM push_lists"
        " ORDER BY organisation_id, sequence DESC"
    )
    rows = await conn.fetch(
        "SELECT list_id, enterprise_id, rank, score, reasons_hash FROM push_list_rows WHERE list_id = ANY($1)",
        [h["id"] for h in heads],
    )
    by_list: dict[uuid.UUID, dict[str, PushedRow]] = {h["id"]: {} for h in heads}
    for r in rows:
        eid = str(r["enterprise_id"])
        by_list[r["list_id"]][eid] = PushedRow(
            enterprise_id=eid, rank=r["rank"], score=float(r["score"]), reasons_hash=r["reasons_hash"]
        )
    return {str(h["organisation_id"]): (h["sequence"], by_list[h["id"]]) for h in heads}


async def insert_run(conn: Conn, values: dict[str, Any]) -> None:
    cols = list(values)
    await conn.execute(
        f"INSERT INTO push_runs ({', '.join(cols)}) VALUES ({', '.join(f'${i}' for i in range(1, len(cols) + 1))})",
        *values.values(),
    )


async def insert_list(conn: Conn, values: dict[str, Any], rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert one list and its rows (rank, enterprise, score, reasons zh/en, hash, change) by COPY."""
    cols = list(values)
    await conn.execute(
        f"INSERT INTO push_lists ({', '.join(cols)}) VALUES ({', '.join(f'${i}' for i in range(1, len(cols) + 1))})",
        *values.values(),
    )
    if rows:
        await conn.copy_records_to_table(
            "push_list_rows",
            records=[(values["id"], *r) for r in rows],
            columns=["list_id", "rank", "enterprise_id", "score", "reasons_zh", "reasons_en", "reasons_hash", "change"],
        )


async def list_runs(conn: Conn, after: tuple[datetime, uuid.UUID] | None, limit: int) -> list[asyncpg.Record]:
    args: list[Any] = [limit + 1]
    where = "true"
    if after is not None:
        where = "(created_at, id) < ($2, $3)"
        args += list(after)
    rows: list[asyncpg.Record] = await conn.fetch(
        f"SELECT * FROM push_runs WHERE {where} ORDER BY created_at DESC, id DESC LIMIT $1", *args
    )
    return rows


async def get_run(conn: Conn, run_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow("SELECT * FROM push_runs WHERE id = $1", run_id)
    return row


async def get_list(conn: Conn, list_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {_LIST_COLUMNS} FROM push_lists l WHERE l.id = $1", list_id
    )
    return row


async def latest_list(conn: Conn, organisation_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {_LIST_COLUMNS} FROM push_lists l WHERE l.organisation_id = $1 ORDER BY l.sequence DESC LIMIT 1",
        organisation_id,
    )
    return row


async def list_lists(
    conn: Conn, organisation_id: uuid.UUID | None, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[asyncpg.Record]:
    """Lists newest first, optionally of one institution."""
    args: list[Any] = [organisation_id, limit + 1]
    where = "($1::uuid IS NULL OR l.organisation_id = $1)"
    if after is not None:
        where += " AND (l.created_at, l.id) < ($3, $4)"
        args += list(after)
    rows: list[asyncpg.Record] = await conn.fetch(
        f"SELECT {_LIST_COLUMNS} FROM push_lists l WHERE {where} ORDER BY l.created_at DESC, l.id DESC LIMIT $2", *args
    )
    return rows


async def list_rows(conn: Conn, list_id: uuid.UUID, after_rank: int, limit: int | None) -> list[asyncpg.Record]:
    """Rows of one list from ``after_rank`` on, with the enterprise's name, province, chain and need.

    Rows of enterprises that have withdrawn their consent since the list was published are left out:
    without consent an enterprise's data never reaches a bank or fund, old lists included.
    """
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT r.rank, r.enterprise_id, o.credit_code, o.name, o.province_code AS province, p.name_zh AS province_zh,"
        " p.name_en AS province_en, e.chain_code AS chain, c.name_zh AS chain_zh, c.name_en AS chain_en, r.score,"
        " e.financing_need::float8 AS financing_need, r.change, r.reasons_zh, r.reasons_en"
        " FROM push_list_rows r JOIN organisations o ON o.id = r.enterprise_id"
        " JOIN enterprises e ON e.organisation_id = r.enterprise_id JOIN provinces p ON p.code = o.province_code"
        " LEFT JOIN chains c ON c.code = e.chain_code"
        " WHERE r.list_id = $1 AND r.rank > $2 AND e.consent_share ORDER BY r.rank LIMIT $3",
        list_id,
        after_rank,
        limit,
    )
    return rows
