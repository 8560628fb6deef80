"""Calendar and event services: create, edit, list, and the life-cycle moves (open, close, complete)."""

from __future__ import annotations

import uuid
from datetime import time
from typing import Any

import msgspec

from ipledge.auth import Principal
from ipledge.db.types import Conn, Pool
from ipledge.errors import Conflict, InvalidInput, NotFound, msgspec_field_error
from ipledge.registry import store as registry
from ipledge.registry.pagination import encode_cursor
from roadshow import schemas as s
from roadshow import store
from roadshow.lifecycle import Action, TransitionError, transition


async def get_calendar(pool: Pool, year: int) -> s.Calendar:
    return s.Calendar(year=year, months=await store.get_calendar(pool, year))


async def set_calendar(pool: Pool, principal: Principal, year: int, data: s.CalendarUpdate) -> s.Calendar:
    """Map months of a year to chains (the months listed; the others keep theirs)."""
    known = await store.chain_names(pool, [m.chain for m in data.months])
    for i, month in enumerate(data.months):
        if month.chain not in known:
            raise InvalidInput(f"months[{i}].chain", f"未知产业链 {month.chain!r} / unknown chain")
    async with pool.acquire() as conn, conn.transaction():
        for month in data.months:
            await store.set_calendar_month(conn, year, month)
        detail = {"months": {m.month: m.chain for m in data.months}}
        await registry.audit(conn, principal, "roadshow.calendar.set", "roadshow_calendar", str(year), detail)
    return await get_calendar(pool, year)


async def load_event(
    conn: Conn, principal: Principal, event_id: uuid.UUID, *, lock: bool = False, english: bool = False
) -> s.Event:
    """The event, or 404 (drafts are visible to operators only)."""
    event = await store.get_event(conn, event_id, lock=lock, english=english)
    if event is None or (event.status == "draft" and not principal.is_operator):
        raise NotFound("路演活动不存在 / event not found")
    return event


def move(event: s.Event, action: Action) -> str:
    """The event's next status, or 409 naming why the move is refused."""
    try:
        return transition(event.status, action)
    except TransitionError as exc:
        raise Conflict(str(exc)) from None


async def _resolve_chain(conn: Conn, data: s.EventCreate) -> tuple[str, str]:
    chain = data.chain or await store.calendar_chain(conn, data.event_date.year, data.event_date.month)
    if chain is None:
        raise InvalidInput(
            "chain", "该月份未在年度日历中设置产业链 / no chain given and none in the calendar for the month"
        )
    names = await store.chain_names(conn, [chain])
    if chain not in names:
        raise InvalidInput("chain", f"未知产业链 {chain!r} / unknown chain")
    title = data.title or f"{data.event_date.year}年{data.event_date.month}月“一月一链”{names[chain]}产业链路演"
    return chain, title


async def create_event(pool: Pool, principal: Principal, data: s.EventCreate) -> s.Event:
    async with pool.acquire() as conn, conn.transaction():
        chain, title = await _resolve_chain(conn, data)
        event_id = await store.insert_event(conn, store.event_columns(data, chain, title), principal.organisation_id)
        await registry.audit(
            conn, principal, "roadshow.event.create", "roadshow_event", str(event_id), {"chain": chain}
        )
        return await load_event(conn, principal, event_id)


async def update_event(pool: Pool, principal: Principal, event_id: uuid.UUID, data: s.EventUpdate) -> s.Event:
    """Change an event before pairing; the merged event is validated as a whole."""
    async with pool.acquire() as conn, conn.transaction():
        event = await load_event(conn, principal, event_id, lock=True)
        if event.status not in ("draft", "open", "closed"):
            raise Conflict("配对后不能修改活动设置 / an event cannot be edited after pairing")
        merged = _merge(event, data)
        values = store.event_columns(merged, event.chain, merged.title or event.title)
        await store.update_event(conn, event_id, values)
        changed = msgspec.to_builtins(data)
        await registry.audit(conn, principal, "roadshow.event.update", "roadshow_event", str(event_id), changed)
        return await load_event(conn, principal, event_id)


def _merge(event: s.Event, data: s.EventUpdate) -> s.EventCreate:
    """The event as an EventCreate with the update's given (non-null) fields applied."""
    keys: tuple[str, ...] = ("event_date", "tables", "title", "city", "online", "venue", "pitch_start", "pitch_count")
    keys += ("pitch_minutes", "sessions", "slot_minutes", "floor_k", "fairness", "morning_start")
    base: dict[str, Any] = {k: getattr(event, k) for k in keys}
    base |= {
        "chain": event.chain,
        "morning_slots": event.morning_slots or None,
        "afternoon_start": event.afternoon_start or time(14, 0),
        "afternoon_slots": event.afternoon_slots or None,
    }
    base |= {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
    try:
        return msgspec.convert(msgspec.to_builtins(base), s.EventCreate)
    except msgspec.ValidationError as exc:
        err = msgspec_field_error(exc)
        raise InvalidInput(err.field, err.message) from None


async def list_events(
    pool: Pool,
    principal: Principal,
    *,
    year: int | None,
    status: str | None,
    after: list[Any] | None,
    limit: int,
    english: bool = False,
) -> s.EventPage:
    rows = await store.list_events(
        pool, year=year, status=status, include_drafts=principal.is_operator, after=after, limit=limit, english=english
    )
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor([rows[-1].event_date.isoformat(), str(rows[-1].id)]) if more else None
    return s.EventPage(items=rows, next_cursor=nxt)


async def change_status(pool: Pool, principal: Principal, event_id: uuid.UUID, action: Action) -> s.Event:
    """A plain life-cycle move (open, close, reopen, complete), audited."""
    async with pool.acquire() as conn, conn.transaction():
        event = await load_event(conn, principal, event_id, lock=True)
        target = move(event, action)
        if action == "close" and not await _has_pitches(conn, event_id):
            raise Conflict("尚无企业接受邀请，不能截止报名 / no enterprise has accepted an invitation yet")
        await store.set_status(conn, event_id, target)
        detail = {"from": event.status, "to": target}
        await registry.audit(conn, principal, f"roadshow.event.{action}", "roadshow_event", str(event_id), detail)
        return await load_event(conn, principal, event_id)


async def _has_pitches(conn: Conn, event_id: uuid.UUID) -> bool:
    from roadshow.store_people import count_accepted

    return await count_accepted(conn, event_id) > 0
