"""The `ipledge matching …` subcommands: push runs, due schedules, quotas and the demo data."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from ipledge.db.runtime import open_database
from ipledge.db.types import Pool
from ipledge.settings import Settings


def _with_pool(settings: Settings, action: Callable[[Pool], Awaitable[int]]) -> int:
    async def main() -> int:
        async with open_database(settings) as pool:
            return await action(pool)

    return asyncio.run(main())


def cmd_push_run(args: argparse.Namespace, settings: Settings) -> int:
    from matching.service_push import run_push

    async def action(pool: Pool) -> int:
        run = await run_push(pool, trigger="cli", actor=None, base_url=settings.public_base_url)
        print(
            f"push run {run.id}: {run.enterprises} enterprises x {run.institutions} institutions,"
            f" {run.lists_published} lists published ({run.rows_published} rows) in {run.duration_ms:.0f} ms"
        )
        return 0

    return _with_pool(settings, action)


def cmd_run_schedules(args: argparse.Namespace, settings: Settings) -> int:
    from matching.schedule import run_due_push_runs

    async def action(pool: Pool) -> int:
        ran = await run_due_push_runs(pool, now=datetime.now(UTC), base_url=settings.public_base_url)
        print(f"{ran} scheduled push run(s) ran")
        return 0

    return _with_pool(settings, action)


def cmd_quotas(args: argparse.Namespace, settings: Settings) -> int:
    from matching.service_pool_views import quotas

    async def action(pool: Pool) -> int:
        print(f"{'省份':<6}{'上限':>6}{'首批':>6}{'补充':>6}{'出库':>6}{'在库':>6}{'剩余':>6}")
        for q in await quotas(pool, "zh"):
            if q.initial_admissions or q.members or args.all:
                left = q.initial_seats_left + q.supplement_seats_left
                print(
                    f"{q.province_name:<6}{q.cap:>6}{q.initial_admissions:>6}{q.supplements:>6}"
                    f"{q.graduations:>6}{q.members:>6}{left:>6}"
                )
        return 0

    return _with_pool(settings, action)


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from ipledge.demo import load_demo
    from matching.demo import load_matching_demo

    async def action(pool: Pool) -> int:
        await load_demo(pool, settings.demo_seed)
        loaded = await load_matching_demo(pool, base_url=settings.public_base_url)
        print("matching demo loaded" if loaded else "matching demo already present")
        return 0

    return _with_pool(settings, action)


def register(sub: Any) -> None:
    """Add this domain's subcommands to the `ipledge` parser (`sub` is its subparsers object)."""
    matching = sub.add_parser("matching", help="cultivation pool and push lists").add_subparsers(
        dest="matching_command", required=True
    )
    matching.add_parser("push-run", help="run a push now (publishes changed lists)").set_defaults(func=cmd_push_run)
    matching.add_parser("run-schedules", help="run the push schedules that are due").set_defaults(
        func=cmd_run_schedules
    )
    quotas = matching.add_parser("quotas", help="quota view per province")
    quotas.add_argument("--all", action="store_true", help="also provinces with no admissions")
    quotas.set_defaults(func=cmd_quotas)
    matching.add_parser("demo", help="load the foundation and matching demo data (idempotent)").set_defaults(
        func=cmd_demo
    )
