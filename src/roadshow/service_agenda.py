"""After scheduling: agendas per participant (JSON, ICS, printable page), outcomes per pair, and event statistics."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from typing import Any

import msgspec

from ipledge.auth import Principal
from ipledge.db.types import Conn, Pool
from ipledge.errors import Conflict, InvalidInput, NotFound
from ipledge.registry import store as registry
from ipledge.registry.pagination import encode_cursor
from roadshow import schemas as s
from roadshow import store_meetings as sm
from roadshow import store_people as sp
from roadshow.scheduling.checker import count_breaks
from roadshow.service import load_event
from roadshow.store import event_day
from roadshow.timetable import pitch_block, slot_span, table_label


async def list_meetings(
    pool: Pool, principal: Principal, event_id: uuid.UUID, after: list[Any] | None, limit: int
) -> s.MeetingPage:
    """Operators see every meeting; an enterprise, fund or bank only its own (and only once published)."""
    event = await load_event(pool, principal, event_id)
    only = None if principal.is_operator else principal.organisation_id
    if only is not None and event.published_version == 0:
        return s.MeetingPage(items=[], next_cursor=None)
    rows = await sm.list_meetings(pool, event_id, org_id=only, after=after, limit=limit)
    more = len(rows) > limit
    rows = rows[:limit]
    if only is not None:  # participants see the published placement, not the operator's draft
        rows = [_as_published(m, only) for m in rows if m.published_slot is not None]
    nxt = encode_cursor([str(rows[-1].enterprise_id), str(rows[-1].id)]) if more and rows else None
    return s.MeetingPage(items=rows, next_cursor=nxt)


def _as_published(m: s.Meeting, viewer: uuid.UUID) -> s.Meeting:
    """A meeting as a participant sees it: the published placement; the investor's outcome record is its own."""
    hidden: dict[str, Any] = {}
    if m.organisation_id != viewer:  # the enterprise side does not read the investor's intention, amount, note
        hidden = {"intention": None, "amount": None, "outcome_note": ""}
    return msgspec.structs.replace(m, slot=m.published_slot, table=m.published_table, score=0.0, fit=None, **hidden)


async def _organisation(conn: Conn, org_id: uuid.UUID) -> tuple[str, str]:
    row = await conn.fetchrow("SELECT name, kind FROM organisations WHERE id = $1", org_id)
    if row is None:
        raise NotFound("机构不存在 / organisation not found")
    return row["name"], row["kind"]


async def agenda(
    pool: Pool, principal: Principal, event_id: uuid.UUID, organisation_id: uuid.UUID | None, english: bool = False
) -> s.Agenda:
    """One participant's agenda: the published schedule for participants, the working draft for operators."""
    event = await load_event(pool, principal, event_id)
    if principal.is_operator:
        if organisation_id is None:
            raise InvalidInput("organisation_id", "运营方需指定机构 / operators name the organisation")
        org_id, draft = organisation_id, True
    else:
        if organisation_id is not None and organisation_id != principal.organisation_id:
            raise NotFound("日程不存在 / agenda not found")
        org_id, draft = principal.organisation_id, False
        if event.published_version == 0:
            raise Conflict("日程尚未发布 / the agenda has not been published yet")
    name, kind = await _organisation(pool, org_id)
    meetings = await sm.list_meetings(pool, event_id, org_id=org_id)
    if not meetings and not await _takes_part(pool, event_id, org_id, kind):
        raise NotFound("该机构未参加本次活动 / the organisation does not take part in this event")
    day = event_day(event)
    items = []
    for m in meetings:
        slot, table = (m.slot, m.table) if draft else (m.published_slot, m.published_table)
        if slot is None or table is None:
            continue
        start, end = slot_span(day, slot)
        mine_is_enterprise = m.enterprise_id == org_id
        items.append(
            s.AgendaItem(
                meeting_id=m.id,
                slot=slot,
                table=table,
                place=table_label(event.online, table, english),
                start=start,
                end=end,
                counterpart_id=m.organisation_id if mine_is_enterprise else m.enterprise_id,
                counterpart_name=m.investor_name if mine_is_enterprise else m.enterprise_name,
                investor_label=m.investor_label,
            )
        )
    items.sort(key=lambda i: (i.slot, i.table))
    pitch_start, pitch_end = pitch_block(day)
    return s.Agenda(
        event_id=event.id,
        title=event.title,
        event_date=event.event_date,
        city=event.city,
        online=event.online,
        venue=event.venue,
        organisation_id=org_id,
        organisation_name=name,
        role="enterprise" if kind == "enterprise" else "investor",
        version="draft" if draft else "published",
        pitch_start=pitch_start,
        pitch_end=pitch_end,
        items=items,
    )


async def _takes_part(conn: Conn, event_id: uuid.UUID, org_id: uuid.UUID, kind: str) -> bool:
    if kind == "enterprise":
        return await sp.get_invitation(conn, event_id, org_id) is not None
    return bool(await sp.list_signups(conn, event_id, org_id=org_id, after=None, limit=1))


async def record_outcome(
    pool: Pool, principal: Principal, event_id: uuid.UUID, meeting_id: uuid.UUID, data: s.OutcomeUpdate
) -> s.Meeting:
    """Attendance, intention and amount of one meeting (the operator, or the meeting's investor)."""
    async with pool.acquire() as conn, conn.transaction():
        event = await load_event(conn, principal, event_id, lock=True)
        meeting = await sm.get_meeting(conn, event_id, meeting_id)
        if meeting is None or not (principal.is_operator or meeting.organisation_id == principal.organisation_id):
            raise NotFound("洽谈不存在 / meeting not found")
        if event.status not in ("published", "completed") or meeting.published_slot is None:
            raise Conflict("只能为已发布的洽谈记录结果 / outcomes are recorded for published meetings")
        await sm.set_outcome(conn, meeting_id, data)
        detail = {"attended": data.attended, "intention": data.intention, "amount": data.amount}
        await registry.audit(conn, principal, "roadshow.meeting.outcome", "roadshow_meeting", str(meeting_id), detail)
        found = await sm.get_meeting(conn, event_id, meeting_id)
        assert found is not None
        # The investor sees the meeting as in its own listing: not the pairing's score and fit (they follow from
        # the enterprise's private ranking of the investors).
        return found if principal.is_operator else _as_published(found, principal.organisation_id)


async def stats(pool: Pool, principal: Principal, event_id: uuid.UUID) -> s.EventStats:
    """Counts over invitations, sign-ups, wishes, meetings, breaks and outcomes."""
    event = await load_event(pool, principal, event_id)
    raw = await sm.counts(pool, event_id)
    meetings = await sm.list_meetings(pool, event_id)
    accepted = await sp.accepted_enterprises(pool, event_id)
    per_enterprise = Counter(m.enterprise_id for m in meetings)
    counts = [per_enterprise.get(e, 0) for e, _, _ in accepted]
    below = sum(1 for (e, cap, _), n in zip(accepted, counts, strict=True) if n < min(cap, event.floor_k))
    slots: dict[str, list[int]] = defaultdict(list)
    for m in meetings:
        if m.slot is not None:
            slots[f"e:{m.enterprise_id}"].append(m.slot)
            slots[f"s:{m.signup_id}"].append(m.slot)
    breaks = [count_breaks(v) for v in slots.values()]
    recorded = [m for m in meetings if m.attended is not None]
    return s.EventStats(
        event_id=event_id,
        status=event.status,
        invited=raw["invited"],
        accepted=raw["accepted"],
        declined=raw["declined"],
        signups=raw["signups"],
        institutions=raw["institutions"],
        wishes={w: raw["wishes"].get(w, 0) for w in ("must_meet", "meet", "no_thanks")},
        meetings=len(meetings),
        scheduled=sum(1 for m in meetings if m.slot is not None and m.table is not None),
        locked=sum(1 for m in meetings if m.locked),
        meetings_per_enterprise_min=min(counts, default=0),
        meetings_per_enterprise_max=max(counts, default=0),
        meetings_per_enterprise_avg=round(sum(counts) / len(counts), 2) if counts else 0.0,
        below_floor=below,
        total_breaks=sum(breaks),
        max_breaks=max(breaks, default=0),
        recorded=len(recorded),
        attended=sum(1 for m in recorded if m.attended),
        no_shows=sum(1 for m in recorded if not m.attended),
        intentions=dict(Counter(m.intention for m in recorded if m.intention is not None)),
        intended_amount=round(sum(m.amount or 0.0 for m in recorded), 2),
    )
