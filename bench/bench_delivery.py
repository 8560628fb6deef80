"""Push delivery: signed webhook deliveries per second with 2 worker processes to a local receiver.

Target (QUALITY.md): >= 500 signed deliveries/s, 0 lost, 0 sent twice by two workers at once.
Baseline, measured in the same run against the same receiver process: plain unsigned POSTs from
one httpx client (8 in flight by default), which the receiver only counts. The receiver verifies every
signed delivery with the ``standardwebhooks`` package and notices a webhook-id arriving while an
earlier request with that id is still open.

It also prints the CPU time spent per delivery by the worker processes, the receiver and the
PostgreSQL backends of the bench database (from ``/proc``), which is less sensitive to other load
on the machine than the rate, and the load average before and after.

Usage: ``python bench/bench_delivery.py [--events 5000] [--concurrency 16]``
(``DATABASE_URL`` or ``TEST_DATABASE_URL`` to use a server; otherwise an embedded PostgreSQL).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from ipledge import outbox  # noqa: E402
from ipledge.db.migrate import migrate  # noqa: E402
from ipledge.db.pool import create_pool, init_connection  # noqa: E402
from ipledge.registry import schemas as rs  # noqa: E402
from ipledge.registry import service as registry  # noqa: E402
from ipledge.webhooks.sealing import seal  # noqa: E402
from matching.webhooks import generate_secret  # noqa: E402


def _server_dsn() -> tuple[str, Any]:
    url = os.environ.get("DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if url:
        return url, None
    from ipledge.db.embedded import EmbeddedPostgres

    server = EmbeddedPostgres.temporary("ipledge-bench-")
    return server.dsn(), server


async def _fresh_database(admin_dsn: str) -> str:
    name = "bench_delivery_" + uuid.uuid4().hex[:8]
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    parts = urlsplit(admin_dsn)
    dsn = urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))
    conn = await asyncpg.connect(dsn)
    try:
        await init_connection(conn)
        await migrate(conn)
    finally:
        await conn.close()
    return dsn


async def _stats(port: int) -> dict[str, int]:
    async with httpx.AsyncClient() as client:
        result: dict[str, int] = (await client.get(f"http://127.0.0.1:{port}/stats")).json()
        return result


async def _baseline(port: int, n: int, concurrency: int) -> float:
    """Plain unsigned POSTs/s from one httpx client to the same receiver."""
    body = b'{"type":"baseline","data":{}}'
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=15) as client:
        queue = iter(range(n))

        async def sender() -> None:
            for _ in queue:
                response = await client.post(f"http://127.0.0.1:{port}/plain", content=body)
                response.raise_for_status()

        start = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        return n / (time.perf_counter() - start)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _backend_pids(pool: Any) -> list[int]:
    rows = await pool.fetch("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
    return [int(r["pid"]) for r in rows]


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def _spawn_worker(dsn: str, concurrency: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": dsn,
            "IPLEDGE_ALLOW_PRIVATE_WEBHOOKS": "true",
            "IPLEDGE_WORKER_CONCURRENCY": str(concurrency),
            "IPLEDGE_LOG_LEVEL": "WARNING",
            "IPLEDGE_SCHEDULE_POLL": "3600",
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")]),
        }
    )
    return subprocess.Popen([sys.executable, "-m", "ipledge.cli", "worker"], env=env, cwd=ROOT)


async def _enqueue_all(pool: Any, org_id: uuid.UUID, n: int) -> None:
    async with pool.acquire() as conn, conn.transaction():
        for i in range(n):
            await outbox.enqueue(
                conn,
                event_type="pool.enterprise.admitted",
                organisation_id=org_id,
                payload={"enterprise_id": str(uuid.uuid4()), "credit_code": "91440300MA5XXXXXX1", "i": i},
            )


async def main(events: int, concurrency: int, baseline_concurrency: int) -> int:
    admin, server = _server_dsn()
    dsn = await _fresh_database(admin)
    pool = await create_pool(dsn, min_size=1, max_size=4)
    secret = generate_secret()
    receiver = subprocess.Popen(  # noqa: ASYNC220 (started once, before the clock)
        [sys.executable, "-m", "tests.webhooks.receiver", "0", secret], cwd=ROOT, stdout=subprocess.PIPE
    )
    workers: list[subprocess.Popen[bytes]] = []
    load_before = _loadavg()
    try:
        assert receiver.stdout is not None
        port = int(receiver.stdout.readline())
        baseline = await _baseline(port, events, baseline_concurrency)
        bank = await registry.create_organisation(
            pool, None, rs.OrganisationCreate(kind="bank", name="基准测试银行", credit_code=_code(), province="44")
        )
        await pool.execute("UPDATE organisations SET status = 'active' WHERE id = $1", bank.id)
        await pool.execute(
            "INSERT INTO webhook_endpoints (organisation_id, url, event_types, secret_sealed) VALUES ($1, $2, $3, $4)",
            bank.id,
            f"http://127.0.0.1:{port}/hook",
            ["pool.enterprise.admitted"],
            seal(secret, None),
        )
        workers = [_spawn_worker(dsn, concurrency) for _ in range(2)]
        await _until_listening(pool, 2)
        clock = time.perf_counter()
        await _enqueue_all(pool, bank.id, events)
        start = time.perf_counter()  # the messages become visible to the workers at this commit
        enqueued = start - clock
        backends = await _backend_pids(pool)
        cpu_start = {pid: _cpu_seconds(pid) for pid in [*(w.pid for w in workers), receiver.pid, *backends]}
        while await pool.fetchval("SELECT count(*) FROM webhook_messages WHERE status = 'succeeded'") < events:
            if time.perf_counter() - start > 300:
                break
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - start
        cpu_used = {pid: _cpu_seconds(pid) - before for pid, before in cpu_start.items()}
        for pid in await _backend_pids(pool):  # connections opened during the run: all their CPU is in it
            if pid not in cpu_used:
                backends.append(pid)
                cpu_used[pid] = _cpu_seconds(pid)
        load_after = _loadavg()
        stats = await _stats(port)
        succeeded = await pool.fetchval("SELECT count(*) FROM webhook_messages WHERE status = 'succeeded'")
        per_worker = await pool.fetch("SELECT worker, count(*) FROM webhook_attempts GROUP BY worker")
        baseline_after = await _baseline(port, events, baseline_concurrency)
    finally:
        for proc in workers:
            proc.terminate()
        for proc in workers:
            proc.wait(timeout=30)
        receiver.terminate()
        receiver.wait(timeout=10)
        await pool.close()
        if server is not None:
            server.stop()
    rate = events / elapsed
    lost = events - min(succeeded, stats["distinct"])
    print(f"events: {events} (enqueued in one transaction in {enqueued:.2f} s; the clock starts at its commit)")
    print(f"signed deliveries: {rate:,.0f}/s with 2 worker processes x {concurrency} in flight ({elapsed:.2f} s)")
    print(f"  per worker: {', '.join(str(r['count']) for r in per_worker)} attempts")
    received, verified, distinct = stats["received"], stats["verified"], stats["distinct"]
    print(f"  received {received}, verified {verified} (standardwebhooks), distinct ids {distinct}")
    print(f"  lost: {lost}   sent twice at once: {stats['overlaps']}   received more than once: {received - distinct}")
    worker_cpu = sum(cpu_used[w.pid] for w in workers)
    pg_cpu = sum(cpu_used[pid] for pid in backends)  # the bench's own polling connection included
    print(
        f"  CPU per delivery: workers {worker_cpu / events * 1e3:.2f} ms, receiver"
        f" {cpu_used[receiver.pid] / events * 1e3:.2f} ms, PostgreSQL backends {pg_cpu / events * 1e3:.2f} ms"
    )
    print(
        f"baseline: plain unsigned POSTs from one httpx client ({baseline_concurrency} in flight),"
        f" same receiver: {baseline:,.0f}/s before, {baseline_after:,.0f}/s after"
    )
    mean_baseline = (baseline + baseline_after) / 2
    print(f"ratio: {rate / mean_baseline:.2f} of the baseline (mean)   target: >= 500/s, 0 lost, 0 twice at once")
    print(f"load average: {load_before} before, {load_after} at the end of the delivery run")
    ok = rate >= 500 and lost == 0 and stats["overlaps"] == 0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


async def _until_listening(pool: Any, n: int) -> None:
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline:
        listening = await pool.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'"
        )
        if listening >= n:
            return
        await asyncio.sleep(0.05)
    raise SystemExit("workers did not start")


def _code() -> str:
    from ipledge.identifiers import make_credit_code

    return make_credit_code(f"91440300MA{uuid.uuid4().int % 10_000_000:07d}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=16, help="deliveries in flight per worker (the default)")
    parser.add_argument("--baseline-concurrency", type=int, default=8, help="POSTs in flight for the baseline")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.events, args.concurrency, args.baseline_concurrency)))
