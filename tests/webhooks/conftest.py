"""Fixtures for webhook tests: fast retry settings, a real receiver, in-process and subprocess workers."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from ipledge.db.pool import create_pool
from ipledge.settings import Settings, load_settings
from ipledge.webhooks.worker import Worker, http_client
from tests.webhooks.receiver import Receiver

FAST = {
    "allow_private_webhooks": True,
    "webhook_retry_delays": "0.05,0.05,0.05,0.05,0.05,0.05,0.05",
    "webhook_timeout": 1.0,
    "webhook_lease": 3.0,
    "worker_poll": 0.2,
}
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def settings(db_url: str) -> Settings:
    return load_settings({}, database_url=db_url, db_pool_min=1, db_pool_max=4, log_level="WARNING", **FAST)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = await Receiver().start()
    try:
        yield rec
    finally:
        await rec.stop()


async def until(predicate: Callable[[], Awaitable[bool]], within: float = 15.0, what: str = "condition") -> None:
    """Poll ``predicate`` until it holds; fail after ``within`` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def running_worker(settings: Settings) -> AsyncIterator[Worker]:
    """A worker in this process (its own pool and client), stopped and drained on exit."""
    assert settings.database_url is not None
    pool = await create_pool(settings.database_url, min_size=1, max_size=4)
    try:
        async with http_client(settings) as client:
            worker = Worker(pool, client, settings)
            task = asyncio.create_task(worker.run())
            try:
                yield worker
            finally:
                worker.stop.set()
                await asyncio.wait_for(task, 10)
    finally:
        await pool.close()


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": settings.database_url or "",
            "IPLEDGE_ALLOW_PRIVATE_WEBHOOKS": "true",
            "IPLEDGE_WEBHOOK_RETRY_DELAYS": settings.webhook_retry_delays,
            "IPLEDGE_WEBHOOK_TIMEOUT": str(settings.webhook_timeout),
            "IPLEDGE_WEBHOOK_LEASE": str(settings.webhook_lease),
            "IPLEDGE_WORKER_POLL": str(settings.worker_poll),
            "IPLEDGE_LOG_LEVEL": "WARNING",
            "IPLEDGE_DB_POOL_MIN": "1",
            "IPLEDGE_DB_POOL_MAX": "4",
        }
    )
    env.update(extra)
    return env


def spawn_worker(settings: Settings, **extra: str) -> subprocess.Popen[bytes]:
    """Start a real ``ipledge worker`` process."""
    return subprocess.Popen(
        [sys.executable, "-m", "ipledge.cli", "worker"],
        env=worker_env(settings, **extra),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def stop_process(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> int:
    """Signal the process, wait for it and close its pipes; return its exit code."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    if proc.returncode not in (0, -signal.SIGKILL):
        print(err.decode(errors="replace")[-4000:], file=sys.stderr)
    return proc.returncode


async def register(client: Any, actor: Any, url: str, types: list[str] | None = None) -> tuple[str, str]:
    """Register an endpoint through the API; return (endpoint id, secret)."""
    response = await client.post(
        "/api/v1/webhooks/endpoints",
        json={"url": url, "event_types": types or ["pool.enterprise.admitted", "push_list.published"]},
        headers=actor.headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return body["endpoint"]["id"], body["secret"]
