"""SQL for the calendar and events. Functions take a connection so callers own the transaction."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import asyncpg
import msgspec

from ipledge.db.types import Conn
from roadshow import schemas as s
from roadshow.lifecycle import status_name
from roadshow.timetable import Day

# --- calendar ---------------------------------------------------------------------------------------------


async def get_calendar(conn: Conn, year: int) -> list[s.CalendarEntry]:
    rows = await conn.fetch(
        "SELECT c.month, c.chain_code AS chain, ch.name_zh AS chain_name, c.note FROM roadshow_calendar c"
        " JOIN chains ch ON ch.code = c.chain_code WHERE c.year = $1 ORDER BY c.month",
        year,
    )
    return [msgspec.convert(dict(r), s.CalendarEntry) for r in rows]


async def set_calendar_month(conn: Conn, year: int, month: s.CalendarMonth) -> None:
    await conn.execute(
        "INSERT INTO roadshow_calendar (year, month, chain_code, note) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (year, month) DO UPDATE SET chain_code = EXCLUDED.chain_code, note = EXCLUDED.note,"
        " updated_at = now()",
        year,
        month.month,
        month.chain,
        month.note,
    )


async def calendar_chain(conn: Conn, year: int, month: int) -> str | None:
    chain: str | None = await conn.fetchval(
        "SELECT chain_code FROM roadshow_calendar WHERE year = $1 AND month = $2", year, month
    )
    return chain


async def chain_names(conn: Conn, codes: list[str]) -> dict[str, str]:
    rows = await conn.fetch("SELECT code, name_zh FROM chains WHERE code = ANY($1::text[])", codes)
    return {r["code"]: r["name_zh"] for r in rows}


# --- events -----------------------------------------------------------------------------------------------

_EVENT_COLUMNS = """
e.id, e.title, e.chain_code AS chain, ch.name_zh AS chain_name, e.event_date, e.city, e.online, e.venue,
e.pitch_start, e.pitch_count, e.pitch_minutes, e.slot_minutes, e.morning_start, e.morning_slots,
e.afternoon_start, e.afternoon_slots, e.tables, e.floor_k, e.fairness, e.status, e.published_version,
e.created_at, e.updated_at
"""
_EVENT_FROM = "roadshow_events e JOIN chains ch ON ch.code = e.chain_code"

#: The columns an EventCreate writes, in order.
EVENT_FIELDS = (
    "title",
    "chain_code",
    "event_date",
    "city",
    "online",
    "venue",
    "pitch_start",
    "pitch_count",
    "pitch_minutes",
    "slot_minutes",
    "morning_start",
    "morning_slots",
    "afternoon_start",
    "afternoon_slots",
    "tables",
    "floor_k",
    "fairness",
)


def event_from_row(row: asyncpg.Record, english: bool = False) -> s.Event:
    data = dict(row)
    data["sessions"] = [x for x, n in (("am", data["morning_slots"]), ("pm", data["afternoon_slots"])) if n]
    data["slots"] = data["morning_slots"] + data["afternoon_slots"]
    data["status_name"] = status_name(data["status"], english)
    return msgspec.convert(data, s.Event)


def event_day(event: s.Event) -> Day:
    return Day(
        event_date=event.event_date,
        pitch_start=event.pitch_start,
        pitch_count=event.pitch_count,
        pitch_minutes=event.pitch_minutes,
        slot_minutes=event.slot_minutes,
        morning_start=event.morning_start,
        morning_slots=event.morning_slots,
        afternoon_start=event.afternoon_start,
        afternoon_slots=event.afternoon_slots,
    )


def event_columns(data: s.EventCreate, chain: str, title: str) -> list[Any]:
    """Column values (in :data:`EVENT_FIELDS` order) of a validated EventCreate."""
    return [
        title,
        chain,
        data.event_date,
        data.city,
        data.online,
        data.venue,
        data.pitch_start,
        data.pitch_count,
        data.pitch_minutes,
        data.slot_minutes,
        data.morning_start if data.morning_slots else None,
        data.morning_slots or 0,
        data.afternoon_start if data.afternoon_slots else None,
        data.afternoon_slots or 0,
        data.tables,
        data.floor_k,
        data.fairness,
    ]


async def insert_event(conn: Conn, values: list[Any], created_by: uuid.UUID | None) -> uuid.UUID:
    cols = ", ".join((*EVENT_FIELDS, "created_by"))
    params = ", ".join(f"${i}" for i in range(1, len(EVENT_FIELDS) + 2))
    event_id: uuid.UUID = await conn.fetchval(
        f"INSERT INTO roadshow_events ({cols}) VALUES ({params}) RETURNING id", *values, created_by
    )
    return event_id


async def update_event(conn: Conn, event_id: uuid.UUID, values: list[Any]) -> None:
    sets = ", ".join(f"{c} = ${i}" for i, c in enumerate(EVENT_FIELDS, 2))
    await conn.execute(f"UPDATE roadshow_events SET {sets}, updated_at = now() WHERE id = $1", event_id, *values)


async def get_event(conn: Conn, event_id: uuid.UUID, *, lock: bool = False, english: bool = False) -> s.Event | None:
    suffix = " FOR UPDATE OF e" if lock else ""
    row = await conn.fetchrow(f"SELECT {_EVENT_COLUMNS} FROM {_EVENT_FROM} WHERE e.id = $1{suffix}", event_id)
    return None if row is None else event_from_row(row, english)


async def list_events(
    conn: Conn,
    *,
    year: int | None,
    status: str | None,
    include_drafts: bool,
    after: list[Any] | None,
    limit: int,
    english: bool = False,
) -> list[s.Event]:
    where: list[str] = ["TRUE"]
    args: list[Any] = []
    if year is not None:
        args.append(year)
        where.append(f"extract(year FROM e.event_date) = ${len(args)}")
    if status is not None:
        args.append(status)
        where.append(f"e.status = ${len(args)}")
    if not include_drafts:
        where.append("e.status <> 'draft'")
    if after is not None:
        args += [date.fromisoformat(after[0]), uuid.UUID(after[1])]
        where.append(f"(e.event_date, e.id) > (${len(args) - 1}, ${len(args)})")
    args.append(limit + 1)
    rows = await conn.fetch(
        f"SELECT {_EVENT_COLUMNS} FROM {_EVENT_FROM} WHERE {' AND '.join(where)}"
        f" ORDER BY e.event_date, e.id LIMIT ${len(args)}",
        *args,
    )
    return [event_from_row(r, english) for r in rows]


async def set_status(conn: Conn, event_id: uuid.UUID, status: str, *, bump_published: bool = False) -> None:
    await conn.execute(
        "UPDATE roadshow_events SET status = $2, updated_at = now(),"
        " published_version = published_version + CASE WHEN $3 THEN 1 ELSE 0 END WHERE id = $1",
        event_id,
        status,
        bump_published,
    )


async def add_run(
    conn: Conn, event_id: uuid.UUID, kind: str, status: str, figures: dict[str, Any], actor: uuid.UUID | None
) -> None:
    """Append one pairing/schedule/publish run (append-only)."""
    await conn.execute(
        "INSERT INTO roadshow_runs (event_id, kind, status, figures, actor_org) VALUES ($1, $2, $3, $4, $5)",
        event_id,
        kind,
        status,
        figures,
        actor,
    )
