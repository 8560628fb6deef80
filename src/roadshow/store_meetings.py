"""SQL for meetings: pairing results, schedule placements, publication and outcomes."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import msgspec

from ipledge.db.types import Conn
from roadshow import schemas as s

_COLUMNS = """
m.id, m.event_id, m.enterprise_id, eo.name AS enterprise_name, m.signup_id, g.organisation_id,
io.name AS investor_name, g.label AS investor_label, m.source, m.score::float8 AS score, m.fit::float8 AS fit,
m.session, m.slot, m.table_no AS table, m.locked, m.published_slot, m.published_table, m.attended, m.intention,
m.amount::float8 AS amount, m.outcome_note
"""
_FROM = """
roadshow_meetings m JOIN organisations eo ON eo.id = m.enterprise_id
JOIN roadshow_signups g ON g.id = m.signup_id JOIN organisations io ON io.id = g.organisation_id
"""


def _meeting(row: asyncpg.Record) -> s.Meeting:
    return msgspec.convert(dict(row), s.Meeting)


class PairedMeeting(msgspec.Struct, frozen=True):
    enterprise_id: uuid.UUID
    signup_id: uuid.UUID
    score: float
    fit: float | None


async def replace_paired(conn: Conn, event_id: uuid.UUID, meetings: list[PairedMeeting]) -> None:
    """Replace the event's meetings with a fresh pairing (only before any schedule exists)."""
    await conn.execute("DELETE FROM roadshow_meetings WHERE event_id = $1", event_id)
    await conn.execute(
        "INSERT INTO roadshow_meetings (event_id, enterprise_id, signup_id, source, score, fit)"
        " SELECT $1, x.e, x.g, 'pairing', x.s, x.f FROM unnest($2::uuid[], $3::uuid[], $4::float8[], $5::float8[])"
        " AS x(e, g, s, f)",
        event_id,
        [m.enterprise_id for m in meetings],
        [m.signup_id for m in meetings],
        [m.score for m in meetings],
        [m.fit for m in meetings],
    )


async def insert_meeting(conn: Conn, event_id: uuid.UUID, data: s.MeetingCreate) -> uuid.UUID:
    meeting_id: uuid.UUID = await conn.fetchval(
        "INSERT INTO roadshow_meetings (event_id, enterprise_id, signup_id, source, session, slot, locked)"
        " VALUES ($1, $2, $3, 'operator', $4, $5, $6) RETURNING id",
        event_id,
        data.enterprise_id,
        data.signup_id,
        data.session,
        data.slot,
        data.slot is not None,
    )
    return meeting_id


async def get_meeting(conn: Conn, event_id: uuid.UUID, meeting_id: uuid.UUID) -> s.Meeting | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM {_FROM} WHERE m.event_id = $1 AND m.id = $2", event_id, meeting_id
    )
    return None if row is None else _meeting(row)


async def list_meetings(
    conn: Conn,
    event_id: uuid.UUID,
    *,
    org_id: uuid.UUID | None = None,
    after: list[Any] | None = None,
    limit: int | None = None,
) -> list[s.Meeting]:
    """Meetings of an event (of one organisation, either side, when ``org_id`` is set), by enterprise then id."""
    args: list[Any] = [event_id, org_id]
    cond = ""
    if after is not None:
        args += [uuid.UUID(after[0]), uuid.UUID(after[1])]
        cond = " AND (m.enterprise_id, m.id) > ($3, $4)"
    tail = ""
    if limit is not None:
        args.append(limit + 1)
        tail = f" LIMIT ${len(args)}"
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM {_FROM} WHERE m.event_id = $1"
        f" AND ($2::uuid IS NULL OR m.enterprise_id = $2 OR g.organisation_id = $2){cond}"
        f" ORDER BY m.enterprise_id, m.id{tail}",
        *args,
    )
    return [_meeting(r) for r in rows]


async def update_lock(conn: Conn, meeting_id: uuid.UUID, locked: bool, slot: int | None, session: str | None) -> None:
    await conn.execute(
        "UPDATE roadshow_meetings SET locked = $2, slot = CASE WHEN $2 THEN coalesce($3, slot) ELSE slot END,"
        " table_no = CASE WHEN $2 AND $3 IS NOT NULL AND $3 IS DISTINCT FROM slot THEN NULL ELSE table_no END,"
        " session = coalesce($4, session), updated_at = now() WHERE id = $1",
        meeting_id,
        locked,
        slot,
        session,
    )


async def delete_meeting(conn: Conn, meeting_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM roadshow_meetings WHERE id = $1", meeting_id)


async def place_meetings(conn: Conn, placements: list[tuple[uuid.UUID, int, int]]) -> None:
    """Write each meeting's solved (slot, table)."""
    await conn.execute(
        "UPDATE roadshow_meetings m SET slot = x.slot, table_no = x.t, updated_at = now()"
        " FROM unnest($1::uuid[], $2::int[], $3::int[]) AS x(id, slot, t) WHERE m.id = x.id",
        [p[0] for p in placements],
        [p[1] for p in placements],
        [p[2] for p in placements],
    )


async def publish_meetings(conn: Conn, event_id: uuid.UUID) -> None:
    """Copy the working schedule to the published one."""
    await conn.execute(
        "UPDATE roadshow_meetings SET published_slot = slot, published_table = table_no, updated_at = now()"
        " WHERE event_id = $1",
        event_id,
    )


async def set_outcome(conn: Conn, meeting_id: uuid.UUID, data: s.OutcomeUpdate) -> None:
    await conn.execute(
        "UPDATE roadshow_meetings SET attended = $2, intention = $3, amount = $4, outcome_note = $5, updated_at = now()"
        " WHERE id = $1",
        meeting_id,
        data.attended,
        data.intention,
        data.amount,
        data.note,
    )


async def investor_organisations(conn: Conn, event_id: uuid.UUID) -> list[uuid.UUID]:
    """Banks and funds with at least one meeting in the event."""
    rows = await conn.fetch(
        "SELECT DISTINCT g.organisation_id FROM roadshow_meetings m JOIN roadshow_signups g ON g.id = m.signup_id"
        " WHERE m.event_id = $1 ORDER BY 1",
        event_id,
    )
    return [r[0] for r in rows]


async def counts(conn: Conn, event_id: uuid.UUID) -> dict[str, Any]:
    """Raw counters for the event statistics."""
    row = await conn.fetchrow(
        """
        SELECT
          (SELECT count(*) FROM roadshow_invitations WHERE event_id = $1)::int AS invited,
          (SELECT count(*) FROM roadshow_invitations WHERE event_id = $1 AND status = 'accepted')::int AS accepted,
          (SELECT count(*) FROM roadshow_invitations WHERE event_id = $1 AND status = 'declined')::int AS declined,
          (SELECT count(*) FROM roadshow_signups WHERE event_id = $1)::int AS signups,
          (SELECT count(DISTINCT organisation_id) FROM roadshow_signups WHERE event_id = $1)::int AS institutions
        """,
        event_id,
    )
    wishes = await conn.fetch(
        "SELECT p.wish, count(*)::int FROM roadshow_preferences p JOIN roadshow_signups g ON g.id = p.signup_id"
        " WHERE g.event_id = $1 GROUP BY p.wish",
        event_id,
    )
    return {**dict(row or {}), "wishes": {r[0]: r[1] for r in wishes}}
