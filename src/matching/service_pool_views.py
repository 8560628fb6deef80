"""Pool views and records around the transitions: lists, candidates, quotas, progress reports, consent."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import asyncpg
import msgspec

from ipledge.auth import Principal
from ipledge.context import request_id_var
from ipledge.db.types import Pool
from ipledge.errors import Conflict
from ipledge.registry import schemas as rs
from ipledge.registry import service as registry
from ipledge.registry import store as registry_store
from ipledge.registry.pagination import decode_cursor, encode_cursor
from matching import schemas as s
from matching import store_pool as store
from matching.i18n import Lang
from matching.pool_facts import progress_report
from matching.progress import check_progress, is_withdrawal_candidate, withdrawal_label
from matching.quota import ProvinceCounts, decide_admission
from matching.service_pool import POLICY, entry_struct, own_enterprise


async def list_entries(
    pool: Pool, province: str | None, state: str | None, cursor: str | None, limit: int
) -> s.PoolEntryPage:
    after = decode_cursor(cursor, "tu")
    key = None
    if after is not None:
        key = (datetime.fromisoformat(after[0]), uuid.UUID(after[1]))  # decode_cursor checked both
    rows = await store.list_entries(pool, province=province, state=state, after=key, limit=limit)
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor([rows[-1]["created_at"].isoformat(), str(rows[-1]["id"])]) if more else None
    return s.PoolEntryPage(items=[entry_struct(r, []) for r in rows], next_cursor=nxt)


def _candidate(r: asyncpg.Record, reasons: list[str]) -> s.Candidate:
    return s.Candidate(
        enterprise_id=r["enterprise_id"],
        credit_code=r["credit_code"].strip(),
        name=r["name"],
        province=r["province_code"],
        admitted_at=r["admitted_at"],
        reasons=reasons,
    )


async def graduation_candidates(pool: Pool, province: str | None, lang: Lang) -> list[s.Candidate]:
    """Admitted enterprises with at least one progress report meeting the exit standard."""
    rows = await store.admitted_entries(pool, province)
    reports = await store.reports_for(pool, [r["id"] for r in rows])
    out = []
    for row in rows:
        rate = None if row["rate_at_admission"] is None else float(row["rate_at_admission"])
        checks = [check_progress(progress_report(r), rate, POLICY.graduation, lang) for r in reports.get(row["id"], [])]
        reasons = [t for c in checks if c.qualifies for t in c.reasons]
        if reasons:
            out.append(_candidate(row, reasons))
    return out


async def withdrawal_candidates(pool: Pool, province: str | None, today: date | None, lang: Lang) -> list[s.Candidate]:
    """Admitted enterprises past the two-year mark without a qualifying progress report."""
    day = today or datetime.now(UTC).date()
    rows = await store.admitted_entries(pool, province)
    reports = await store.reports_for(pool, [r["id"] for r in rows])
    out = []
    for row in rows:
        rate = None if row["rate_at_admission"] is None else float(row["rate_at_admission"])
        own = [progress_report(r) for r in reports.get(row["id"], [])]
        if is_withdrawal_candidate(row["admitted_at"].date(), own, rate, day, POLICY.graduation, POLICY.withdrawal):
            out.append(_candidate(row, [withdrawal_label("no_progress", lang)]))
    return out


async def quotas(pool: Pool, lang: Lang) -> list[s.Quota]:
    """Every province's cap, counters and free seats (initial and rolling supplements)."""
    out = []
    for r in await store.quota_rows(pool):
        counts = ProvinceCounts(
            initial_admissions=r["initial_admissions"], supplements=r["supplements"], graduations=r["graduations"]
        )
        decision = decide_admission(r["name_zh"], counts, POLICY.quota, lang)
        out.append(
            s.Quota(
                province=r["code"],
                province_name=r["name_zh"],
                cap=decision.cap,
                initial_admissions=counts.initial_admissions,
                supplements=counts.supplements,
                graduations=counts.graduations,
                supplement_limit=decision.supplement_limit,
                members=r["members"],
                initial_seats_left=max(0, decision.cap - counts.initial_admissions),
                supplement_seats_left=max(0, decision.supplement_limit - counts.supplements),
            )
        )
    return out


def _report(row: asyncpg.Record, lang: Lang, rate: float | None) -> s.ProgressReport:
    data = dict(row)
    check = check_progress(progress_report(data), rate, POLICY.graduation, lang)
    data.pop("entry_id")
    data.pop("enterprise_id")
    return msgspec.convert(
        {**data, "qualifies": check.qualifies, "grounds": list(check.grounds), "reasons": check.reasons},
        s.ProgressReport,
    )


async def add_report(
    pool: Pool, actor: Principal, credit_code: str, data: s.ProgressReportIn, lang: Lang
) -> s.ProgressReport:
    """File a progress report for the enterprise's admitted entry (append-only, audited)."""
    org_id = await own_enterprise(pool, actor, credit_code)
    async with pool.acquire() as conn, conn.transaction():
        entry = await store.open_entry(conn, org_id, lock=True)
        if entry is None or entry["state"] != "admitted":
            raise Conflict("仅在库企业可提交进展报告 / only admitted enterprises file progress reports")
        if data.reported_on < entry["admitted_at"].date():
            from ipledge.errors import InvalidInput

            raise InvalidInput("reported_on", "早于入库日期 / before the admission date")
        row = await store.insert_report(conn, entry["id"], org_id, msgspec.structs.asdict(data), actor)
        await registry_store.audit(
            conn, actor, "pool.progress_reported", "pool_entry", str(entry["id"]), {"report": str(row["id"])},
            request_id_var.get(),
        )  # fmt: skip
    rate = None if entry["rate_at_admission"] is None else float(entry["rate_at_admission"])
    return _report(row, lang, rate)


async def list_reports(pool: Pool, actor: Principal, credit_code: str, lang: Lang) -> list[s.ProgressReport]:
    org_id = await own_enterprise(pool, actor, credit_code)
    entry = await store.latest_entry(pool, org_id)
    if entry is None:
        return []
    rate = None if entry["rate_at_admission"] is None else float(entry["rate_at_admission"])
    return [_report(r, lang, rate) for r in (await store.reports_for(pool, [entry["id"]])).get(entry["id"], [])]


async def set_consent(pool: Pool, actor: Principal, credit_code: str, data: s.ConsentIn) -> s.Consent:
    """Change the enterprise's consent to share with banks and funds (a new, audited profile version)."""
    await own_enterprise(pool, actor, credit_code)
    updated = await registry.update_profile(
        pool, actor, credit_code, rs.EnterpriseProfile(consent_share=data.consent_share)
    )
    return s.Consent(credit_code=updated.credit_code, consent_share=updated.consent_share)
