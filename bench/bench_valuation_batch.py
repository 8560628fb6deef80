"""Batch valuation, PostgreSQL to PostgreSQL: ``ipledge valuation batch`` against a bare COPY out and in.

Generates N patents (default 1,000,000) over 50,000 enterprises with legal events into a scratch
database (``DATABASE_URL`` when set — it must be a throw-away database — else an embedded
PostgreSQL in a temporary directory), then measures:

- baseline: ``COPY patents TO STDOUT`` streamed straight into ``COPY patents_copy FROM STDIN``
  (binary, same rows, same server, no computation);
- ours: the real CLI, ``ipledge valuation batch --quiet``, in a subprocess (its wall time and its
  peak resident memory from ``wait4``).

Targets (QUALITY.md): ≤ 60 s on 2 cores and ≤ 3x the baseline; peak memory under 1 GiB.
With ``--repeat K`` the baseline and the batch alternate K times and the medians are reported
(each batch run is a new run that values and writes every patent again).

Usage: ``python bench/bench_valuation_batch.py [N] [--chunk 50000] [--repeat 1]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

import asyncpg

from ipledge.db.migrate import migrate
from valuation.codes import CHAIN_CODES

ENTERPRISES = 50_000

GENERATE = [
    """INSERT INTO organisations (kind, name, credit_code, province_code, status)
       SELECT 'enterprise', '基准企业' || k, 'BENCH' || lpad(k::text, 13, '0'),
              (ARRAY['11', '31', '32', '33', '44', '51'])[1 + k % 6], 'active'
       FROM generate_series(1, $1::int) k""",
    """INSERT INTO enterprises (organisation_id, chain_code, revenue, patent_industrialisation_rate, certifications)
       SELECT id, ($2::text[])[1 + abs(hashtext(id::text)) % 12], 1e6 + abs(hashtext(id::text || 'r')) % 200000000,
              0.3 + (abs(hashtext(id::text || 'p')) % 70) / 100.0,
              CASE WHEN abs(hashtext(id::text || 'h')) % 3 = 0 THEN ARRAY['hnte'] ELSE ARRAY[]::text[] END
       FROM organisations WHERE credit_code LIKE 'BENCH%' AND $1::int > 0""",
    """CREATE TEMP TABLE bench_owners AS
       SELECT row_number() OVER (ORDER BY id) AS k, id FROM organisations WHERE credit_code LIKE 'BENCH%'""",
    """INSERT INTO patents (number, patent_type, title, owner_id, owner_name, filing_date, grant_date, expiry_date,
           legal_status, fees_paid, claims_total, claims_independent, claim_types, first_claim, ipc_codes,
           family_offices, forward_citations, backward_citations, chain_codes)
       SELECT lpad((200000000000 + i)::text, 12, '0') || '.' || (i % 10),
              CASE WHEN i % 3 = 0 THEN 'utility_model' WHEN i % 17 = 0 THEN 'design' ELSE 'invention' END,
              '基准专利 ' || i, o.id, '权利人', date '2008-01-01' + (i % 5800), date '2010-01-01' + (i % 5800),
              CASE WHEN i % 3 = 0 THEN date '2018-01-01' ELSE date '2028-01-01' END + (i % 5800),
              CASE WHEN i % 23 = 0 THEN 'pending' WHEN i % 29 = 0 THEN 'lapsed' ELSE 'granted' END,
              i % 97 <> 0, 4 + i % 25, 1 + i % 4,
              (ARRAY['product_and_method', 'product', 'method', 'unknown'])[1 + i % 4],
              repeat('权', 40 + i % 300),
              ARRAY[(ARRAY['H01L', 'G06F', 'A61K', 'B60L', 'C08L', 'H04W', 'B25J', 'F24S'])[1 + i % 8]
                    || ' ' || (i % 90) || '/' || (i % 7), 'G06N 3/0' || (i % 9)],
              CASE WHEN i % 4 = 0 THEN ARRAY['US', 'EP'] WHEN i % 9 = 0 THEN ARRAY['JP', 'DE', 'CA']
                   ELSE ARRAY[]::text[] END,
              (i * 31) % 41, i % 33, ARRAY[($2::text[])[1 + i % 12]]
       FROM generate_series(1, $1::int) i
       LEFT JOIN bench_owners o ON o.k = 1 + (i::bigint * 7919) % 52000""",
    """INSERT INTO patent_events (number, kind, event_date)
       SELECT number, (ARRAY['pledge', 'pledge_release', 'licence', 'transfer', 'invalidation_request',
                             'invalidation_rejected', 'litigation_won', 'insurance'])[1 + n % 8],
              date '2019-01-01' + (n % 1500)::int
       FROM (SELECT number, row_number() OVER () AS n FROM patents TABLESAMPLE SYSTEM (10)) s
       WHERE $1::int > 0 AND $2::text[] IS NOT NULL""",
]


async def generate(dsn: str, n: int) -> float:
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
        if await conn.fetchval("SELECT count(*) FROM patents") == n:
            return 0.0
        start = time.perf_counter()
        await conn.execute("TRUNCATE patent_events, patents, enterprises, organisations CASCADE")
        await conn.execute(GENERATE[0], ENTERPRISES)
        await conn.execute(GENERATE[1], ENTERPRISES, list(CHAIN_CODES))
        await conn.execute(GENERATE[2])
        await conn.execute(GENERATE[3], n, list(CHAIN_CODES))
        await conn.execute(GENERATE[4], n, list(CHAIN_CODES))
        await conn.execute("VACUUM ANALYZE")
        return time.perf_counter() - start
    finally:
        await conn.close()


async def bare_copy(dsn: str) -> tuple[float, int]:
    """COPY every patent row out and straight back into a copy of the table (binary, streamed)."""
    reader, writer = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    try:
        await writer.execute("DROP TABLE IF EXISTS patents_copy")
        await writer.execute("CREATE UNLOGGED TABLE patents_copy (LIKE patents INCLUDING DEFAULTS)")
        await writer.execute("ALTER TABLE patents_copy ADD PRIMARY KEY (number)")
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=64)

        async def sink(data: bytes) -> None:
            await queue.put(bytes(data))

        async def source() -> Any:
            while (item := await queue.get()) is not None:
                yield item

        async def produce() -> None:
            await reader.copy_from_table("patents", output=sink, format="binary")
            await queue.put(None)

        start = time.perf_counter()
        _, status = await asyncio.gather(
            produce(), writer.copy_to_table("patents_copy", source=source(), format="binary")
        )
        elapsed = time.perf_counter() - start
        await writer.execute("DROP TABLE patents_copy")
        return elapsed, int(status.split()[-1])
    finally:
        await reader.close()
        await writer.close()


def run_cli(dsn: str, chunk: int) -> tuple[float, float, str]:
    """Run the real batch command; returns wall seconds, peak RSS in MiB and its last line."""
    env = {**os.environ, "DATABASE_URL": dsn, "IPLEDGE_LOG_LEVEL": "WARNING"}
    cmd = [sys.executable, "-m", "ipledge.cli", "valuation", "batch", "--quiet", "--chunk", str(chunk)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    out = proc.stdout.read().decode() if proc.stdout else ""
    err = proc.stderr.read().decode() if proc.stderr else ""
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"batch failed:\n{err}")
    return elapsed, usage.ru_maxrss / 1024, out.strip().splitlines()[-1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=1, help="alternate baseline and batch this many times")
    args = parser.parse_args()
    server = None
    dsn = os.environ.get("DATABASE_URL")
    if dsn is None:
        from ipledge.db.embedded import EmbeddedPostgres

        server = EmbeddedPostgres.temporary("ipledge-bench-")
        server.psql(
            "ALTER SYSTEM SET max_wal_size = '4GB'; ALTER SYSTEM SET work_mem = '64MB'; SELECT pg_reload_conf();"
        )
        dsn = server.dsn()
    try:
        made = asyncio.run(generate(dsn, args.n))
        print(f"generated {args.n:,} patents over {ENTERPRISES:,} enterprises in {made:.1f} s")
        bares, ours_runs, ratios, rss_runs, loads = [], [], [], [], []
        line, copied = "", 0
        for _ in range(args.repeat):
            loads.append(os.getloadavg()[0])
            bare, copied = asyncio.run(bare_copy(dsn))
            ours, rss, line = run_cli(dsn, args.chunk)
            bares.append(bare)
            ours_runs.append(ours)
            ratios.append(ours / bare)
            rss_runs.append(rss)
        loads.append(os.getloadavg()[0])
        med = statistics.median
        bare, ours, rss = med(bares), med(ours_runs), max(rss_runs)
        runs = f" (median of {args.repeat} alternating runs)" if args.repeat > 1 else ""
        print(f"baseline: bare COPY out+in of {copied:,} patent rows: {bare:.2f} s{runs}"
              f"   runs: {' '.join(f'{x:.1f}' for x in bares)}")  # fmt: skip
        print(f"batch:    ipledge valuation batch --chunk {args.chunk}: {ours:.2f} s ({args.n / ours:,.0f} patents/s)"
              f"   runs: {' '.join(f'{x:.1f}' for x in ours_runs)}")  # fmt: skip
        print(f"          {line}")
        print(f"ratio:    {med(ratios):.2f}x the bare COPY (target ≤ 3x; runs: {' '.join(f'{x:.2f}' for x in ratios)});"
              f" {ours:.1f} s (target ≤ 60 s)")  # fmt: skip
        print(f"memory:   peak RSS of the batch process {rss:,.0f} MiB (target < 1024 MiB)")
        print(f"machine:  {os.cpu_count()} CPUs, 1-min load average before each run and after: "
              + " ".join(f"{x:.2f}" for x in loads))  # fmt: skip
        print(f"          this process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    finally:
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
