"""SQL for who takes part: invitations, investor sign-ups and their preferences."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import msgspec

from ipledge.db.types import Conn
from roadshow import schemas as s
from roadshow.readiness import ReadinessFacts
from roadshow.timetable import available_from

# --- readiness facts --------------------------------------------------------------------------------------

_FACTS = """
SELECT e.organisation_id AS id, e.financing_need::float8 AS need,
       (SELECT (v.profile->>'revenue')::float8 FROM enterprise_versions v
         WHERE v.organisation_id = e.organisation_id AND v.version < e.version AND v.profile ? 'revenue'
           AND (v.profile->>'revenue') ~ '^[0-9.]+$'
         ORDER BY v.version DESC LIMIT 1) AS previous_revenue,
       e.revenue::float8 AS revenue
FROM enterprises e WHERE e.organisation_id = ANY($1::uuid[])
"""


async def readiness_facts(conn: Conn, ids: list[uuid.UUID], degrees: dict[uuid.UUID, float]) -> list[ReadinessFacts]:
    """Growth (revenue against the previous profile version), financing need and value degree per enterprise."""
    facts = []
    for r in await conn.fetch(_FACTS, ids):
        prev, now = r["previous_revenue"], r["revenue"]
        growth = (now - prev) / prev if prev and now is not None and prev > 0 else None
        facts.append(
            ReadinessFacts(
                enterprise_id=str(r["id"]), value_degree=degrees.get(r["id"]), growth=growth, financing_need=r["need"]
            )
        )
    return facts


async def enterprises_exist(conn: Conn, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    rows = await conn.fetch("SELECT organisation_id FROM enterprises WHERE organisation_id = ANY($1::uuid[])", ids)
    return {r[0] for r in rows}


# --- invitations ------------------------------------------------------------------------------------------

_INV_COLUMNS = """
i.event_id, i.enterprise_id, o.name AS enterprise_name, o.credit_code, i.readiness::float8 AS readiness,
i.readiness_rank, i.status, i.max_meetings, i.unavailable, i.investor_ranking, i.updated_at,
e.morning_slots + e.afternoon_slots AS slots
"""
_INV_FROM = (
    "roadshow_invitations i JOIN organisations o ON o.id = i.enterprise_id JOIN roadshow_events e ON e.id = i.event_id"
)


def _invitation(row: asyncpg.Record) -> s.Invitation:
    data = dict(row)
    data["credit_code"] = data["credit_code"].strip()
    data["available_slots"] = available_from(data.pop("unavailable"), data.pop("slots"))
    return msgspec.convert(data, s.Invitation)


async def insert_invitations(conn: Conn, event_id: uuid.UUID, rows: list[tuple[uuid.UUID, float, int]]) -> int:
    """Invite (enterprise, readiness, rank) rows; enterprises already invited are left as they are."""
    result: str = await conn.execute(
        "INSERT INTO roadshow_invitations (event_id, enterprise_id, readiness, readiness_rank)"
        " SELECT $1, x.id, x.score, x.rank FROM unnest($2::uuid[], $3::float8[], $4::int[]) AS x(id, score, rank)"
        " ON CONFLICT (event_id, enterprise_id) DO NOTHING",
        event_id,
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
    )
    return int(result.split()[-1])


async def list_invitations(
    conn: Conn, event_id: uuid.UUID, *, enterprise_id: uuid.UUID | None, after: list[Any] | None, limit: int
) -> list[s.Invitation]:
    args: list[Any] = [event_id, enterprise_id]
    cond = ""
    if after is not None:
        args += [int(after[0]), uuid.UUID(after[1])]
        cond = " AND (i.readiness_rank, i.enterprise_id) > ($3, $4)"
    args.append(limit + 1)
    rows = await conn.fetch(
        f"SELECT {_INV_COLUMNS} FROM {_INV_FROM} WHERE i.event_id = $1 AND ($2::uuid IS NULL OR i.enterprise_id = $2)"
        f"{cond} ORDER BY i.readiness_rank, i.enterprise_id LIMIT ${len(args)}",
        *args,
    )
    return [_invitation(r) for r in rows]


async def get_invitation(
    conn: Conn, event_id: uuid.UUID, enterprise_id: uuid.UUID, *, lock: bool = False
) -> s.Invitation | None:
    suffix = " FOR UPDATE OF i" if lock else ""
    row = await conn.fetchrow(
        f"SELECT {_INV_COLUMNS} FROM {_INV_FROM} WHERE i.event_id = $1 AND i.enterprise_id = $2{suffix}",
        event_id,
        enterprise_id,
    )
    return None if row is None else _invitation(row)


async def answer_invitation(
    conn: Conn,
    event_id: uuid.UUID,
    enterprise_id: uuid.UUID,
    status: str,
    max_meetings: int | None,
    unavailable: list[int],
    ranking: list[uuid.UUID],
) -> None:
    await conn.execute(
        "UPDATE roadshow_invitations SET status = $3, max_meetings = $4, unavailable = $5, investor_ranking = $6,"
        " updated_at = now() WHERE event_id = $1 AND enterprise_id = $2",
        event_id,
        enterprise_id,
        status,
        max_meetings,
        unavailable,
        ranking,
    )


async def count_accepted(conn: Conn, event_id: uuid.UUID) -> int:
    n: int = await conn.fetchval(
        "SELECT count(*) FROM roadshow_invitations WHERE event_id = $1 AND status = 'accepted'", event_id
    )
    return n


async def pitch_list(conn: Conn, event_id: uuid.UUID) -> list[s.Pitch]:
    rows = await conn.fetch(
        'SELECT row_number() OVER (ORDER BY i.readiness_rank, i.enterprise_id)::int AS "order", i.enterprise_id,'
        " o.name, o.credit_code, p.name_zh AS province, coalesce(en.business_scope, '') AS business_scope"
        " FROM roadshow_invitations i JOIN organisations o ON o.id = i.enterprise_id"
        " JOIN provinces p ON p.code = o.province_code LEFT JOIN enterprises en ON en.organisation_id = o.id"
        " WHERE i.event_id = $1 AND i.status = 'accepted' ORDER BY 1",
        event_id,
    )
    return [msgspec.convert({**dict(r), "credit_code": r["credit_code"].strip()}, s.Pitch) for r in rows]


# --- sign-ups ---------------------------------------------------------------------------------------------

_SIGNUP_COLUMNS = """
g.id, g.event_id, g.organisation_id, o.name AS organisation_name, o.kind, g.label, g.max_meetings, g.unavailable,
(SELECT count(*) FROM roadshow_preferences p WHERE p.signup_id = g.id)::int AS preferences, g.created_at,
e.morning_slots + e.afternoon_slots AS slots
"""
_SIGNUP_FROM = (
    "roadshow_signups g JOIN organisations o ON o.id = g.organisation_id JOIN roadshow_events e ON e.id = g.event_id"
)


def _signup(row: asyncpg.Record) -> s.Signup:
    data = dict(row)
    data["available_slots"] = available_from(data.pop("unavailable"), data.pop("slots"))
    return msgspec.convert(data, s.Signup)


async def insert_signup(
    conn: Conn, event_id: uuid.UUID, org_id: uuid.UUID, data: s.SignupCreate, unavailable: list[int]
) -> uuid.UUID:
    signup_id: uuid.UUID = await conn.fetchval(
        "INSERT INTO roadshow_signups (event_id, organisation_id, label, max_meetings, unavailable)"
        " VALUES ($1, $2, $3, $4, $5) RETURNING id",
        event_id,
        org_id,
        data.label,
        data.max_meetings,
        unavailable,
    )
    return signup_id


async def get_signup(conn: Conn, signup_id: uuid.UUID) -> s.Signup | None:
    row = await conn.fetchrow(f"SELECT {_SIGNUP_COLUMNS} FROM {_SIGNUP_FROM} WHERE g.id = $1", signup_id)
    return None if row is None else _signup(row)


async def list_signups(
    conn: Conn, event_id: uuid.UUID, *, org_id: uuid.UUID | None, after: list[Any] | None, limit: int
) -> list[s.Signup]:
    args: list[Any] = [event_id, org_id]
    cond = ""
    if after is not None:
        args.append(uuid.UUID(after[0]))
        cond = " AND g.id > $3"
    args.append(limit + 1)
    rows = await conn.fetch(
        f"SELECT {_SIGNUP_COLUMNS} FROM {_SIGNUP_FROM} WHERE g.event_id = $1"
        f" AND ($2::uuid IS NULL OR g.organisation_id = $2){cond} ORDER BY g.id LIMIT ${len(args)}",
        *args,
    )
    return [_signup(r) for r in rows]


async def delete_signup(conn: Conn, signup_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM roadshow_signups WHERE id = $1", signup_id)


async def investors(conn: Conn, event_id: uuid.UUID) -> list[s.Investor]:
    rows = await conn.fetch(
        "SELECT o.id AS organisation_id, o.name, o.kind, count(*)::int AS signups FROM roadshow_signups g"
        " JOIN organisations o ON o.id = g.organisation_id WHERE g.event_id = $1 GROUP BY o.id ORDER BY o.name, o.id",
        event_id,
    )
    return [msgspec.convert(dict(r), s.Investor) for r in rows]


async def replace_preferences(conn: Conn, signup_id: uuid.UUID, items: list[s.PreferenceItem]) -> None:
    await conn.execute("DELETE FROM roadshow_preferences WHERE signup_id = $1", signup_id)
    await conn.execute(
        "INSERT INTO roadshow_preferences (signup_id, enterprise_id, wish)"
        " SELECT $1, x.e, x.w FROM unnest($2::uuid[], $3::text[]) AS x(e, w)",
        signup_id,
        [p.enterprise_id for p in items],
        [p.wish for p in items],
    )


async def get_preferences(conn: Conn, signup_id: uuid.UUID) -> list[s.PreferenceItem]:
    rows = await conn.fetch(
        "SELECT enterprise_id, wish FROM roadshow_preferences WHERE signup_id = $1 ORDER BY enterprise_id", signup_id
    )
    return [s.PreferenceItem(enterprise_id=r[0], wish=r[1]) for r in rows]


async def all_preferences(conn: Conn, event_id: uuid.UUID) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
    """(signup, enterprise, wish) for every preference of the event."""
    rows = await conn.fetch(
        "SELECT p.signup_id, p.enterprise_id, p.wish FROM roadshow_preferences p"
        " JOIN roadshow_signups g ON g.id = p.signup_id WHERE g.event_id = $1",
        event_id,
    )
    return [(r[0], r[1], r[2]) for r in rows]


async def accepted_enterprises(conn: Conn, event_id: uuid.UUID) -> list[tuple[uuid.UUID, int, list[uuid.UUID]]]:
    """(enterprise, max meetings, investor ranking) of every accepted invitation, in readiness order."""
    rows = await conn.fetch(
        "SELECT enterprise_id, max_meetings, investor_ranking FROM roadshow_invitations"
        " WHERE event_id = $1 AND status = 'accepted' ORDER BY readiness_rank, enterprise_id",
        event_id,
    )
    return [(r[0], r[1] or 0, list(r[2])) for r in rows]
