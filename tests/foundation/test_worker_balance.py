"""Worker processes take connections by turns (ipledge.balance): the slot table and two real workers."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ipledge.balance import ENV, BalancedListener, Slots

ROOT = Path(__file__).resolve().parents[2]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def table_for() -> Iterator[Callable[[int], Slots]]:
    """A fresh slot table for N workers (``Slots.create``), opened; the files are removed after the test."""
    paths: list[str] = []

    def make(workers: int) -> Slots:
        paths.append(Slots.create(workers))
        return Slots(paths[-1])

    yield make
    for path in paths:
        os.unlink(path)


def _occupy(table: Slots, slot: int, pid: int, connections: int) -> None:
    """Another worker's entry (this test's own process cannot be two workers)."""
    table._cells[2 * slot], table._cells[2 * slot + 1] = pid, connections


def test_a_worker_claims_a_slot_counts_and_gives_it_back(table_for: Callable[[int], Slots]) -> None:
    table = table_for(2)
    assert table.count == 4  # twice the workers: a restart's replacements come up before the old ones go
    _occupy(table, 0, os.getppid(), 5)
    assert table.claim() and table.index == 1
    assert table.open_connections() == [5, 0, -1, -1]
    table.add(2)
    table.add(-1)
    assert table.open_connections()[1] == 1
    table.release()
    assert table.open_connections() == [5, -1, -1, -1]


def test_the_shared_table_is_named_for_the_workers_and_removed_and_readers_count_claims(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(ENV, raising=False)
    with Slots.shared(2) as path:
        assert os.environ[ENV] == path and os.path.exists(path)
        worker, reader = Slots(path), Slots(path)
        assert reader.claimed() == 0
        assert worker.claim()
        _occupy(worker, 3, _dead_pid(), 0)
        assert reader.claimed() == 2  # a dead worker's slot counts until it is taken again
        reader.close()
    assert ENV not in os.environ and not os.path.exists(path)


def test_turns_go_to_the_fewest_open_connections(table_for: Callable[[int], Slots]) -> None:
    table = table_for(2)
    assert table.claim() and table.index == 0
    assert table.my_turn()  # alone
    _occupy(table, 1, os.getppid(), 2)
    table.add(2)
    assert table.my_turn()  # 2 against 2: either may take it
    table.add(1)
    assert not table.my_turn()  # 3 against 2: the other's turn
    _occupy(table, 1, _dead_pid(), 2)
    assert table.my_turn()  # a worker that has died is not waited for


def test_slots_of_dead_workers_are_reused_and_a_full_table_refuses(table_for: Callable[[int], Slots]) -> None:
    table = table_for(1)
    _occupy(table, 0, os.getppid(), 1)
    _occupy(table, 1, _dead_pid(), 4)
    assert table.claim() and table.index == 1 and table.open_connections() == [1, 0]
    table.release()
    _occupy(table, 1, os.getppid(), 0)
    assert not table.claim()


async def _until(condition: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.001)


class _Plain(asyncio.Protocol):
    """A protocol that takes attributes (as uvicorn's do); asyncio.Protocol itself has __slots__ and is wrapped."""


@pytest.mark.parametrize("protocol", [_Plain, asyncio.Protocol])
async def test_a_worker_steps_aside_and_a_taken_connection_ends_its_wait(
    protocol: Any, table_for: Callable[[int], Slots]
) -> None:
    slots = table_for(2)
    listening = socket.create_server(("127.0.0.1", 0))
    clients: list[socket.socket] = []
    try:
        assert slots.claim()
        _occupy(slots, 1, os.getppid(), 0)  # a live neighbour with no connections
        slots.add(1)  # and this worker already has one: the neighbour's turn
        listening.setblocking(False)
        listener = BalancedListener(asyncio.get_running_loop(), listening, protocol, slots)
        try:
            clients.append(socket.create_connection(listening.getsockname()))
            await _until(lambda: listener._waiting_since is not None)  # it stepped aside
            assert slots.open_connections()[0] == 1
            taken, _ = listening.accept()  # the neighbour takes it
            taken.close()
            # Nothing is waiting any more, so the wait is over: a later connection gets the full wait again.
            await _until(lambda: listener._waiting_since is None)
            _occupy(slots, 1, os.getppid(), 5)  # now this worker has fewer: its turn
            clients.append(socket.create_connection(listening.getsockname()))
            await _until(lambda: slots.open_connections()[0] == 2)
            clients[-1].close()
            await _until(lambda: slots.open_connections()[0] == 1)  # counted down when the connection is lost
        finally:
            listener.close()
        assert slots.open_connections()[0] == -1  # the slot is given back
    finally:
        for c in clients:
            c.close()
        listening.close()


PID_APP = """
import os
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await receive()
    body = str(os.getpid()).encode()
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _ask(sock: socket.socket) -> int:
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data or not data.split(b"\r\n\r\n", 1)[1]:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return int(data.split(b"\r\n\r\n", 1)[1])


def test_two_workers_share_sixteen_connections_evenly(tmp_path: Path) -> None:
    (tmp_path / "pidapp.py").write_text(PID_APP)
    port = _free_port()
    code = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r}); from ipledge.cli import run_workers; "
        f"run_workers('pidapp:app', '127.0.0.1', {port}, 2, factory=False)"
    )
    with (tmp_path / "server.log").open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=log, stderr=log)
    try:
        # Both workers up: fresh connections, one at a time, until two different processes have answered.
        seen: set[int] = set()
        deadline = time.monotonic() + 45
        while len(seen) < 2:
            assert time.monotonic() < deadline, "the second worker never answered"
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                    seen.add(_ask(s))
            except OSError:
                time.sleep(0.05)  # not listening yet
        # Sixteen keep-alive clients connecting at once (as a load generator does) ...
        clients = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(16)]
        try:
            owners = Counter(_ask(s) for s in clients)
            # ... are served by both, eight each (one either way for a race between the two counts).
            assert set(owners) == seen
            assert abs(owners.most_common()[0][1] - 8) <= 1, owners
            # And each connection stays with its worker.
            assert Counter(_ask(s) for s in clients) == owners
        finally:
            for s in clients:
                s.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
