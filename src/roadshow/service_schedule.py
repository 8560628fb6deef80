"""Scheduling an event: meetings → a Problem for the scheduler core → slots and tables (a draft).

Also the operator's edits and locks, re-solves that keep locked and published meetings, and
publication through the outbox.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from typing import Any

import msgspec

from ipledge.auth import Principal
from ipledge.db.types import Conn, Pool
from ipledge.errors import Conflict, InvalidInput, NotFound
from ipledge.registry import store as registry
from roadshow import ports, scheduling_port, store
from roadshow import schemas as s
from roadshow import store_meetings as sm
from roadshow import store_people as sp
from roadshow.scheduling.contract import Meeting as ProblemMeeting
from roadshow.scheduling.contract import Participant, Problem, Result
from roadshow.service import load_event, move
from roadshow.store import event_day


def enterprise_pid(enterprise_id: uuid.UUID) -> str:
    return f"e:{enterprise_id}"


def signup_pid(signup_id: uuid.UUID) -> str:
    return f"s:{signup_id}"


async def build_problem(conn: Conn, event: s.Event, meetings: list[s.Meeting], time_limit_s: float) -> Problem:
    """The event's meetings as a scheduling Problem (locked meetings carry their slot)."""
    day = event_day(event)
    unavailable: dict[str, list[int]] = {}
    for inv in await sp.list_invitations(conn, event.id, enterprise_id=None, after=None, limit=100_000):
        free = inv.available_slots
        unavailable[enterprise_pid(inv.enterprise_id)] = [x for x in range(1, day.slots + 1) if free and x not in free]
    for g in await sp.list_signups(conn, event.id, org_id=None, after=None, limit=100_000):
        free = g.available_slots
        unavailable[signup_pid(g.id)] = [x for x in range(1, day.slots + 1) if free and x not in free]
    used = sorted({p for m in meetings for p in (enterprise_pid(m.enterprise_id), signup_pid(m.signup_id))})
    return Problem(
        slots=day.slots,
        morning_slots=day.split,
        tables=event.tables,
        fairness=event.fairness,
        time_limit_s=time_limit_s,
        participants=[Participant(id=p, unavailable=unavailable.get(p, [])) for p in used],
        meetings=[
            ProblemMeeting(
                id=str(m.id),
                participants=[enterprise_pid(m.enterprise_id), signup_pid(m.signup_id)],
                session=m.session if day.split else "any",  # type: ignore[arg-type]
                slot=m.slot if m.locked else None,
            )
            for m in meetings
        ],
    )


def _fingerprint(event: s.Event, meetings: list[s.Meeting]) -> str:
    """What a solve depends on; a concurrent edit changes it and the stale result is refused."""
    parts = [event.updated_at.isoformat(), event.status]
    parts += [f"{m.id}:{m.locked}:{m.slot if m.locked else ''}:{m.session}" for m in meetings]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


async def schedule_event(
    pool: Pool, principal: Principal, event_id: uuid.UUID, data: s.ScheduleRequest
) -> s.ScheduleSummary:
    """Solve (or re-solve) the schedule: locked meetings keep their slot; published ones are hinted to stay."""
    async with pool.acquire() as conn:
        event = await load_event(conn, principal, event_id)
        move(event, "schedule")
        meetings = await sm.list_meetings(conn, event_id)
        if not meetings:
            raise Conflict("没有需要排期的洽谈 / there are no meetings to schedule")
        problem = await build_problem(conn, event, meetings, data.time_limit_s)
    scheduling_port.check(problem)
    hint: dict[str, int] = {}
    for m in meetings:
        previous = m.published_slot or m.slot
        if previous is not None and not m.locked:
            hint[str(m.id)] = previous
    result = await asyncio.to_thread(scheduling_port.solve, problem, data.time_limit_s, hint)
    async with pool.acquire() as conn, conn.transaction():
        fresh = await load_event(conn, principal, event_id, lock=True)
        target = move(fresh, "schedule")
        if _fingerprint(fresh, await sm.list_meetings(conn, event_id)) != _fingerprint(event, meetings):
            raise Conflict("排期期间洽谈被修改，请重新排期 / the meetings changed while solving; schedule again")
        figures = _figures(result, meetings)
        await store.add_run(conn, event_id, "schedule", result.status, figures, principal.organisation_id)
        if result.status in ("infeasible", "unknown"):
            summary = _summary(fresh.status, result, meetings, figures)
        else:
            await sm.place_meetings(conn, [(uuid.UUID(x.id), x.slot, x.table) for x in result.meetings])
            await store.set_status(conn, event_id, target)
            await registry.audit(conn, principal, "roadshow.schedule", "roadshow_event", str(event_id), figures)
            summary = _summary(target, result, meetings, figures)
    if result.status == "infeasible":
        raise Conflict("在给定约束下无可行排期（已证明）/ no schedule satisfies the constraints (proven)")
    if result.status == "unknown":
        raise Conflict("时限内未找到排期，请延长时限 / no schedule found within the time limit; allow more time")
    return summary


def _figures(result: Result, meetings: list[s.Meeting]) -> dict[str, Any]:
    placed = {x.id: x.slot for x in result.meetings}
    published = [m for m in meetings if m.published_slot is not None]
    kept = sum(1 for m in published if placed.get(str(m.id)) == m.published_slot)
    return {
        "breaks": result.breaks,
        "lower_bound": result.lower_bound,
        "solve_seconds": result.solve_seconds,
        "meetings": len(meetings),
        "locked": sum(1 for m in meetings if m.locked),
        "published_kept": kept,
        "published_moved": len(published) - kept if result.meetings else 0,
    }


def _summary(status: str, result: Result, meetings: list[s.Meeting], figures: dict[str, Any]) -> s.ScheduleSummary:
    return s.ScheduleSummary(
        status=status,
        solver_status=result.status,
        breaks=result.breaks,
        lower_bound=result.lower_bound,
        solve_seconds=result.solve_seconds,
        meetings=len(meetings),
        locked=figures["locked"],
        published_kept=figures["published_kept"],
        published_moved=figures["published_moved"],
    )


# --- operator edits ---------------------------------------------------------------------------------------


def _check_session_slot(event: s.Event, field: str, session: str, slot: int | None) -> None:
    day = event_day(event)
    if (session == "am" and not day.morning_slots) or (session == "pm" and not day.afternoon_slots):
        raise InvalidInput("session", f"本活动没有该场次 / the event has no {session} session")
    if slot is None:
        return
    if slot > day.slots:
        raise InvalidInput(field, f"时段 {slot} 超出 1..{day.slots} / slot out of range")
    if (session == "am" and slot > day.morning_slots) or (session == "pm" and slot <= day.morning_slots):
        raise InvalidInput(field, f"时段 {slot} 不在 {session} 场次 / slot outside the meeting's session")


async def add_meeting(pool: Pool, principal: Principal, event_id: uuid.UUID, data: s.MeetingCreate) -> s.Meeting:
    """An operator adds a meeting (never against a no-thanks, never a second investor of one institution)."""
    async with pool.acquire() as conn, conn.transaction():
        event = await load_event(conn, principal, event_id, lock=True)
        target = move(event, "edit_meetings")
        _check_session_slot(event, "slot", data.session, data.slot)
        invitation = await sp.get_invitation(conn, event_id, data.enterprise_id)
        if invitation is None or invitation.status != "accepted":
            raise InvalidInput("enterprise_id", "该企业不在路演名单中 / not on the pitch list")
        signup = await sp.get_signup(conn, data.signup_id)
        if signup is None or signup.event_id != event_id:
            raise InvalidInput("signup_id", "报名不存在 / no such sign-up in this event")
        wishes = {(e, g): w for g, e, w in await sp.all_preferences(conn, event_id)}
        if wishes.get((data.enterprise_id, data.signup_id)) == "no_thanks":
            raise Conflict("该投资人对此企业表示“不感兴趣” / the investor said no thanks to this enterprise")
        for m in await sm.list_meetings(conn, event_id, org_id=data.enterprise_id):
            if m.organisation_id == signup.organisation_id:
                raise Conflict("同一机构已有人与该企业洽谈 / the institution already meets this enterprise")
        meeting_id = await sm.insert_meeting(conn, event_id, data)
        await store.set_status(conn, event_id, target)
        await registry.audit(conn, principal, "roadshow.meeting.add", "roadshow_meeting", str(meeting_id))
        return await _meeting(conn, event_id, meeting_id)


async def update_meeting(
    pool: Pool, principal: Principal, event_id: uuid.UUID, meeting_id: uuid.UUID, data: s.MeetingUpdate
) -> s.Meeting:
    """Lock a meeting to a slot (or where it is), unlock it, or restrict its session."""
    async with pool.acquire() as conn, conn.transaction():
        event = await load_event(conn, principal, event_id, lock=True)
        target = move(event, "edit_meetings")
        meeting = await _meeting(conn, event_id, meeting_id)
        slot = data.slot if data.slot is not None else (meeting.slot if data.locked else None)
        if data.locked and slot is None:
            raise InvalidInput("slot", "尚未排期的洽谈锁定时须指定时段 / give a slot to lock an unscheduled meeting")
        _check_session_slot(event, "slot", data.session or meeting.session, slot if data.locked else None)
        await sm.update_lock(conn, meeting_id, data.locked, data.slot, data.session)
        await store.set_status(conn, event_id, target)
        detail = msgspec.to_builtins(data)
        await registry.audit(conn, principal, "roadshow.meeting.update", "roadshow_meeting", str(meeting_id), detail)
        return await _meeting(conn, event_id, meeting_id)


async def delete_meeting(pool: Pool, principal: Principal, event_id: uuid.UUID, meeting_id: uuid.UUID) -> None:
    async with pool.acquire() as conn, conn.transaction():
        event = await load_event(conn, principal, event_id, lock=True)
        target = move(event, "edit_meetings")
        await _meeting(conn, event_id, meeting_id)
        await sm.delete_meeting(conn, meeting_id)
        await store.set_status(conn, event_id, target)
        await registry.audit(conn, principal, "roadshow.meeting.delete", "roadshow_meeting", str(meeting_id))


async def _meeting(conn: Conn, event_id: uuid.UUID, meeting_id: uuid.UUID) -> s.Meeting:
    meeting = await sm.get_meeting(conn, event_id, meeting_id)
    if meeting is None:
        raise NotFound("洽谈不存在 / meeting not found")
    return meeting


# --- publication ------------------------------------------------------------------------------------------


async def publish(pool: Pool, principal: Principal, event_id: uuid.UUID, base_url: str) -> s.PublishSummary:
    """Publish the checked schedule and send ``roadshow.agenda.published`` to each participating investor."""
    async with pool.acquire() as conn, conn.transaction():
        event = await load_event(conn, principal, event_id, lock=True)
        target = move(event, "publish")
        meetings = await sm.list_meetings(conn, event_id)
        problem = await build_problem(conn, event, meetings, 1.0)
        errors = scheduling_port.check_placement(problem, [(str(m.id), m.slot, m.table) for m in meetings])
        if errors:
            raise Conflict("排期需重新求解后才能发布 / schedule again before publishing: " + "; ".join(errors[:3]))
        await sm.publish_meetings(conn, event_id)
        await store.set_status(conn, event_id, target, bump_published=True)
        version = event.published_version + 1
        orgs = await sm.investor_organisations(conn, event_id)
        per_org: dict[uuid.UUID, int] = {}
        for m in meetings:
            per_org[m.organisation_id] = per_org.get(m.organisation_id, 0) + 1
        link = f"{base_url.rstrip('/')}/api/v1/roadshow/events/{event_id}/agenda"
        for org in orgs:
            payload = {
                "event_id": str(event_id),
                "title": event.title,
                "event_date": event.event_date.isoformat(),
                "version": version,
                "meetings": per_org.get(org, 0),
                "link": link,
                "ics": link + ".ics",
            }
            await ports.notify_agenda(conn, org, payload, f"roadshow.agenda:{event_id}:v{version}")
        figures = {"version": version, "meetings": len(meetings), "organisations": len(orgs)}
        await store.add_run(conn, event_id, "publish", "ok", figures, principal.organisation_id)
        await registry.audit(conn, principal, "roadshow.publish", "roadshow_event", str(event_id), figures)
        return s.PublishSummary(
            status="published", version=version, meetings=len(meetings), organisations_notified=len(orgs)
        )
