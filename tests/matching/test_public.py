"""matching.public: fit scores, pool members and pool states as other domains see them."""

from __future__ import annotations

import uuid
from typing import Any

from matching.public import FitScore, fit_scores, pool_members, pool_status


async def _entry(db: Any, enterprise_id: uuid.UUID, state: str, province: str = "44") -> None:
    await db.execute(
        "INSERT INTO pool_entries (enterprise_id, province_code, state, policy_version, admitted_at)"
        " VALUES ($1, $2, $3, '2024.1', CASE WHEN $3 = 'admitted' THEN now() END)",
        enterprise_id,
        province,
        state,
    )


async def test_fit_scores_without_criteria_or_grades_uses_open_criteria(db: Any, world: Any) -> None:
    ent, other = world.enterprise.org.id, world.other_enterprise.org.id
    await db.execute(
        "UPDATE enterprises SET chain_code = 'ic', business_scope = '集成电路芯片设计与封装测试', financing_need = 8e6"
        " WHERE organisation_id = $1",
        ent,
    )
    bank, fund = world.bank.org.id, world.fund.org.id
    scores = await fit_scores(db, [ent, other], [bank, fund])
    # the other enterprise did not consent: gated out everywhere
    assert set(scores) == {(ent, bank), (ent, fund)}
    fit = scores[(ent, bank)]
    assert isinstance(fit, FitScore) and 0 < fit.score <= 100 and isinstance(fit.reasons, list)
    assert await fit_scores(db, [], [bank]) == {}


async def test_fit_scores_honour_registered_criteria_and_language(db: Any, world: Any) -> None:
    ent, bank = world.enterprise.org.id, world.bank.org.id
    await db.execute("UPDATE enterprises SET chain_code = 'ic', financing_need = 8e6 WHERE organisation_id = $1", ent)
    await db.execute(
        "INSERT INTO institution_criteria (organisation_id, version, kind, chains, amount_min, amount_max)"
        " VALUES ($1, 1, 'bank', '{ic}', 2e6, 2e7)",
        bank,
    )
    zh = await fit_scores(db, [ent], [bank])
    assert any("集成电路" in r for r in zh[(ent, bank)].reasons)
    assert any("800万" in r and "200-2000万" in r for r in zh[(ent, bank)].reasons)
    en = await fit_scores(db, [ent], [bank], lang="en")
    assert any("Integrated circuits" in r for r in en[(ent, bank)].reasons)
    await db.execute("UPDATE enterprises SET financing_need = 5e7 WHERE organisation_id = $1", ent)
    assert await fit_scores(db, [ent], [bank]) == {}  # need outside the range: gated out


async def test_pool_members_and_status(db: Any, world: Any) -> None:
    ent, other = world.enterprise.org.id, world.other_enterprise.org.id
    await db.execute("UPDATE enterprises SET chain_code = 'ic' WHERE organisation_id = $1", ent)
    await _entry(db, ent, "admitted")
    await _entry(db, other, "rejected", "33")
    assert await pool_members(db) == [ent]
    assert await pool_members(db, chain="ic", province="广东") == [ent]
    assert await pool_members(db, chain="ai") == []
    assert await pool_members(db, status="rejected", province="33") == [other]
    assert await pool_status(db, [ent, other, world.bank.org.id]) == {ent: "admitted", other: "rejected"}
