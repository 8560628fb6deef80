"""API overhead and assessment latency, over real HTTP.

(a) The stateless income calculator of ipledge (``ipledge serve``: auth, strict bodies, request
    ids, metrics, access log) against bare Litestar + msgspec POST handlers served the same way
    and loaded the same way: ``bare echo`` decodes the same request Struct and returns a small
    Struct; ``bare compute`` also runs the same calculator. Target: ours ≥ 60% of the bare echo's
    requests/s. The servers are loaded in interleaved rounds (bare compute, bare echo, ours, the
    assessment); each round's ratio is taken between the echo run and ours, run back to back, and
    the medians over the rounds are reported.
(b) A persisted pledge assessment (``POST /api/v1/assessments``: valuation of the enterprise's
    whole portfolio including the market approach over recorded transactions, report in two
    languages, append-only insert with its audit row) at 16 concurrent connections (closed loop).
    Requests rotate over the 8 enterprises with the most granted patents (3 patents offered each;
    each portfolio, 24 patents in the demo data, is valued), so no request repeats the one before
    it. Target: p99 < 50 ms. Medians over the rounds.

Serving: both servers run under uvicorn with ``--workers N`` processes each, default 1, on uvloop with
the httptools parser (both are dependencies of ipledge, and uvicorn's ``loop``/``http`` "auto" pick
them). Ours is started exactly as production starts it, ``ipledge serve --workers N``
(``IPLEDGE_WORKERS``, docs/operations.md); the bare app is started the same way (``uvicorn.run`` for
one process, ``ipledge.cli.run_workers`` for several).

Besides requests/s and latencies, each run reports the CPU time the server processes (and, with
the embedded database, PostgreSQL's processes) spent per request, read from /proc: on a shared
machine this moves much less with the neighbours' load than requests/s does.

Load: ``wrk`` when installed (``apt-get install -y wrk``), else a Python asyncio keep-alive client.
Database: ``DATABASE_URL`` (a throw-away one) or an embedded PostgreSQL in a temporary directory,
loaded with the demo data.

Usage: ``python bench/bench_valuation_api.py [--seconds 6] [--connections 16] [--rounds 5] [--workers 1]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgspec
from litestar import Litestar, post

from valuation.income import IncomeRequest, IncomeResult, income_value

INCOME = {"method": "royalty_relief", "discount_rate": 0.10, "tax_rate": 0.25, "years": 5, "revenue": 1000,
          "royalty_rate": 0.03}  # fmt: skip


class Echo(msgspec.Struct):
    value: float
    periods: int


@post("/echo", status_code=200)
async def echo(data: IncomeRequest) -> Echo:
    return Echo(value=data.discount_rate, periods=data.years or 0)


@post("/compute", status_code=200)
async def compute(data: IncomeRequest) -> IncomeResult:
    return income_value(data)


bare_app = Litestar([echo, compute], debug=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_ready(port: int, path: str, deadline: float = 60.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                if s.recv(64).startswith(b"HTTP/1.1"):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server on port {port} did not start")


def children(root: int) -> list[int]:
    """The processes whose parent is ``root`` (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1] == str(root):
                found.append(int(entry))
        except OSError:
            continue
    return found


def wait_workers(root: int, workers: int, deadline: float = 60.0) -> None:
    """With several workers, until all of them accept connections: each claims a slot in the table of
    ``ipledge.balance`` (named in the workers' environment) when its listener opens. Otherwise the first
    load could begin while one worker is still starting, and that one would get no connections."""
    if workers == 1:
        return
    from ipledge.balance import ENV, Slots

    end = time.monotonic() + deadline
    while time.monotonic() < end:
        for child in children(root):
            try:
                environ = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
                path = next(item.split(b"=", 1)[1] for item in environ if item.startswith(ENV.encode() + b"="))
                table = Slots(path.decode())
            except (OSError, StopIteration):
                continue
            try:
                if table.claimed() >= workers:
                    return
            finally:
                table.close()
        time.sleep(0.2)
    raise SystemExit(f"the {workers} workers of process {root} did not all start")


def start_bare(port: int, workers: int) -> subprocess.Popen[bytes]:
    """The bare app under uvicorn, started exactly as ``ipledge serve`` starts ours (one process, or N workers)."""
    if workers == 1:
        code = (
            "import sys, uvicorn; sys.path.insert(0, 'bench'); from bench_valuation_api import bare_app; "
            f"uvicorn.run(bare_app, host='127.0.0.1', port={port}, log_config=None, access_log=False, lifespan='on')"
        )
    else:
        code = (
            "import sys; sys.path.insert(0, 'bench'); from ipledge.cli import run_workers; "
            f"run_workers('bench_valuation_api:bare_app', '127.0.0.1', {port}, {workers}, factory=False)"
        )
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_ours(port: int, dsn: str, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": dsn, "IPLEDGE_DB_POOL_MAX": "20"}
    cmd = [sys.executable, "-m", "ipledge.cli", "serve", "--port", str(port), "--workers", str(workers)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# --- CPU accounting ----------------------------------------------------------------------------------------


def tree_cpu(root: int | None) -> float:
    """CPU seconds (user + system) used so far by process ``root`` and its live descendants (Linux /proc)."""
    if root is None:
        return float("nan")
    parent, used = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent[int(entry)], used[int(entry)] = int(stat[1]), int(stat[11]) + int(stat[12])
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, ppid in parent.items() if ppid in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(used.get(pid, 0) for pid in tree) / os.sysconf("SC_CLK_TCK")


class Measured:
    """A load run's requests/s and p99 with the CPU the server and PostgreSQL spent per request."""

    def __init__(self, rps: float, p99: float, server_ms: float, pg_ms: float) -> None:
        self.rps, self.p99, self.server_ms, self.pg_ms = rps, p99, server_ms, pg_ms


def measured(
    url: str, requests: list[Request], seconds: int, connections: int, server: int, postgres: int | None
) -> Measured:
    """:func:`load` with the CPU time of the server's and PostgreSQL's processes over the run, per request."""
    before = tree_cpu(server), tree_cpu(postgres)
    rps, p99 = load(url, requests, seconds, connections)
    after = tree_cpu(server), tree_cpu(postgres)
    count = max(rps * seconds, 1.0)
    return Measured(rps, p99, (after[0] - before[0]) / count * 1000, (after[1] - before[1]) / count * 1000)


# --- load generators -------------------------------------------------------------------------------------


Request = tuple[bytes, dict[str, str]]  # body and extra headers


def run_wrk(url: str, requests: list[Request], seconds: int, connections: int) -> tuple[float, float]:
    """Requests/s and p99 latency (ms) from wrk; each connection cycles through ``requests``."""
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    path = "/" + url.split("/", 3)[3]
    lines = ["local reqs = {}"]
    for body, headers in requests:
        table = ", ".join(f"[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items())
        table += (", " if table else "") + '["Content-Type"] = "application/json"'
        table += f', ["Host"] = {json.dumps(url.split("/")[2])}'  # wrk.format() with our own table sets no Host
        lines.append(
            f'reqs[#reqs + 1] = wrk.format("POST", {json.dumps(path)}, {{{table}}}, {json.dumps(body.decode())})'
        )
    lines += ["local i = 0", "request = function()", "  i = i % #reqs + 1", "  return reqs[i]", "end"]
    script.write_text("\n".join(lines) + "\n")
    threads = str(min(2, connections))
    out = subprocess.run(
        ["wrk", "-t", threads, "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    script.unlink()
    if "Non-2xx" in out:
        raise SystemExit(f"non-2xx responses from {url}:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return rps, float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan")


async def _client(port: int, requests: list[bytes], stop: float, latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = 0
    try:
        while time.perf_counter() < stop:
            start = time.perf_counter()
            writer.write(requests[i % len(requests)])
            i += 1
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith((b"HTTP/1.1 200", b"HTTP/1.1 201")):
                raise SystemExit(f"unexpected response: {head[:80]!r}")
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
    finally:
        writer.close()


def run_python(url: str, requests: list[Request], seconds: int, connections: int) -> tuple[float, float]:
    """Requests/s and p99 latency (ms) from an asyncio keep-alive client (when wrk is missing)."""
    port, path = int(url.split(":")[2].split("/")[0]), "/" + url.split("/", 3)[3]
    raw = []
    for body, headers in requests:
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        raw.append(
            (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{extra}"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            + body
        )
    latencies: list[float] = []

    async def main() -> None:
        stop = time.perf_counter() + seconds
        await asyncio.gather(*(_client(port, raw, stop, latencies) for _ in range(connections)))

    start = time.perf_counter()
    asyncio.run(main())
    elapsed = time.perf_counter() - start
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else float("nan")
    return len(latencies) / elapsed, p99


def load(url: str, requests: list[Request], seconds: int, connections: int) -> tuple[float, float]:
    if shutil.which("wrk"):
        return run_wrk(url, requests, seconds, connections)
    return run_python(url, requests, seconds, connections)


# --- data ------------------------------------------------------------------------------------------------


TRANSACTIONS_PER_CHAIN = 20


async def prepare(dsn: str, enterprises: int) -> tuple[list[tuple[str, list[str]]], str, str]:
    """Demo data, recorded transactions (so the market approach applies), an API key and 3 granted
    patents for each of the ``enterprises`` enterprises with the most granted patents, an operator key, and
    the database's version with the settings that bear on a commit's cost."""
    import datetime as dt
    import random

    from ipledge.db.migrate import migrate
    from ipledge.db.pool import create_pool
    from ipledge.demo import load_demo
    from ipledge.registry import service
    from valuation.codes import CHAIN_CODES, N_INDICATORS

    pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
        await load_demo(pool, 20240101)
        if not await pool.fetchval("SELECT count(*) FROM market_transactions"):
            rng, today = random.Random(7), dt.date.today()
            rows = [
                ("pledge", chain, today - dt.timedelta(days=rng.randrange(30, 900)), rng.uniform(1e6, 1e7),
                 rng.uniform(1e7, 1e8), [round(rng.uniform(20, 100), 2) for _ in range(N_INDICATORS)], "bench")
                for chain in CHAIN_CODES for _ in range(TRANSACTIONS_PER_CHAIN)
            ]  # fmt: skip
            await pool.executemany(
                "INSERT INTO market_transactions (kind, chain_code, transaction_date, price, revenue,"
                " indicator_scores, note) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                rows,
            )
        owners = await pool.fetch(
            "SELECT p.owner_id, array_agg(p.number ORDER BY p.number) AS numbers FROM patents p"
            " JOIN enterprises e ON e.organisation_id = p.owner_id WHERE p.legal_status = 'granted'"
            " GROUP BY p.owner_id HAVING count(*) >= 3 ORDER BY count(*) DESC, p.owner_id LIMIT $1",
            enterprises,
        )
        keyed = []
        for row in owners:
            created = await service.create_key(pool, None, row["owner_id"], "bench")
            keyed.append((created.key, list(row["numbers"][:3])))
        operator_id = await pool.fetchval("SELECT id FROM organisations WHERE kind = 'operator' LIMIT 1")
        operator = await service.create_key(pool, None, operator_id, "bench")
        wal = await pool.fetchval("SELECT string_agg(name || '=' || setting, ', ' ORDER BY name) FROM pg_settings"
                                  " WHERE name IN ('wal_init_zero', 'synchronous_commit', 'fsync')")  # fmt: skip
        return keyed, operator.key, f"PostgreSQL {await pool.fetchval('SHOW server_version')} ({wal})"
    finally:
        await pool.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (medians are reported)")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes, ours and the bare ones")
    parser.add_argument("--enterprises", type=int, default=8, help="assessment requests rotate over this many")
    parser.add_argument("--only", choices=("a", "b"), help="measure one target only (both by default)")
    args = parser.parse_args()
    server = None
    postmaster: int | None = None
    dsn = os.environ.get("DATABASE_URL")
    if dsn is None:
        from ipledge.db.embedded import EmbeddedPostgres

        server = EmbeddedPostgres.temporary("ipledge-bench-api-")
        dsn = server.dsn()
        postmaster = int((server.pgdata / "postmaster.pid").read_text().split()[0])
    procs: list[subprocess.Popen[bytes]] = []
    try:
        keyed, operator_key, database = asyncio.run(prepare(dsn, args.enterprises))
        bare_port, our_port = free_port(), free_port()
        procs = [start_bare(bare_port, args.workers), start_ours(our_port, dsn, args.workers)]
        wait_ready(bare_port, "/echo")
        wait_ready(our_port, "/health")
        for proc in procs:
            wait_workers(proc.pid, args.workers)
        tool = "wrk" if shutil.which("wrk") else "python asyncio client"
        c, s = args.connections, args.seconds
        income = [(json.dumps(INCOME).encode(), {"Authorization": f"Bearer {operator_key}"})]
        bare: list[Request] = [(income[0][0], {})]
        income_url = f"http://127.0.0.1:{our_port}/api/v1/valuation/methods/income"
        assess = [
            (json.dumps({"patents": [{"number": n} for n in numbers], "requested_amount": 2_000_000}).encode(),
             {"Authorization": f"Bearer {key}"})
            for key, numbers in keyed
        ]  # fmt: skip
        assess_url = f"http://127.0.0.1:{our_port}/api/v1/assessments"
        parts = {args.only} if args.only else {"a", "b"}
        if "a" in parts:
            load(income_url, income, 2, c)  # warm up
        if "b" in parts:
            load(assess_url, assess, 2, c)
        loads = [os.getloadavg()]
        bare_pid, our_pid = procs[0].pid, procs[1].pid
        echo, compute, ours, assessed = [], [], [], []
        for _ in range(args.rounds):
            # Interleaved, with the echo run right before ours: the machine is shared, so load drifts, and each
            # round's ratio compares two runs seconds apart.
            if "a" in parts:
                compute.append(measured(f"http://127.0.0.1:{bare_port}/compute", bare, s, c, bare_pid, None))
                echo.append(measured(f"http://127.0.0.1:{bare_port}/echo", bare, s, c, bare_pid, None))
                ours.append(measured(income_url, income, s, c, our_pid, None))
            if "b" in parts:
                assessed.append(measured(assess_url, assess, s, c, our_pid, postmaster))
            loads.append(os.getloadavg())
        med = statistics.median

        def rounds(runs: list[Measured]) -> str:
            return " ".join(f"{r.rps:.0f}" for r in runs)

        def cpu_us(runs: list[Measured]) -> str:
            return f"{med(r.server_ms for r in runs) * 1000:.0f} us"

        print(f"load generator: {tool}, {c} connections, {s} s per run, {args.rounds} interleaved rounds (medians);"
              f" servers: uvicorn, {args.workers} worker process(es) each; {database}")  # fmt: skip
        if "a" in parts:
            to_echo = [o.rps / e.rps for o, e in zip(ours, echo, strict=True)]
            to_compute = [o.rps / b.rps for o, b in zip(ours, compute, strict=True)]
            print(f"(a) bare echo      {med(r.rps for r in echo):8.0f} req/s   (rounds: {rounds(echo)};"
                  f" server CPU {cpu_us(echo)}/request)")  # fmt: skip
            print(f"    bare compute   {med(r.rps for r in compute):8.0f} req/s   (rounds: {rounds(compute)};"
                  f" server CPU {cpu_us(compute)}/request)")  # fmt: skip
            print(f"    ipledge income {med(r.rps for r in ours):8.0f} req/s   (rounds: {rounds(ours)};"
                  f" p99 {med(r.p99 for r in ours):.1f} ms; server CPU {cpu_us(ours)}/request)")  # fmt: skip
            print(f"    ratio: {med(to_echo):.0%} of bare echo (rounds: {' '.join(f'{x:.0%}' for x in to_echo)}),"
                  f" {med(to_compute):.0%} of bare compute (target ≥ 60% of bare echo)")  # fmt: skip
        if "b" in parts:
            a_p99, a_rps = [r.p99 for r in assessed], med(r.rps for r in assessed)
            print(f"(b) assessment of 3 patents over {len(assess)} enterprises: {a_rps:.0f} req/s,"
                  f" p99 {med(a_p99):.1f} ms at {c} connections (rounds: {' '.join(f'{x:.0f}' for x in a_p99)} ms;"
                  " target p99 < 50 ms)")  # fmt: skip
            print(f"    CPU per assessment: server {med(r.server_ms for r in assessed):.1f} ms, PostgreSQL"
                  f" {med(r.pg_ms for r in assessed):.1f} ms (embedded only; nan with DATABASE_URL)")  # fmt: skip
        print(f"machine: {os.cpu_count()} CPUs; 1-min load average before and after each round: "
              + " ".join(f"{x[0]:.2f}" for x in loads))  # fmt: skip
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=20)
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
