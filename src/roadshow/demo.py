"""Roadshow demo data: this year's calendar and one open event next month with invitations, sign-ups and wishes.

Call :func:`load_roadshow_demo` after the foundation's demo (``ipledge.demo.load_demo``); it is
idempotent and leaves the event ``open`` so a walk-through can close, pair, schedule and publish it.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time

from ipledge.db.types import Conn, Pool
from roadshow import ports, store
from roadshow import schemas as s
from roadshow import store_people as sp
from roadshow.readiness import Readiness, rank_readiness

DEMO_MARK = "（演示）"
_LOCK = 7005


def _next_month(today: date) -> date:
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return date(year, month, 18)


async def _calendar(conn: Conn, year: int) -> dict[int, str]:
    chains = [r[0] for r in await conn.fetch("SELECT code FROM chains ORDER BY position, code")]
    existing = {m.month: m.chain for m in await store.get_calendar(conn, year)}
    for month in range(1, 13):
        if month not in existing and chains:
            entry = s.CalendarMonth(month=month, chain=chains[(month - 1) % len(chains)])
            await store.set_calendar_month(conn, year, entry)
            existing[month] = entry.chain
    return existing


async def _pitching(conn: Conn, chain: str, limit: int) -> list[Readiness]:
    """Admitted pool members of the chain; without a pool yet, the chain's consenting enterprises."""
    ids = await ports.pool_members(conn, chain)
    if not ids:
        rows = await conn.fetch(
            "SELECT organisation_id FROM enterprises WHERE chain_code = $1 AND consent_share ORDER BY organisation_id",
            chain,
        )
        ids = [r[0] for r in rows]
    facts = await sp.readiness_facts(conn, ids, await ports.value_degrees(conn, ids))
    return rank_readiness(facts)[:limit]


async def load_roadshow_demo(pool: Pool, *, today: date | None = None, seed: int = 5) -> bool:
    """Load the calendar for the year and next month's demo event (idempotent).

    Returns:
        True when the event was created now, False when it was there already.
    """
    today = today or datetime.now(UTC).date()
    when = _next_month(today)
    rng = random.Random(seed)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK)
        await _calendar(conn, today.year)
        calendar = await _calendar(conn, when.year)
        if await conn.fetchval("SELECT 1 FROM roadshow_events WHERE title LIKE '%' || $1", DEMO_MARK):
            return False
        chain = calendar[when.month]
        name = (await store.chain_names(conn, [chain]))[chain]
        data = s.EventCreate(
            event_date=when,
            chain=chain,
            title=f"{when.year}年{when.month}月“一月一链”{name}产业链路演{DEMO_MARK}",
            city="深圳",
            venue="深圳会展中心 5 号馆",
            tables=8,
            pitch_count=12,
            pitch_minutes=6,
            pitch_start=time(9, 0),
            morning_start=time(10, 30),
            morning_slots=5,
            afternoon_slots=8,
            slot_minutes=20,
            floor_k=3,
            fairness=2,
        )
        event_id = await store.insert_event(conn, store.event_columns(data, chain, data.title or ""), None)
        ranked = await _pitching(conn, chain, data.pitch_count)
        enterprises = [uuid.UUID(r.enterprise_id) for r in ranked]
        await sp.insert_invitations(
            conn, event_id, [(e, r.score, r.rank) for e, r in zip(enterprises, ranked, strict=True)]
        )
        for e in enterprises:
            await sp.answer_invitation(conn, event_id, e, "accepted", rng.randint(3, 6), [], [])
        investors = await conn.fetch(
            "SELECT id FROM organisations WHERE kind IN ('fund', 'bank') AND status = 'active'"
            " ORDER BY kind DESC, credit_code LIMIT 12"
        )
        for row in investors:
            signup = s.SignupCreate(max_meetings=rng.randint(4, 8))
            signup_id = await sp.insert_signup(conn, event_id, row[0], signup, [])
            wishes = [
                s.PreferenceItem(enterprise_id=e, wish=rng.choice(["must_meet", "meet", "meet", "no_thanks"]))
                for e in rng.sample(enterprises, k=min(len(enterprises), rng.randint(0, 5)))
            ]
            await sp.replace_preferences(conn, signup_id, wishes)
        await store.set_status(conn, event_id, "open")
    return True
