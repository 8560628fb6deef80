"""Pool use cases: apply, review, admit under the quota, reject, graduate, withdraw.

Every transition is one transaction: the entry row is locked, the core decides, the new state,
an append-only transition row (who, when, why, the criteria results), an audit_log row and the
outbox events commit together. Admission also locks the province's quota row, so the quota
check and the insert are atomic.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import msgspec

from ipledge.auth import Principal
from ipledge.context import request_id_var
from ipledge.db.types import Conn, Pool
from ipledge.errors import Conflict, InvalidInput, NotFound
from ipledge.regions import BY_CODE
from ipledge.registry import enterprise_store as es
from ipledge.registry import service as registry
from ipledge.registry import store as registry_store
from matching import events
from matching import schemas as s
from matching import store_pool as store
from matching.entry import CriterionResult, evaluate_entry
from matching.i18n import Lang
from matching.lifecycle import InvalidTransitionError, allowed_transitions, check_transition
from matching.override import CriterionOverride, apply_overrides, entry_outcome
from matching.policy import DEFAULT_POOL_POLICY, PoolPolicy
from matching.progress import IMMEDIATE_WITHDRAWAL_REASONS, is_withdrawal_candidate
from matching.quota import decide_admission

POLICY: PoolPolicy = DEFAULT_POOL_POLICY
_NOT_FOUND = "企业不存在 / enterprise not found"


def _province_name(code: str) -> str:
    return BY_CODE[code].name_zh


async def own_enterprise(conn: Conn, actor: Principal, credit_code: str) -> uuid.UUID:
    """The enterprise's id when the actor may act for it (itself or an operator), else 404."""
    org_id = await registry.enterprise_id(conn, credit_code)
    if not (actor.is_operator or actor.organisation_id == org_id):
        raise NotFound(_NOT_FOUND)
    return org_id


async def evaluate(conn: Conn, enterprise_id: uuid.UUID, lang: Lang) -> tuple[list[CriterionResult], str]:
    """The ten criteria evaluated now, and the enterprise's province code."""
    ent = await es.get_enterprise(conn, enterprise_id)
    if ent is None:
        raise NotFound(_NOT_FOUND)
    from matching.pool_facts import enterprise_facts

    facts = enterprise_facts(ent, _province_name(ent.province), await store.patents_in_force(conn, enterprise_id))
    return evaluate_entry(facts, _province_name(ent.province), POLICY, lang), ent.province


def _criteria_json(results: list[CriterionResult]) -> list[dict[str, Any]]:
    return [msgspec.structs.asdict(r) for r in results]


def _criteria_out(results: list[CriterionResult]) -> list[s.Criterion]:
    return [msgspec.convert(msgspec.structs.asdict(r), s.Criterion) for r in results]


async def eligibility(pool: Pool, actor: Principal, credit_code: str, lang: Lang) -> s.Eligibility:
    """The entry check as the enterprise (or an operator) sees it before or after applying."""
    org_id = await own_enterprise(pool, actor, credit_code)
    results, province = await evaluate(pool, org_id, lang)
    return s.Eligibility(
        credit_code=credit_code.upper(),
        province=province,
        outcome=entry_outcome(results),
        criteria=_criteria_out(results),
        policy_version=POLICY.version,
    )


async def entry_view(conn: Conn, row: asyncpg.Record, lang: Lang) -> s.PoolEntry:
    """An entry with its live criteria (and the overrides an operator recorded)."""
    results, _ = await evaluate(conn, row["enterprise_id"], lang)
    justified = {o["code"]: o["justification"] for o in row["overrides"]}
    results = [msgspec.structs.replace(r, override_justification=justified.get(r.code)) for r in results]
    return entry_struct(row, _criteria_out(results))


def entry_struct(row: asyncpg.Record, criteria: list[s.Criterion]) -> s.PoolEntry:
    return s.PoolEntry(
        id=row["id"],
        enterprise_id=row["enterprise_id"],
        credit_code=row["credit_code"].strip(),
        name=row["name"],
        province=row["province_code"],
        state=row["state"],
        admission_kind=row["admission_kind"],
        reason_code=row["reason_code"],
        applied_at=row["applied_at"],
        admitted_at=row["admitted_at"],
        closed_at=row["closed_at"],
        policy_version=row["policy_version"],
        allowed_transitions=sorted(allowed_transitions(row["state"])),
        criteria=criteria,
    )


async def get_entry(pool: Pool, actor: Principal, credit_code: str, lang: Lang) -> s.PoolEntry:
    org_id = await own_enterprise(pool, actor, credit_code)
    row = await store.latest_entry(pool, org_id)
    if row is None:
        raise NotFound("该企业尚未申请入库 / no pool application")
    return await entry_view(pool, row, lang)


async def apply(pool: Pool, actor: Principal, data: s.ApplicationCreate, lang: Lang) -> s.PoolEntry:
    """Open an application to the pool of the enterprise's province."""
    if actor.role == "enterprise":
        if data.credit_code is not None and data.credit_code.upper() != actor.credit_code:
            raise NotFound(_NOT_FOUND)
        code = actor.credit_code
    elif data.credit_code is None:
        raise InvalidInput("credit_code", "运营方代为申请须提供企业代码 / operators must name the enterprise")
    else:
        code = data.credit_code
    org_id = await own_enterprise(pool, actor, code)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT 1 FROM enterprises WHERE organisation_id = $1 FOR UPDATE", org_id)
        if await store.open_entry(conn, org_id) is not None:
            raise Conflict(
                "该企业已有进行中的入库申请或已在库 / an application is open or the enterprise is in the pool"
            )
        results, province = await evaluate(conn, org_id, "zh")
        entry_id = await store.insert_entry(conn, org_id, province, _criteria_json(results), POLICY.version)
        row = await store.latest_entry(conn, org_id)
        assert row is not None and row["id"] == entry_id
        await store.record_transition(
            conn, {"id": entry_id, "enterprise_id": org_id}, "applied", actor, request_id_var.get(),
            criteria=_criteria_json(results), detail={"outcome": entry_outcome(results)},
        )  # fmt: skip
        await registry_store.audit(conn, actor, "pool.applied", "pool_entry", str(entry_id), {}, request_id_var.get())
    return await entry_view(pool, row, lang)


async def _locked(conn: Conn, actor: Principal, credit_code: str) -> asyncpg.Record:
    org_id = await own_enterprise(conn, actor, credit_code)
    row = await store.open_entry(conn, org_id, lock=True)
    if row is None:
        latest = await store.latest_entry(conn, org_id)
        state = latest["state"] if latest else "none"
        raise Conflict(f"没有进行中的入库记录（当前：{state}）/ no open pool entry (current: {state})")
    return row


async def _move(conn: Conn, row: asyncpg.Record, target: str, actor: Principal, **kw: Any) -> dict[str, Any]:
    """Check and write one transition with its audit rows; returns the fields written."""
    try:
        check_transition(row["state"], target)
    except InvalidTransitionError as exc:
        raise Conflict(str(exc)) from None
    fields = kw.pop("fields", {})
    await store.set_state(conn, row["id"], target, **fields)
    await store.record_transition(conn, row, target, actor, request_id_var.get(), **kw)
    detail = {"from": row["state"], "reason": kw.get("reason", ""), "reason_code": kw.get("reason_code")}
    await registry_store.audit(
        conn, actor, f"pool.{target}", "pool_entry", str(row["id"]), detail, request_id_var.get()
    )
    return dict(fields)


async def _notify(conn: Conn, row: asyncpg.Record, state: str, base_url: str, reason_code: str | None = None) -> None:
    consent = await conn.fetchval(
        "SELECT consent_share FROM enterprises WHERE organisation_id = $1", row["enterprise_id"]
    )
    if not consent:
        return  # without consent nothing about the enterprise leaves the platform
    recipients = await store.institutions_serving(conn, row["province_code"])
    await events.pool_changed(
        conn, recipients, state=state, entry_id=row["id"], enterprise_id=row["enterprise_id"],
        credit_code=row["credit_code"].strip(), province=row["province_code"], base_url=base_url,
        reason_code=reason_code,
    )  # fmt: skip


async def _finish(pool: Pool, row: asyncpg.Record, lang: Lang) -> s.PoolEntry:
    fresh = await store.latest_entry(pool, row["enterprise_id"])
    assert fresh is not None
    return await entry_view(pool, fresh, lang)


async def review(pool: Pool, actor: Principal, credit_code: str, data: s.ReviewIn, lang: Lang) -> s.PoolEntry:
    async with pool.acquire() as conn, conn.transaction():
        row = await _locked(conn, actor, credit_code)
        results, _ = await evaluate(conn, row["enterprise_id"], "zh")
        await _move(conn, row, "under_review", actor, reason=data.note, criteria=_criteria_json(results))
    return await _finish(pool, row, lang)


async def reject(pool: Pool, actor: Principal, credit_code: str, data: s.RejectIn, lang: Lang) -> s.PoolEntry:
    async with pool.acquire() as conn, conn.transaction():
        row = await _locked(conn, actor, credit_code)
        results, _ = await evaluate(conn, row["enterprise_id"], "zh")
        await _move(conn, row, "rejected", actor, reason=data.reason, criteria=_criteria_json(results))
    return await _finish(pool, row, lang)


async def admit(
    pool: Pool, actor: Principal, credit_code: str, data: s.AdmitIn, base_url: str, lang: Lang
) -> s.PoolEntry:
    """Admit under the quota: criteria (with written overrides) satisfied, a seat free, all atomically."""
    overrides = [CriterionOverride(code=o.code, justification=o.justification) for o in data.overrides]
    async with pool.acquire() as conn, conn.transaction():
        row = await _locked(conn, actor, credit_code)
        if row["state"] != "under_review":
            raise Conflict(f"须先审核（当前：{row['state']}）/ review the application first (state {row['state']})")
        results, province = await evaluate(conn, row["enterprise_id"], "zh")
        try:
            results = apply_overrides(results, overrides)
        except ValueError as exc:
            raise InvalidInput("overrides", str(exc)) from None
        open_ = [r.code for r in results if not r.satisfied]
        if open_:
            raise Conflict(
                f"入库标准未满足且未说明理由：{', '.join(open_)} / criteria not satisfied: {', '.join(open_)}"
            )
        counts = await store.lock_quota(conn, row["province_code"])
        decision = decide_admission(_province_name(row["province_code"]), counts, POLICY.quota, "zh")
        if not decision.allowed:
            raise Conflict(decision.reason)
        await store.bump_quota(
            conn, row["province_code"], "initial_admissions" if decision.kind == "initial" else "supplements"
        )
        ent = await es.get_enterprise(conn, row["enterprise_id"])
        rate = ent.patent_industrialisation_rate if ent else None
        override_json = [msgspec.structs.asdict(o) for o in overrides]
        await _move(
            conn, row, "admitted", actor, reason=data.note, criteria=_criteria_json(results), overrides=override_json,
            detail={"quota": decision.reason, "kind": decision.kind, "province": province},
            fields={"admission_kind": decision.kind, "criteria": _criteria_json(results), "overrides": override_json,
                    "rate_at_admission": rate},
        )  # fmt: skip
        await _notify(conn, row, "admitted", base_url)
    return await _finish(pool, row, lang)


async def graduate(
    pool: Pool, actor: Principal, credit_code: str, data: s.GraduateIn, base_url: str, lang: Lang
) -> s.PoolEntry:
    """Graduate an admitted enterprise whose progress reports meet the exit standard."""
    from matching.pool_facts import progress_report
    from matching.progress import check_progress

    async with pool.acquire() as conn, conn.transaction():
        row = await _locked(conn, actor, credit_code)
        reports = (await store.reports_for(conn, [row["id"]])).get(row["id"], [])
        rate = None if row["rate_at_admission"] is None else float(row["rate_at_admission"])
        checks = [check_progress(progress_report(r), rate, POLICY.graduation, "zh") for r in reports]
        qualifying = [c for c in checks if c.qualifies]
        if row["state"] == "admitted" and not qualifying:
            raise Conflict("尚无达到出库标准的进展报告 / no progress report meets the exit standard")
        await store.lock_quota(conn, row["province_code"])
        grounds = sorted({g for c in qualifying for g in c.grounds})
        await _move(
            conn, row, "graduated", actor, reason=data.reason,
            detail={"grounds": grounds, "reasons": [t for c in qualifying for t in c.reasons]},
        )  # fmt: skip
        await store.bump_quota(conn, row["province_code"], "graduations")
        await _notify(conn, row, "graduated", base_url)
    return await _finish(pool, row, lang)


async def withdraw(
    pool: Pool, actor: Principal, credit_code: str, data: s.WithdrawIn, base_url: str, lang: Lang, today: Any = None
) -> s.PoolEntry:
    """Withdraw with a reason code: violations at once, ``no_progress`` only for listed candidates."""
    from datetime import UTC, datetime

    from matching.pool_facts import progress_report

    async with pool.acquire() as conn, conn.transaction():
        row = await _locked(conn, actor, credit_code)
        if data.reason_code == "no_progress" and row["state"] == "admitted":
            reports = (await store.reports_for(conn, [row["id"]])).get(row["id"], [])
            rate = None if row["rate_at_admission"] is None else float(row["rate_at_admission"])
            day = today or datetime.now(UTC).date()
            if not is_withdrawal_candidate(
                row["admitted_at"].date(), [progress_report(r) for r in reports], rate, day,
                POLICY.graduation, POLICY.withdrawal,
            ):  # fmt: skip
                raise Conflict("入库未满两年或已有达标进展 / not admitted two years without qualifying progress")
        immediate = data.reason_code in IMMEDIATE_WITHDRAWAL_REASONS
        await _move(
            conn, row, "withdrawn", actor, reason=data.reason, reason_code=data.reason_code,
            detail={"immediate": immediate}, fields={"reason_code": data.reason_code},
        )  # fmt: skip
        await _notify(conn, row, "withdrawn", base_url, data.reason_code)
    return await _finish(pool, row, lang)
