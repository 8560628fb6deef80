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
import msgspec
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ipledge import metrics
from ipledge.metrics import METRICS_DIR_ENV, PUBLISH_S, RequestStats, Snapshot, exposition, shared_metrics_dir


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


@pytest.fixture
def own(monkeypatch: pytest.MonkeyPatch) -> RequestStats:
    """This process's counts, fresh for the test (and its last publication forgotten)."""
    stats = RequestStats()
    monkeypatch.setattr(metrics, "STATS", stats)
    monkeypatch.setattr(metrics, "_published", [-1])
    return stats


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
        # Every scrape counts all sixteen, whichever worker it reaches (each was one worker's half before), once
        # the other worker has published its counts (within PUBLISH_S); and no scrape ever counts fewer than one
        # before it (Prometheus would take that for a restart).
        seen: list[float] = []
        deadline = time.monotonic() + PUBLISH_S + 10
        while len(seen) < 6 or seen[-6:] != [16.0] * 6:
            assert time.monotonic() < deadline, seen
            r = httpx.get(base + "/metrics", timeout=10)
            assert r.status_code == 200
            seen.append(_health_count(r.text))
            time.sleep(0.05)
        assert seen == sorted(seen) and seen[-1] == 16.0, seen
    finally:
        for c in clients:
            c.close()
        proc.terminate()
        proc.wait(timeout=30)
    assert b"Traceback" not in (tmp_path / "server.log").read_bytes()


def test_the_shared_directory_is_private_and_removed_or_an_operators_is_emptied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(METRICS_DIR_ENV, raising=False)
    with shared_metrics_dir() as made:
        assert os.environ[METRICS_DIR_ENV] == made and Path(made).is_dir()
        (Path(made) / "requests-1.json").write_bytes(b"")
    assert METRICS_DIR_ENV not in os.environ and not Path(made).exists()

    given = tmp_path / "metrics"
    given.mkdir()
    (given / "requests-99.json").write_bytes(b"from an earlier run")
    (given / "notes.txt").write_text("kept")
    monkeypatch.setenv(METRICS_DIR_ENV, str(given))
    with shared_metrics_dir() as used:
        assert used == str(given) and not (given / "requests-99.json").exists()
    assert (given / "notes.txt").exists() and os.environ[METRICS_DIR_ENV] == str(given)


def test_a_scrape_sums_its_own_counts_and_the_other_workers_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own: RequestStats
) -> None:
    monkeypatch.setenv(METRICS_DIR_ENV, str(tmp_path))
    own.observe("GET", "/a", 200, 0.0005)  # bucket le=0.001
    own.observe("GET", "/a", 200, 0.2)  # le=0.25
    own.observe("GET", "/a", 404, 30.0)  # beyond the last bound: +Inf only
    other = RequestStats()
    other.observe("GET", "/a", 200, 0.001)  # a value on a bound counts in that bucket (le)
    other.observe("POST", "/b", 201, 0.003)
    (tmp_path / "requests-1.json").write_bytes(msgspec.json.encode(other.snapshot()))

    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exposition().decode())
        for sample in family.samples
    }
    assert samples[("ipledge_http_requests_total", (("method", "GET"), ("route", "/a"), ("status", "200")))] == 3
    assert samples[("ipledge_http_requests_total", (("method", "GET"), ("route", "/a"), ("status", "404")))] == 1
    assert samples[("ipledge_http_requests_total", (("method", "POST"), ("route", "/b"), ("status", "201")))] == 1

    def bucket(le: str) -> float:
        return samples[("ipledge_http_request_seconds_bucket", (("le", le), ("method", "GET"), ("route", "/a")))]

    assert [bucket(le) for le in ("0.001", "0.0025", "0.1", "0.25", "10.0", "+Inf")] == [2, 2, 2, 3, 3, 4]
    assert samples[("ipledge_http_request_seconds_count", (("method", "GET"), ("route", "/a")))] == 4
    assert samples[("ipledge_http_request_seconds_sum", (("method", "GET"), ("route", "/a")))] == pytest.approx(30.2015)
    # The scrape published this process's own counts first: the other workers read the same numbers.
    assert (
        msgspec.json.decode((tmp_path / f"requests-{os.getpid()}.json").read_bytes(), type=Snapshot) == own.snapshot()
    )


def test_a_damaged_file_or_a_vanished_directory_does_not_fail_a_scrape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own: RequestStats
) -> None:
    monkeypatch.setenv(METRICS_DIR_ENV, str(tmp_path / "shared"))
    with shared_metrics_dir():  # an operator's directory that did not exist yet is made
        own.observe("GET", "/a", 200, 0.01)
        (tmp_path / "shared" / "requests-1.json").write_bytes(b'{"half a')
        assert _health_count(exposition().decode()) == 0.0  # answered; the damaged file is left out
        assert 'route="/a",status="200"} 1.0' in exposition().decode()
        for path in (tmp_path / "shared").iterdir():
            path.unlink()
        (tmp_path / "shared").rmdir()
        own.observe("GET", "/a", 200, 0.01)
        text = exposition().decode()  # the counts cannot be published: the scrape answers with what it can read
        assert "# TYPE ipledge_http_requests_total counter" in text and 'route="/a"' not in text


async def test_a_new_worker_with_a_reused_process_id_keeps_the_earlier_workers_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own: RequestStats
) -> None:
    earlier = RequestStats()
    for _ in range(5):
        earlier.observe("GET", "/a", 200, 0.01)
    (tmp_path / f"requests-{os.getpid()}.json").write_bytes(msgspec.json.encode(earlier.snapshot()))
    monkeypatch.setenv(METRICS_DIR_ENV, str(tmp_path))
    async with metrics.publishing():
        own.observe("GET", "/a", 200, 0.01)
        assert 'ipledge_http_requests_total{method="GET",route="/a",status="200"} 6.0' in exposition().decode()
    assert len(os.listdir(tmp_path)) == 2  # the earlier file under another name, and this one's


async def test_a_single_process_given_a_directory_that_does_not_exist_publishes_into_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own: RequestStats
) -> None:
    monkeypatch.setenv(METRICS_DIR_ENV, str(tmp_path / "new" / "dir"))
    async with metrics.publishing():
        own.observe("GET", "/a", 200, 0.01)
    assert os.listdir(tmp_path / "new" / "dir") == [f"requests-{os.getpid()}.json"]  # published when it stopped
