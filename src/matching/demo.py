"""Matching demo data on top of the foundation's demo world (idempotent).

``load_matching_demo(pool)`` registers criteria for the approved demo banks and funds, runs every
demo enterprise through the pool (apply → review → admit under the quota, or reject with the
failed criteria; an enterprise short of exactly one remediable criterion is admitted with a
written operator override; incomplete ones stay under review), schedules a monthly push and runs
one push. A marker in the audit log makes a second call a no-op.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from ipledge.auth import Principal
from ipledge.errors import Conflict
from ipledge.registry import store as registry_store
from matching import schemas as s
from matching import service_pool, service_push
from matching.override import entry_outcome
from matching.schemas import Product

MARKER = "matching.demo.loaded"
_LOCK = 0x9A5E_0D30
#: Criteria an operator may accept on a written remediation promise in the demo.
_REMEDIABLE = {"ip_management", "trademark", "core_patents_filed"}
_JUSTIFICATION = "企业已提交书面整改承诺，限期六个月内补齐并接受复核（演示数据）"
_PRODUCTS: list[list[Product]] = [
    ["pledge_loan"],
    ["pledge_loan", "investment_loan_linkage"],
    ["pledge_loan", "credit_loan"],
]


class _OnePool:
    """Lets the pool services run on a single connection (each 'transaction' becomes a savepoint)."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[Any]:
        yield self._conn

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def _as_pool(conn_or_pool: Any) -> Any:
    return conn_or_pool if hasattr(conn_or_pool, "acquire") else _OnePool(conn_or_pool)


async def _criteria(pool: Any, rng: random.Random) -> int:
    chains = {r["code"]: list(r["keywords"]) for r in await pool.fetch("SELECT code, keywords FROM chains")}
    codes = sorted(chains)
    orgs = await pool.fetch(
        "SELECT o.id, o.kind, o.province_code FROM organisations o WHERE o.kind IN ('bank', 'fund')"
        " AND o.status = 'active' AND NOT EXISTS (SELECT 1 FROM institution_criteria c WHERE c.organisation_id = o.id)"
        " ORDER BY o.created_at, o.name"
    )
    for n, org in enumerate(orgs):
        picked = rng.sample(codes, rng.choice([2, 3, 4]))
        terms = [t for c in picked for t in rng.sample(chains[c], min(3, len(chains[c])))]
        if org["kind"] == "bank":
            provinces = sorted({org["province_code"], *rng.sample(["11", "31", "32", "33", "44", "37"], 2)})
            kind, lo, hi = "bank", rng.choice([1e6, 2e6]), rng.choice([2e7, 3e7, 5e7])
            thesis = f"知识产权质押融资，重点支持{'、'.join(terms)}等领域的科技型中小企业"
        else:
            provinces, kind = [], "guidance_fund" if n % 4 == 0 else "vc_pe"
            lo, hi = rng.choice([2e6, 5e6]), rng.choice([3e7, 5e7, 1e8])
            thesis = f"专注投资{'、'.join(terms)}方向的成长期硬科技企业"
        data = s.CriteriaIn(
            kind=kind,  # type: ignore[arg-type]
            provinces=provinces,
            chains=picked,
            amount_min=lo,
            amount_max=hi,
            products=rng.choice(_PRODUCTS) if kind == "bank" else [],
            stages=[] if kind == "bank" else rng.sample(["angel", "A", "B", "pre_ipo"], 2),
            thesis=thesis,
            region_mandate=[org["province_code"]] if kind == "guidance_fund" else [],
        )
        version = 1
        await pool.execute(
            "INSERT INTO institution_criteria (organisation_id, version, kind, provinces, chains, amount_min,"
            " amount_max, products, stages, thesis, region_mandate)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            org["id"], version, data.kind, data.provinces, data.chains, data.amount_min, data.amount_max,
            data.products, data.stages, data.thesis, data.region_mandate,
        )  # fmt: skip
    return len(orgs)


async def _run_pool(pool: Any, operator: Principal, base_url: str) -> dict[str, int]:
    counts = {"admitted": 0, "rejected": 0, "under_review": 0}
    rows = await pool.fetch(
        "SELECT o.credit_code FROM organisations o WHERE o.kind = 'enterprise'"
        " AND NOT EXISTS (SELECT 1 FROM pool_entries p WHERE p.enterprise_id = o.id) ORDER BY o.created_at, o.name"
    )
    for row in rows:
        code = row["credit_code"].strip()
        await service_pool.apply(pool, operator, s.ApplicationCreate(credit_code=code), "zh")
        entry = await service_pool.review(pool, operator, code, s.ReviewIn(note="演示：材料初审"), "zh")
        open_ = [c for c in entry.criteria if c.verdict != "pass"]
        outcome = entry_outcome([c for c in await _results(pool, entry.enterprise_id)])
        if outcome == "eligible" or (len(open_) == 1 and open_[0].code in _REMEDIABLE):
            overrides = [s.OverrideIn(code=c.code, justification=_JUSTIFICATION) for c in open_]  # type: ignore[arg-type]
            try:
                await service_pool.admit(pool, operator, code, s.AdmitIn(overrides=overrides), base_url, "zh")
                counts["admitted"] += 1
                continue
            except Conflict:  # quota full: the application stays under review
                pass
        elif outcome == "ineligible":
            failed = "、".join(c.code for c in open_ if c.verdict == "fail")
            await service_pool.reject(pool, operator, code, s.RejectIn(reason=f"不满足入库标准：{failed}"), "zh")
            counts["rejected"] += 1
            continue
        counts["under_review"] += 1
    return counts


async def _results(pool: Any, enterprise_id: uuid.UUID) -> list[Any]:
    results, _ = await service_pool.evaluate(pool, enterprise_id, "zh")
    return results


async def load_matching_demo(conn_or_pool: Any, *, base_url: str | None = None, seed: int = 20240101) -> bool:
    """Load the matching demo once; True when it was loaded now, False when it was already there.

    Args:
        conn_or_pool: An asyncpg pool (or one connection) on a database holding the foundation demo.
        base_url: Public base URL for event links (the process settings' when omitted).
        seed: Seed of the criteria generator.

    Returns:
        Whether anything was loaded.
    """
    if base_url is None:
        from ipledge.settings import load_settings

        base_url = load_settings().public_base_url
    pool = _as_pool(conn_or_pool)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK)
        if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM audit_log WHERE action = $1)", MARKER):
            return False
        op = await conn.fetchrow(
            "SELECT id, credit_code FROM organisations WHERE kind = 'operator' AND status = 'active'"
            " ORDER BY created_at, name LIMIT 1"
        )
        if op is None:
            return False
        operator = Principal(uuid.UUID(int=0), op["id"], "operator", "active", op["credit_code"].strip())
        institutions = await _criteria(_OnePool(conn), random.Random(seed))
        counts = await _run_pool(_OnePool(conn), operator, base_url)
        tz = timezone(timedelta(hours=8))
        now = datetime.now(tz)
        first = (now.replace(day=1, hour=9, minute=0, second=0, microsecond=0) + timedelta(days=32)).replace(day=1)
        await conn.execute(
            "INSERT INTO push_schedules (name, every, next_run_at, created_by) VALUES ($1, 'monthly', $2, $3)",
            "每月推送（演示）",
            first.astimezone(UTC),
            op["id"],
        )
        run = await service_push.run_in(conn, trigger="demo", actor=operator, base_url=base_url)
        detail = {**counts, "institutions": institutions, "lists": run.lists_published, "rows": run.rows_published}
        await registry_store.audit(conn, operator, MARKER, "demo", str(seed), detail)
    return True
