"""Push-run benchmark over the demo data: a full push run (read, score, diff, write, events).

Loads the foundation demo (300 enterprises, 28 approved banks and funds) and the matching demo
into a fresh database (``DATABASE_URL`` when set — it must be a throw-away database — else an
embedded PostgreSQL), then times, each as the median of several runs:

- baseline: reading the push inputs alone (pool profiles with patent titles, criteria);
- a push run with nothing changed (publishes nothing);
- a push run after every admitted enterprise's financing need changed (every list rewritten).
"""

import argparse
import asyncio
import os
import statistics
import time

from ipledge.db.migrate import migrate
from ipledge.db.pool import create_pool
from ipledge.demo import load_demo
from matching.demo import load_matching_demo
from matching.push_policy import DEFAULT_PUSH_POLICY
from matching.service_push import run_push
from matching.store_inputs import load_criteria, load_profiles


async def bench(dsn: str, repeats: int) -> None:
    pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
        t0 = time.perf_counter()
        await load_demo(pool, 20240101)
        await load_matching_demo(pool, base_url="http://bench")
        print(f"demo loaded in {time.perf_counter() - t0:.1f} s")
        admitted = await pool.fetchval("SELECT count(*) FROM pool_entries WHERE state = 'admitted'")
        institutions = await pool.fetchval("SELECT count(DISTINCT organisation_id) FROM institution_criteria")

        reads, same, changed, rows = [], [], [], []
        for i in range(repeats):
            t = time.perf_counter()
            async with pool.acquire() as conn, conn.transaction():
                await load_profiles(conn, states=DEFAULT_PUSH_POLICY.pushed_states)
                await load_criteria(conn, registered_only=True)
            reads.append(time.perf_counter() - t)
            t = time.perf_counter()
            run = await run_push(pool, trigger="cli", actor=None, base_url="http://bench")
            same.append(time.perf_counter() - t)
            assert run.lists_published == 0, "an unchanged push run must publish nothing"
            await pool.execute(
                "UPDATE enterprises SET financing_need = financing_need * $1 WHERE organisation_id IN"
                " (SELECT enterprise_id FROM pool_entries WHERE state = 'admitted')",
                1.02 if i % 2 == 0 else 1 / 1.02,
            )
            t = time.perf_counter()
            run = await run_push(pool, trigger="cli", actor=None, base_url="http://bench")
            changed.append(time.perf_counter() - t)
            rows.append(run.rows_published)
        base, quiet, busy = (statistics.median(x) * 1000 for x in (reads, same, changed))
        print(f"data:     {admitted} admitted enterprises x {institutions} institutions with criteria")
        print(f"baseline: reading the push inputs: {base:.1f} ms (median of {repeats})")
        print(f"push:     nothing changed: {quiet:.1f} ms ({quiet / base:.1f}x the read), publishes 0 lists")
        print(
            f"push:     every need changed: {busy:.1f} ms ({busy / base:.1f}x the read),"
            f" {statistics.median(rows):.0f} rows published"
        )
        print(f"machine:  {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    finally:
        await pool.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    server = None
    dsn = os.environ.get("DATABASE_URL")
    if dsn is None:
        from ipledge.db.embedded import EmbeddedPostgres

        server = EmbeddedPostgres.temporary("ipledge-bench-")
        dsn = server.dsn()
    try:
        asyncio.run(bench(dsn, args.repeats))
    finally:
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
