"""Scheduled push runs: a schedule table with ``next_run_at``; any number of workers may poll it.

``run_due_push_runs`` claims one due schedule at a time with ``FOR UPDATE SKIP LOCKED`` and runs
the push in the same transaction as advancing ``next_run_at``, so a schedule runs once per period
however many workers poll, and a crash mid-run leaves it due (the transaction rolls back).
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from typing import Literal

from ipledge.db.types import Pool
from matching import service_push

Every = Literal["daily", "weekly", "monthly"]


def _add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def next_run(previous: datetime, every: Every, now: datetime) -> datetime:
    """The first occurrence of the schedule strictly after ``now`` (missed periods are skipped).

    Args:
        previous: The occurrence that just ran (the old ``next_run_at``).
        every: The period.
        now: The current time.

    Returns:
        ``previous`` advanced by whole periods until it lies after ``now``.
    """
    step = 1
    while True:
        if every == "monthly":
            candidate = _add_months(previous, step)  # from the anchor, so 31 Jan -> 28 Feb -> 31 Mar
        else:
            candidate = previous + (timedelta(days=1) if every == "daily" else timedelta(weeks=1)) * step
        if candidate > now:
            return candidate
        step += 1


async def run_due_push_runs(pool: Pool, *, now: datetime, base_url: str | None = None) -> int:
    """Run every push schedule that is due (each under its own row lock); return how many ran.

    Args:
        pool: The database pool.
        now: The current time (timezone-aware).
        base_url: Public base URL for event links; the process settings' when omitted.

    Returns:
        The number of schedules that ran.
    """
    if base_url is None:
        from ipledge.settings import load_settings

        base_url = load_settings().public_base_url
    ran = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT id, every, next_run_at FROM push_schedules WHERE enabled AND next_run_at <= $1"
                " ORDER BY next_run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
                now,
            )
            if row is None:
                return ran
            run = await service_push.run_in(
                conn, trigger="scheduled", actor=None, base_url=base_url, schedule_id=row["id"]
            )
            await conn.execute(
                "UPDATE push_schedules SET next_run_at = $2, last_run_at = $3, last_run_id = $4, updated_at = now()"
                " WHERE id = $1",
                row["id"],
                next_run(row["next_run_at"], row["every"], now),
                now,
                run.id,
            )
        ran += 1
