"""Who takes part: invitations (ranked by readiness), enterprise answers, investor sign-ups and preferences."""

from __future__ import annotations

import uuid
from typing import Any

from ipledge.auth import Principal
from ipledge.db.types import Conn, Pool
from ipledge.errors import Conflict, Forbidden, InvalidInput, NotFound
from ipledge.registry import store as registry
from ipledge.registry.pagination import encode_cursor
from roadshow import ports
from roadshow import schemas as s
from roadshow import store_people as sp
from roadshow.readiness import DEFAULT_READINESS_POLICY, rank_readiness
from roadshow.service import load_event
from roadshow.timetable import unavailable_from


def _check_slots(field: str, slots: list[int] | None, event: s.Event) -> list[int]:
    for i, slot in enumerate(slots or []):
        if slot > event.slots:
            raise InvalidInput(f"{field}[{i}]", f"时段 {slot} 超出 1..{event.slots} / slot out of range")
    return unavailable_from(slots, event.slots)


# --- invitations ------------------------------------------------------------------------------------------


async def invite(pool: Pool, principal: Principal, event_id: uuid.UUID, data: s.InviteRequest) -> s.InviteResult:
    """Invite the chain's admitted pool enterprises, most ready first (or exactly the listed ones)."""
    async with pool.acquire() as conn, conn.transaction():
        event = await load_event(conn, principal, event_id, lock=True)
        if event.status not in ("draft", "open"):
            raise Conflict("报名截止后不能再邀请 / invitations close with sign-up")
        if data.enterprise_ids is not None:
            candidates = data.enterprise_ids
            found = await sp.enterprises_exist(conn, candidates)
            for i, eid in enumerate(candidates):
                if eid not in found:
                    raise InvalidInput(f"enterprise_ids[{i}]", "企业不存在 / no such enterprise")
        else:
            candidates = await ports.pool_members(conn, event.chain)
        ranked = rank_readiness(
            await sp.readiness_facts(conn, candidates, await ports.value_degrees(conn, candidates)),
            DEFAULT_READINESS_POLICY,
        )
        ranked = ranked[: data.limit or (event.pitch_count if data.enterprise_ids is None else len(ranked))]
        rows = [(uuid.UUID(r.enterprise_id), r.score, r.rank) for r in ranked]
        invited = await sp.insert_invitations(conn, event_id, rows)
        detail = {"invited": invited, "candidates": len(candidates), "policy": DEFAULT_READINESS_POLICY.version}
        await registry.audit(conn, principal, "roadshow.invite", "roadshow_event", str(event_id), detail)
    return s.InviteResult(
        invited=invited, already_invited=len(rows) - invited, policy_version=DEFAULT_READINESS_POLICY.version
    )


async def list_invitations(
    pool: Pool, principal: Principal, event_id: uuid.UUID, after: list[Any] | None, limit: int
) -> s.InvitationPage:
    """Operators see every invitation, an enterprise its own; banks and funds none (they see the pitch list)."""
    await load_event(pool, principal, event_id)
    if principal.role in ("bank", "fund"):
        raise Forbidden("投资机构请查看路演企业名单 / investors see the pitch list instead")
    only = None if principal.is_operator else principal.organisation_id
    rows = await sp.list_invitations(pool, event_id, enterprise_id=only, after=after, limit=limit)
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor([rows[-1].readiness_rank, str(rows[-1].enterprise_id)]) if more else None
    return s.InvitationPage(items=rows, next_cursor=nxt)


def _own_enterprise(principal: Principal, enterprise_id: uuid.UUID) -> None:
    if not principal.is_operator and principal.organisation_id != enterprise_id:
        raise NotFound("邀请不存在 / invitation not found")


async def accept(
    pool: Pool, principal: Principal, event_id: uuid.UUID, enterprise_id: uuid.UUID, data: s.InvitationAnswer
) -> s.Invitation:
    """The enterprise accepts: availability, most meetings, its ranking of investors (pitches are capped)."""
    _own_enterprise(principal, enterprise_id)
    async with pool.acquire() as conn, conn.transaction():
        event = await load_event(conn, principal, event_id, lock=True)
        if event.status != "open":
            raise Conflict("报名未开放 / sign-up is not open")
        invitation = await _invitation(conn, event_id, enterprise_id)
        unavailable = _check_slots("available_slots", data.available_slots, event)
        await _check_ranking(conn, event_id, data.investor_ranking)
        if invitation.status != "accepted" and await sp.count_accepted(conn, event_id) >= event.pitch_count:
            raise Conflict(f"路演名额已满（{event.pitch_count} 家）/ all {event.pitch_count} pitches are taken")
        await sp.answer_invitation(
            conn, event_id, enterprise_id, "accepted", data.max_meetings, unavailable, data.investor_ranking
        )
        await registry.audit(conn, principal, "roadshow.invitation.accept", "roadshow_event", str(event_id))
        return await _invitation(conn, event_id, enterprise_id)


async def decline(pool: Pool, principal: Principal, event_id: uuid.UUID, enterprise_id: uuid.UUID) -> s.Invitation:
    _own_enterprise(principal, enterprise_id)
    async with pool.acquire() as conn, conn.transaction():
        event = await load_event(conn, principal, event_id, lock=True)
        if event.status not in ("draft", "open"):
            raise Conflict("报名已截止 / sign-up is closed")
        await _invitation(conn, event_id, enterprise_id)
        await sp.answer_invitation(conn, event_id, enterprise_id, "declined", None, [], [])
        await registry.audit(conn, principal, "roadshow.invitation.decline", "roadshow_event", str(event_id))
        return await _invitation(conn, event_id, enterprise_id)


async def _invitation(conn: Conn, event_id: uuid.UUID, enterprise_id: uuid.UUID) -> s.Invitation:
    invitation = await sp.get_invitation(conn, event_id, enterprise_id)
    if invitation is None:
        raise NotFound("邀请不存在 / invitation not found")
    return invitation


async def _check_ranking(conn: Conn, event_id: uuid.UUID, ranking: list[uuid.UUID]) -> None:
    signed = {i.organisation_id for i in await sp.investors(conn, event_id)}
    for i, org in enumerate(ranking):
        if org not in signed:
            raise InvalidInput(f"investor_ranking[{i}]", "该机构未报名本次活动 / institution has not signed up")


async def pitches(pool: Pool, principal: Principal, event_id: uuid.UUID) -> list[s.Pitch]:
    await load_event(pool, principal, event_id)
    return await sp.pitch_list(pool, event_id)


async def investors(pool: Pool, principal: Principal, event_id: uuid.UUID) -> list[s.Investor]:
    await load_event(pool, principal, event_id)
    return await sp.investors(pool, event_id)


# --- sign-ups ---------------------------------------------------------------------------------------------


async def sign_up(pool: Pool, principal: Principal, event_id: uuid.UUID, data: s.SignupCreate) -> s.Signup:
    """A fund or bank signs up a person or team with availability and a maximum number of meetings."""
    async with pool.acquire() as conn, conn.transaction():
        event = await load_event(conn, principal, event_id, lock=True)
        if event.status != "open":
            raise Conflict("报名未开放 / sign-up is not open")
        unavailable = _check_slots("available_slots", data.available_slots, event)
        signup_id = await sp.insert_signup(conn, event_id, principal.organisation_id, data, unavailable)
        await registry.audit(conn, principal, "roadshow.signup.create", "roadshow_signup", str(signup_id))
        signup = await sp.get_signup(conn, signup_id)
        assert signup is not None
        return signup


async def own_signup(conn: Conn, principal: Principal, event_id: uuid.UUID, signup_id: uuid.UUID) -> s.Signup:
    """The sign-up when it belongs to the caller's institution (operators: any); otherwise 404."""
    signup = await sp.get_signup(conn, signup_id)
    if signup is None or signup.event_id != event_id:
        raise NotFound("报名不存在 / sign-up not found")
    if not principal.is_operator and signup.organisation_id != principal.organisation_id:
        raise NotFound("报名不存在 / sign-up not found")
    return signup


async def list_signups(
    pool: Pool, principal: Principal, event_id: uuid.UUID, after: list[Any] | None, limit: int
) -> s.SignupPage:
    """Operators see every sign-up, a fund or bank its own; enterprises see the investor list instead."""
    await load_event(pool, principal, event_id)
    if principal.role == "enterprise":
        raise Forbidden("企业请查看投资机构名单 / enterprises see the investor list instead")
    only = None if principal.is_operator else principal.organisation_id
    rows = await sp.list_signups(pool, event_id, org_id=only, after=after, limit=limit)
    more = len(rows) > limit
    rows = rows[:limit]
    return s.SignupPage(items=rows, next_cursor=encode_cursor([str(rows[-1].id)]) if more else None)


async def withdraw(pool: Pool, principal: Principal, event_id: uuid.UUID, signup_id: uuid.UUID) -> None:
    async with pool.acquire() as conn, conn.transaction():
        event = await load_event(conn, principal, event_id, lock=True)
        await own_signup(conn, principal, event_id, signup_id)
        if event.status != "open":
            raise Conflict("报名截止后不能撤回 / sign-ups cannot be withdrawn after closing")
        await sp.delete_signup(conn, signup_id)
        await registry.audit(conn, principal, "roadshow.signup.withdraw", "roadshow_signup", str(signup_id))


async def set_preferences(
    pool: Pool, principal: Principal, event_id: uuid.UUID, signup_id: uuid.UUID, data: s.PreferencesUpdate
) -> s.Preferences:
    """Replace a sign-up's wishes (must meet / meet / no thanks) over enterprises on the pitch list."""
    async with pool.acquire() as conn, conn.transaction():
        event = await load_event(conn, principal, event_id, lock=True)
        await own_signup(conn, principal, event_id, signup_id)
        if event.status not in ("open", "closed"):
            raise Conflict("只能在配对前表达意向 / preferences are taken before pairing")
        pitching = {p.enterprise_id for p in await sp.pitch_list(conn, event_id)}
        for i, item in enumerate(data.preferences):
            if item.enterprise_id not in pitching:
                raise InvalidInput(f"preferences[{i}].enterprise_id", "该企业不在路演名单中 / not on the pitch list")
        await sp.replace_preferences(conn, signup_id, data.preferences)
        detail = {"count": len(data.preferences)}
        await registry.audit(conn, principal, "roadshow.preferences.set", "roadshow_signup", str(signup_id), detail)
        return s.Preferences(signup_id=signup_id, preferences=await sp.get_preferences(conn, signup_id))


async def get_preferences(pool: Pool, principal: Principal, event_id: uuid.UUID, signup_id: uuid.UUID) -> s.Preferences:
    await load_event(pool, principal, event_id)
    await own_signup(pool, principal, event_id, signup_id)
    return s.Preferences(signup_id=signup_id, preferences=await sp.get_preferences(pool, signup_id))
