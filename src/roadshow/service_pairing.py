"""Pairing an event: gather wishes, ranks and fit scores, run the min-cost-flow core, store the meetings."""

from __future__ import annotations

import time
import uuid

import msgspec

from ipledge.auth import Principal
from ipledge.db.types import Conn, Pool
from ipledge.errors import Conflict
from ipledge.registry import store as registry
from roadshow import ports, store, store_people
from roadshow import schemas as s
from roadshow import store_meetings as sm
from roadshow.pairing import (
    DEFAULT_PAIRING_POLICY,
    InvestorWish,
    PairCandidate,
    PairingEnterprise,
    PairingInvestor,
    PairingPolicy,
    PairingResult,
    pair,
)
from roadshow.service import load_event, move


class PairingInput:
    """The pairing core's inputs for one event, and the fit of every candidate pair."""

    def __init__(self) -> None:
        self.enterprises: list[PairingEnterprise] = []
        self.investors: list[PairingInvestor] = []
        self.candidates: list[PairCandidate] = []
        self.fit: dict[tuple[str, str], float] = {}


async def gather(conn: Conn, event_id: uuid.UUID, lang: str = "zh") -> PairingInput:
    """Build candidates: every pitching enterprise x every sign-up, except no-thanks.

    A stated wish (must meet / meet) makes a pair a candidate whatever its fit; an unstated pair is
    a recommendation and a candidate only when matching's fit gates let it through.
    """
    accepted = await store_people.accepted_enterprises(conn, event_id)
    signups = await store_people.list_signups(conn, event_id, org_id=None, after=None, limit=100_000)
    wishes = {(e, g): w for g, e, w in await store_people.all_preferences(conn, event_id)}
    institutions = sorted({g.organisation_id for g in signups})
    fits = await ports.fit_scores(conn, [e for e, _, _ in accepted], institutions, lang)
    out = PairingInput()
    out.enterprises = [PairingEnterprise(id=str(e), max_meetings=n) for e, n, _ in accepted]
    out.investors = [
        PairingInvestor(id=str(g.id), institution_id=str(g.organisation_id), max_meetings=g.max_meetings)
        for g in signups
    ]
    for eid, _, ranking in accepted:
        rank = {org: i for i, org in enumerate(ranking, 1)}
        for g in signups:
            wish: InvestorWish = wishes.get((eid, g.id), "none")  # type: ignore[assignment]
            fit = fits.get((eid, g.organisation_id))
            if wish == "no_thanks" or (wish == "none" and fit is None):
                continue
            out.candidates.append(
                PairCandidate(
                    enterprise_id=str(eid),
                    investor_id=str(g.id),
                    investor_wish=wish,
                    enterprise_rank=rank.get(g.organisation_id),
                    fit=fit or 0.0,
                )
            )
            if fit is not None:
                out.fit[(str(eid), str(g.id))] = fit
    return out


def _policy(event: s.Event) -> PairingPolicy:
    return msgspec.structs.replace(DEFAULT_PAIRING_POLICY, floor_k=event.floor_k)


async def pair_event(pool: Pool, principal: Principal, event_id: uuid.UUID, lang: str = "zh") -> s.PairingSummary:
    """Choose who meets whom (a draft: the operator edits, locks and schedules afterwards)."""
    async with pool.acquire() as conn, conn.transaction():
        event = await load_event(conn, principal, event_id, lock=True)
        target = move(event, "pair")
        data = await gather(conn, event_id, lang)
        if not data.enterprises or not data.investors:
            raise Conflict("需要至少一家路演企业和一个投资机构报名 / needs pitching enterprises and investor sign-ups")
        started = time.perf_counter()
        policy = _policy(event)
        result: PairingResult = pair(data.enterprises, data.investors, data.candidates, policy)
        seconds = time.perf_counter() - started
        wishes = {(c.enterprise_id, c.investor_id): c.investor_wish for c in data.candidates}
        meetings = [
            sm.PairedMeeting(
                enterprise_id=uuid.UUID(m.enterprise_id),
                signup_id=uuid.UUID(m.investor_id),
                score=m.score,
                fit=data.fit.get((m.enterprise_id, m.investor_id)),
            )
            for m in result.meetings
        ]
        await sm.replace_paired(conn, event_id, meetings)
        await store.set_status(conn, event_id, target)
        recommended = sum(1 for m in result.meetings if wishes[(m.enterprise_id, m.investor_id)] == "none")
        summary = s.PairingSummary(
            status="paired",
            meetings=len(meetings),
            recommended=recommended,
            total_score=round(result.total_score, 4),
            below_floor=[uuid.UUID(x) for x in result.below_floor],
            floor_k=event.floor_k,
            policy_version=result.policy_version,
            seconds=round(seconds, 4),
        )
        figures = {"meetings": len(meetings), "recommended": recommended, "below_floor": len(result.below_floor)}
        await store.add_run(conn, event_id, "pairing", "ok", figures, principal.organisation_id)
        await registry.audit(conn, principal, "roadshow.pair", "roadshow_event", str(event_id), figures)
        return summary
