"""Request counts and latencies for ``/metrics``, kept in plain Python and shared between worker processes.

Each process counts its requests in dicts (a few dict operations per request: prometheus_client's
per-request updates took a lock per value, and in its multiprocess mode also wrote each value to a
memory-mapped file, together about as much CPU as the access log). ``/metrics`` renders them through a
prometheus_client collector, so the exposition is the usual one:

- ``ipledge_http_requests_total{method, route, status}``, a counter;
- ``ipledge_http_request_seconds{method, route}``, a histogram with :data:`BUCKETS`.

With several ``ipledge serve`` workers (:func:`shared_metrics_dir`), every worker writes a snapshot of
its counts to a file of its own in the shared directory, at most every :data:`PUBLISH_S` seconds and
whenever it answers a scrape, and a scrape sums the files. Files only grow, so what a scrape reports
never goes down, whichever worker answers it; another worker's counts may be up to :data:`PUBLISH_S`
old, and a worker killed outright loses at most that much.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
import uuid
from bisect import bisect_left
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path

import msgspec
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import REGISTRY, CounterMetricFamily, HistogramMetricFamily, Metric

#: Names the directory the workers of one ``ipledge serve --workers N`` share their counts in.
METRICS_DIR_ENV = "IPLEDGE_METRICS_DIR"
#: Upper bounds (seconds) of the latency histogram's buckets.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: How often (seconds) a worker publishes its counts for the others' scrapes, if they changed.
PUBLISH_S = 1.0
_PREFIX = "requests-"
_log = logging.getLogger("ipledge.metrics")


class Snapshot(msgspec.Struct, array_like=True):
    """One process's counts: ``counts`` (method, route, status, n) and ``latency`` (method, route, sum, buckets).

    ``buckets`` has one count per bound of :data:`BUCKETS` and a last one for larger values (not cumulative).
    """

    counts: list[tuple[str, str, int, int]]
    latency: list[tuple[str, str, float, list[int]]]


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Snapshot).decode


class RequestStats:
    """The counts of this process."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, int], int] = {}
        self.latency: dict[tuple[str, str], list[float]] = {}  # bucket counts, then the sum of the values
        self.changes = 0

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request (called once per request: kept to a few dict and list operations)."""
        key = (method, route, status)
        counts = self.counts
        counts[key] = counts.get(key, 0) + 1
        cells = self.latency.get((method, route))
        if cells is None:
            cells = self.latency[(method, route)] = [0] * (len(BUCKETS) + 2)
        cells[bisect_left(BUCKETS, seconds)] += 1
        cells[-1] += seconds
        self.changes += 1

    def snapshot(self) -> Snapshot:
        return Snapshot(
            [(m, r, s, n) for (m, r, s), n in self.counts.items()],
            [(m, r, cells[-1], [int(c) for c in cells[:-1]]) for (m, r), cells in self.latency.items()],
        )


STATS = RequestStats()


def _merge(snapshots: Iterable[Snapshot]) -> Snapshot:
    counts: dict[tuple[str, str, int], int] = {}
    latency: dict[tuple[str, str], tuple[float, list[int]]] = {}
    for snap in snapshots:
        for method, route, status, n in snap.counts:
            counts[(method, route, status)] = counts.get((method, route, status), 0) + n
        for method, route, total, buckets in snap.latency:
            seen = latency.get((method, route))
            if seen is None:
                latency[(method, route)] = (total, list(buckets))
            else:
                latency[(method, route)] = (seen[0] + total, [a + b for a, b in zip(seen[1], buckets, strict=True)])
    return Snapshot(
        [(m, r, s, n) for (m, r, s), n in counts.items()],
        [(m, r, total, buckets) for (m, r), (total, buckets) in latency.items()],
    )


def _families(snap: Snapshot) -> Iterator[Metric]:
    requests = CounterMetricFamily("ipledge_http_requests", "HTTP requests", labels=["method", "route", "status"])
    for method, route, status, n in sorted(snap.counts):
        requests.add_metric([method, route, str(status)], n)
    yield requests
    latency = HistogramMetricFamily("ipledge_http_request_seconds", "HTTP request latency", labels=["method", "route"])
    bounds = [str(b) for b in BUCKETS] + ["+Inf"]  # "0.001" ... "10.0": prometheus_client's own spelling
    for method, route, total, buckets in sorted(snap.latency):
        running, cumulative = 0, []
        for bound, count in zip(bounds, buckets, strict=True):
            running += count
            cumulative.append((bound, running))
        latency.add_metric([method, route], cumulative, total)
    yield latency


class _Collector:
    """The request metrics for prometheus_client: this process's, or every worker's when they share a directory."""

    def describe(self) -> Iterator[Metric]:
        """The metric names, without values (what a registry asks for when the collector is registered)."""
        return _families(Snapshot([], []))

    def collect(self) -> Iterator[Metric]:
        directory = os.environ.get(METRICS_DIR_ENV)
        if not directory:
            yield from _families(STATS.snapshot())
            return
        try:
            publish(Path(directory))  # this worker's own counts as fresh as they are, and from the same source
        except OSError as exc:  # its last published counts are used: older, never lower
            _log.warning("metrics not published: %s", exc)
        yield from _families(_merge(_read_all(Path(directory))))


_COLLECTOR = _Collector()
REGISTRY.register(_COLLECTOR)  # a Collector by protocol
_SHARED_REGISTRY = CollectorRegistry(auto_describe=False)
_SHARED_REGISTRY.register(_COLLECTOR)


def exposition() -> bytes:
    """The Prometheus text of ``/metrics``.

    One process: its request metrics and prometheus_client's default process metrics. Workers sharing a
    directory: the summed request metrics only (one worker's process metrics would pass for the server's).
    """
    return generate_latest(_SHARED_REGISTRY if os.environ.get(METRICS_DIR_ENV) else REGISTRY)


# --- sharing between the worker processes ------------------------------------------------------------------------


def _own_file(directory: Path) -> Path:
    return directory / f"{_PREFIX}{os.getpid()}.json"


_published = [-1]  # STATS.changes at the last publication


def publish(directory: Path) -> None:
    """Write this process's counts to its file (a whole new file put in place: a reader never sees half of one)."""
    changes = STATS.changes
    if changes == _published[0]:
        return
    target = _own_file(directory)
    partial = target.with_suffix(".tmp")
    partial.write_bytes(_encode(STATS.snapshot()))
    os.replace(partial, target)
    _published[0] = changes


def keep_earlier_file(directory: Path) -> None:
    """Move a file left under this process's id by an earlier worker (the id reused) out of its way.

    The new process would overwrite those counts with its own, smaller ones; under another name they are
    still summed, so the totals never go down.
    """
    earlier = _own_file(directory)
    with suppress(FileNotFoundError):
        os.replace(earlier, directory / f"{earlier.stem}-{uuid.uuid4().hex[:12]}.json")


def _read_all(directory: Path) -> Iterator[Snapshot]:
    for path in directory.glob(f"{_PREFIX}*.json"):
        try:
            yield _decode(path.read_bytes())
        except FileNotFoundError:  # a file is only ever replaced, never removed while workers run
            continue
        except (OSError, msgspec.DecodeError) as exc:  # not ours, or damaged: the scrape still answers
            _log.warning("metrics file %s skipped: %s", path.name, exc)


@asynccontextmanager
async def publishing() -> AsyncIterator[None]:
    """While the app runs (its lifespan): publish this worker's counts.

    Every :data:`PUBLISH_S` seconds if they changed, and once more when it stops; nothing without a shared
    directory.
    """
    directory = os.environ.get(METRICS_DIR_ENV)
    if not directory:
        yield
        return
    path = Path(directory)
    os.makedirs(path, exist_ok=True)  # also when an operator named it for a single process (a start-up step)
    keep_earlier_file(path)

    async def loop() -> None:
        while True:
            await asyncio.sleep(PUBLISH_S)
            try:
                publish(path)  # a few hundred bytes: written inline
            except OSError as exc:  # a full or vanished directory must not stop the worker; the next turn retries
                _log.warning("metrics not published: %s", exc)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        publish(path)


@contextmanager
def shared_metrics_dir() -> Iterator[str]:
    """While worker processes run: the directory they share their counts in, named by ``IPLEDGE_METRICS_DIR``.

    With several ``ipledge serve`` workers each process counts its own requests, and ``/metrics`` is answered
    by whichever worker takes the connection: without sharing, a scrape saw one worker's counts, a different
    one each time (Prometheus would read every switch as a counter reset). The variable must be set before
    the workers start (they inherit it). A fresh private directory is made and removed afterwards; or, if the
    operator named one, the files of an earlier run are removed from it first.
    """
    given = os.environ.get(METRICS_DIR_ENV)
    if given:
        Path(given).mkdir(parents=True, exist_ok=True)
        for old in Path(given).glob(f"{_PREFIX}*"):
            old.unlink()
        yield given
        return
    path = tempfile.mkdtemp(prefix="ipledge-metrics-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    os.environ[METRICS_DIR_ENV] = path
    try:
        yield path
    finally:
        os.environ.pop(METRICS_DIR_ENV, None)
        shutil.rmtree(path, ignore_errors=True)
