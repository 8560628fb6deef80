"""``/metrics`` of ``ipledge serve --workers 2`` counts the requests of both workers, whichever one answers."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from ipledge.observability import METRICS_DIR_ENV, exposition, shared_metrics_dir


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _health_count(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if (
                sample.name == "ipledge_http_requests_total"
                and labels.get("route") == "/health"
                and labels.get("method") == "GET"
                and labels.get("status") == "200"
            ):
                return sample.value
    return 0.0


def _worker(response: httpx.Response) -> str:
    return response.headers["x-request-id"][:16]  # a worker's request ids share its random prefix


async def test_metrics_of_two_workers_are_summed(db_url: str, tmp_path: Path) -> None:
    await asyncio.to_thread(_two_workers_scraped, db_url, tmp_path)  # blocking clients and a child process


def _two_workers_scraped(db_url: str, tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "IPLEDGE_LOG_LEVEL": "WARNING"}
    env.pop(METRICS_DIR_ENV, None)
    with (tmp_path / "server.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ipledge.cli", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=log,
            stderr=log,
        )
    base = f"http://127.0.0.1:{port}"
    clients = [httpx.Client(base_url=base, timeout=10) for _ in range(16)]
    try:
        # Both workers up (answering /ready, which is not the route counted below), one fresh connection at a time.
        ready: set[str] = set()
        deadline = time.monotonic() + 60
        while len(ready) < 2:
            assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()
            try:
                ready.add(_worker(httpx.get(base + "/ready", timeout=5)))
            except httpx.TransportError:
                time.sleep(0.1)
        # Sixteen keep-alive clients, one /health each: the workers take the connections by turns.
        answered = [_worker(c.get("/health")) for c in clients]
        assert set(answered) == ready, answered
        # Every scrape counts all sixteen, whichever worker it reaches (each was one worker's half before).
        scraped: set[str] = set()
        for _ in range(6):
            r = httpx.get(base + "/metrics", timeout=10)
            assert r.status_code == 200
            scraped.add(_worker(r))
            assert _health_count(r.text) == 16.0, r.text
        assert scraped, "no scrape answered"
    finally:
        for c in clients:
            c.close()
        proc.terminate()
        proc.wait(timeout=30)
    assert b"Traceback" not in (tmp_path / "server.log").read_bytes()


def test_the_shared_directory_is_private_and_removed_or_an_operators_is_emptied(tmp_path: Path) -> None:
    saved = os.environ.pop(METRICS_DIR_ENV, None)
    try:
        with shared_metrics_dir() as made:
            assert os.environ[METRICS_DIR_ENV] == made and Path(made).is_dir()
            (Path(made) / "counter_1.db").write_bytes(b"")
        assert METRICS_DIR_ENV not in os.environ and not Path(made).exists()

        given = tmp_path / "metrics"
        given.mkdir()
        (given / "counter_99.db").write_bytes(b"stale")
        (given / "notes.txt").write_text("kept")
        os.environ[METRICS_DIR_ENV] = str(given)
        with shared_metrics_dir() as used:
            assert used == str(given) and not (given / "counter_99.db").exists()
            assert exposition().decode() == ""  # no process has written yet: an empty exposition, not an error
        assert (given / "notes.txt").exists() and os.environ[METRICS_DIR_ENV] == str(given)
    finally:
        os.environ.pop(METRICS_DIR_ENV, None)
        if saved is not None:
            os.environ[METRICS_DIR_ENV] = saved
