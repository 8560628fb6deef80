"""The matching demo (idempotent, respects quotas and criteria) and the `ipledge matching` CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from ipledge.demo import load_demo
from matching.demo import load_matching_demo


async def test_demo_admits_a_share_under_criteria_and_runs_one_push(db: Any) -> None:
    await load_demo(db, 20240101)
    assert await load_matching_demo(db, base_url="http://demo") is True
    states = dict(await db.fetch("SELECT state, count(*) FROM pool_entries GROUP BY state"))
    total = sum(states.values())
    assert total == 300 and 0.1 * total <= states["admitted"] <= 0.6 * total, states
    assert states.get("rejected", 0) > 0
    # every admission either passed all ten criteria or carries written overrides
    bad = await db.fetchval(
        "SELECT count(*) FROM pool_entries p WHERE state = 'admitted' AND jsonb_array_length(overrides) = 0"
        " AND EXISTS (SELECT 1 FROM jsonb_array_elements(p.criteria) c WHERE c->>'verdict' <> 'pass')"
    )
    assert bad == 0
    assert await db.fetchval("SELECT max(initial_admissions) FROM pool_quotas") <= 500
    assert await db.fetchval("SELECT count(*) FROM institution_criteria") == 26  # 8 banks + 18 funds approved
    assert await db.fetchval("SELECT count(*) FROM push_runs WHERE trigger = 'demo'") == 1
    assert await db.fetchval("SELECT count(*) FROM push_lists") > 5
    assert await db.fetchval("SELECT count(*) FROM push_schedules") == 1
    assert await load_matching_demo(db, base_url="http://demo") is False
    assert await db.fetchval("SELECT count(*) FROM push_runs") == 1


def test_cli_push_run_and_quotas(db_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": db_url, "IPLEDGE_LOG_LEVEL": "WARNING"}
    run = [sys.executable, "-m", "ipledge.cli", "matching"]
    out = subprocess.run([*run, "push-run"], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "lists published" in out.stdout, out.stderr
    out = subprocess.run([*run, "run-schedules"], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "0 scheduled" in out.stdout, out.stderr
    out = subprocess.run([*run, "quotas", "--all"], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "广东" in out.stdout and "500" in out.stdout, out.stderr
