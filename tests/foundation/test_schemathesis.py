"""schemathesis over our own OpenAPI schema against a real server: no 5xx, responses match the schema."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.conftest import TEMPLATE, with_database


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sql(dsn: str, statement: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture(scope="module")
def live_server(admin_dsn: str, template_dsn: str) -> Iterator[tuple[str, str]]:
    """A real `ipledge serve` on a database with the demo data; yields (base URL, operator key)."""
    name = "s_" + uuid.uuid4().hex[:12]
    _sql(admin_dsn, f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    env = {**os.environ, "DATABASE_URL": with_database(admin_dsn, name), "IPLEDGE_LOG_LEVEL": "WARNING"}
    demo = subprocess.run(
        [sys.executable, "-m", "ipledge.cli", "demo", "--keys"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    key = next(line.split()[1] for line in demo.stdout.splitlines() if line.strip().startswith("operator"))
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ipledge.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base, key
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
        _sql(admin_dsn, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        assert "Traceback" not in err, err


def test_api_never_errors_and_matches_its_schema(live_server: tuple[str, str]) -> None:
    """Every operation, a dozen generated requests each (schemathesis strategies driven by hypothesis)."""
    base, key = live_server
    api = schemathesis.openapi.from_url(base + "/schema/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in api.get_all_operations():
        operation = result.ok()
        operations += 1

        # Derandomized so CI sees the same cases as the last local run; widen locally by dropping it.
        @given(case=operation.as_strategy())
        @settings(
            max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True
        )
        def exercise(case: Any) -> None:
            response = case.call(headers={"Authorization": f"Bearer {key}"}, timeout=30)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:200]}")
            elif 200 <= response.status_code < 300:
                try:
                    case.validate_response(response, checks=[response_schema_conformance])
                except Exception as exc:
                    failures.append(f"{case.method} {case.formatted_path}: schema mismatch: {str(exc)[:300]}")

        exercise()
    assert operations >= 20
    assert not failures, "\n".join(sorted(set(failures))[:20])
