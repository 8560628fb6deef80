"""API overhead and assessment latency, over real HTTP.

(a) The stateless income calculator of ipledge (``ipledge serve``: auth, strict bodies, request
    ids, metrics, access log) against bare Litestar + msgspec POST handlers served the same way
    (uvicorn, one worker, same loop and HTTP parser, no access log) and loaded the same way:
    ``bare echo`` decodes the same request Struct and returns a small Struct; ``bare compute``
    also runs the same calculator. Target: ours ≥ 60% of the bare requests/s.
(b) A persisted pledge assessment (``POST /api/v1/assessments``: valuation of the enterprise's
    patents, report in two languages, append-only insert, audit row) at 16 concurrent connections.
    Target: p99 < 50 ms.

Load: ``wrk`` when installed (``apt-get install -y wrk``), else a Python asyncio keep-alive client.
Database: ``DATABASE_URL`` (a throw-away one) or an embedded PostgreSQL in a temporary directory,
loaded with the demo data.

Usage: ``python bench/bench_valuation_api.py [--seconds 10] [--connections 16]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
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


def start_bare(port: int) -> subprocess.Popen[bytes]:
    code = (
        "import sys, uvicorn; sys.path.insert(0, 'bench'); from bench_valuation_api import bare_app; "
        f"uvicorn.run(bare_app, host='127.0.0.1', port={port}, log_config=None, access_log=False, lifespan='on')"
    )
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_ours(port: int, dsn: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": dsn, "IPLEDGE_DB_POOL_MAX": "20"}
    cmd = [sys.executable, "-m", "ipledge.cli", "serve", "--port", str(port)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# --- load generators -------------------------------------------------------------------------------------


def run_wrk(url: str, body: bytes, headers: dict[str, str], seconds: int, connections: int) -> tuple[float, float]:
    """Requests/s and p99 latency (ms) from wrk."""
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(body.decode())}"]
    lines += [f'wrk.headers["{k}"] = {json.dumps(v)}' for k, v in headers.items()]
    lines.append('wrk.headers["Content-Type"] = "application/json"')
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


async def _client(port: int, request: bytes, stop: float, latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < stop:
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith((b"HTTP/1.1 200", b"HTTP/1.1 201")):
                raise SystemExit(f"unexpected response: {head[:80]!r}")
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
    finally:
        writer.close()


def run_python(url: str, body: bytes, headers: dict[str, str], seconds: int, connections: int) -> tuple[float, float]:
    """Requests/s and p99 latency (ms) from an asyncio keep-alive client (when wrk is missing)."""
    port, path = int(url.split(":")[2].split("/")[0]), "/" + url.split("/", 3)[3]
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{extra}"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    latencies: list[float] = []

    async def main() -> None:
        stop = time.perf_counter() + seconds
        await asyncio.gather(*(_client(port, request, stop, latencies) for _ in range(connections)))

    start = time.perf_counter()
    asyncio.run(main())
    elapsed = time.perf_counter() - start
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else float("nan")
    return len(latencies) / elapsed, p99


def load(url: str, body: bytes, headers: dict[str, str], seconds: int, connections: int) -> tuple[float, float]:
    if shutil.which("wrk"):
        return run_wrk(url, body, headers, seconds, connections)
    return run_python(url, body, headers, seconds, connections)


# --- data ------------------------------------------------------------------------------------------------


async def prepare(dsn: str) -> tuple[str, str, list[str]]:
    """Demo data, an enterprise key and an operator key, and a few patents of that enterprise."""
    from ipledge.db.migrate import migrate
    from ipledge.db.pool import create_pool
    from ipledge.demo import load_demo
    from ipledge.registry import service

    pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
        await load_demo(pool, 20240101)
        row = await pool.fetchrow(
            "SELECT p.owner_id, array_agg(p.number ORDER BY p.number) AS numbers FROM patents p"
            " JOIN enterprises e ON e.organisation_id = p.owner_id WHERE p.legal_status = 'granted'"
            " GROUP BY p.owner_id HAVING count(*) >= 3 ORDER BY count(*) DESC LIMIT 1"
        )
        assert row is not None
        enterprise = await service.create_key(pool, None, row["owner_id"], "bench")
        operator_id = await pool.fetchval("SELECT id FROM organisations WHERE kind = 'operator' LIMIT 1")
        operator = await service.create_key(pool, None, operator_id, "bench")
        return enterprise.key, operator.key, list(row["numbers"][:3])
    finally:
        await pool.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (best of each is reported)")
    args = parser.parse_args()
    server = None
    dsn = os.environ.get("DATABASE_URL")
    if dsn is None:
        base = Path(tempfile.mkdtemp(prefix="ipledge-bench-api-"))
        (base / "run").mkdir(mode=0o700)
        os.environ["XDG_RUNTIME_DIR"] = str(base / "run")
        from ipledge.db.embedded import EmbeddedPostgres

        server = EmbeddedPostgres(base / "pg")
        dsn = server.dsn()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        enterprise_key, operator_key, numbers = asyncio.run(prepare(dsn))
        bare_port, our_port = free_port(), free_port()
        procs = [start_bare(bare_port), start_ours(our_port, dsn)]
        wait_ready(bare_port, "/echo")
        wait_ready(our_port, "/health")
        tool = "wrk" if shutil.which("wrk") else "python asyncio client"
        load_before = os.getloadavg()
        body = json.dumps(INCOME).encode()
        auth = {"Authorization": f"Bearer {operator_key}"}
        c, s = args.connections, args.seconds
        load(f"http://127.0.0.1:{our_port}/api/v1/valuation/methods/income", body, auth, 2, c)  # warm up
        # Interleaved rounds, best of each: the machine is shared, so load drifts between runs.
        echo_rps = compute_rps = ours_rps = 0.0
        ours_p99 = float("nan")
        for _ in range(args.rounds):
            echo_rps = max(echo_rps, load(f"http://127.0.0.1:{bare_port}/echo", body, {}, s, c)[0])
            compute_rps = max(compute_rps, load(f"http://127.0.0.1:{bare_port}/compute", body, {}, s, c)[0])
            rps, p99 = load(f"http://127.0.0.1:{our_port}/api/v1/valuation/methods/income", body, auth, s, c)
            if rps > ours_rps:
                ours_rps, ours_p99 = rps, p99
        request = {"patents": [{"number": n} for n in numbers], "requested_amount": 2_000_000}
        assess_body = json.dumps(request).encode()
        e_auth = {"Authorization": f"Bearer {enterprise_key}"}
        assess_url = f"http://127.0.0.1:{our_port}/api/v1/assessments"
        load(assess_url, assess_body, e_auth, 2, c)  # warm up
        assess_rps, assess_p99 = load(assess_url, assess_body, e_auth, s, c)
        print(f"load generator: {tool}, {c} connections, {s} s each, best of {args.rounds} interleaved rounds;"
              " server: uvicorn, 1 worker")  # fmt: skip
        print(f"(a) bare echo      {echo_rps:8.0f} req/s")
        print(f"    bare compute   {compute_rps:8.0f} req/s")
        print(f"    ipledge income {ours_rps:8.0f} req/s (p99 {ours_p99:.1f} ms)")
        print(f"    ratio: {ours_rps / echo_rps:.0%} of bare echo, {ours_rps / compute_rps:.0%} of bare compute"
              " (target ≥ 60%)")  # fmt: skip
        print(f"(b) assessment of {len(numbers)} patents: {assess_rps:.0f} req/s, p99 {assess_p99:.1f} ms"
              " at {c} connections (target p99 < 50 ms)".replace("{c}", str(c)))  # fmt: skip
        print(
            f"machine: {os.cpu_count()} CPUs, load average before the runs {' '.join(f'{x:.2f}' for x in load_before)}"
        )
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=20)
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
