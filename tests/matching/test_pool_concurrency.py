"""The quota check and the insert are atomic: 50 concurrent admissions for the last seat admit one."""

from __future__ import annotations

import asyncio
from typing import Any

from ipledge.db.pool import create_pool
from ipledge.errors import Conflict
from matching import schemas as s
from matching import service_pool
from tests.matching.helpers import bulk_enterprises, principal


async def test_fifty_concurrent_admissions_for_the_last_seat_admit_exactly_one(
    db: Any, db_url: str, world: Any
) -> None:
    candidates = await bulk_enterprises(db, 50, "11", state="under_review")
    # 北京 has a cap of 300: 299 seats are taken, no graduations, so no supplements either
    await db.execute("INSERT INTO pool_quotas (province_code, initial_admissions) VALUES ('11', 299)")
    operator = principal(world.operator)
    wide = await create_pool(db_url, min_size=50, max_size=50)
    try:

        async def admit(code: str) -> str:
            try:
                await service_pool.admit(wide, operator, code, s.AdmitIn(), "http://test", "zh")
            except Conflict:
                return "refused"
            return "admitted"

        outcomes = await asyncio.gather(*(admit(code) for _, code in candidates))
    finally:
        await wide.close()
    assert outcomes.count("admitted") == 1 and outcomes.count("refused") == 49
    assert await db.fetchval("SELECT initial_admissions FROM pool_quotas WHERE province_code = '11'") == 300
    assert await db.fetchval("SELECT count(*) FROM pool_entries WHERE state = 'admitted'") == 1
    assert await db.fetchval("SELECT count(*) FROM pool_transitions WHERE to_state = 'admitted'") == 1


async def test_supplements_follow_graduations(db: Any, world: Any) -> None:
    candidates = await bulk_enterprises(db, 4, "11", state="under_review")
    await db.execute("INSERT INTO pool_quotas (province_code, initial_admissions, graduations) VALUES ('11', 300, 1)")
    operator = principal(world.operator)
    kinds = []
    for _, code in candidates[:2]:
        entry = await service_pool.admit(db, operator, code, s.AdmitIn(), "http://test", "zh")
        kinds.append(entry.admission_kind)
    assert kinds == ["supplement", "supplement"]
    try:
        await service_pool.admit(db, operator, candidates[2][1], s.AdmitIn(), "http://test", "en")
    except Conflict as exc:
        assert "supplements exhausted" in exc.detail or "滚动补充已达上限" in exc.detail
    else:
        raise AssertionError("a third supplement with one graduation must be refused")
