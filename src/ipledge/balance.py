"""Connections spread evenly over the worker processes of ``ipledge serve --workers N``.

The workers share one listening socket. uvloop (like asyncio) accepts every queued connection each
time that socket turns readable, so when sixteen clients connect at once the first worker to wake
takes most of them (11 and 5 measured under the assessment benchmark) and, since a keep-alive
connection stays with its worker, the busier worker's requests wait about twice as long as the
other's for as long as the connections live.

Here a worker accepts one connection at a time, and only while it holds no more open connections
than every other live worker; otherwise it steps aside for :data:`STEP_ASIDE_S` (the same
readiness wakes the others) and takes the connection itself once it has been waiting for
:data:`WAIT_LIMIT_S`, so a busy or stuck neighbour delays a new connection by at most that. The
counts live in a small shared file with one slot per worker (pid, open connections): the
supervisor creates it (:meth:`Slots.create`) and names it in ``IPLEDGE_BALANCE_FILE``; each worker
claims a slot when its event loop opens its listener. Without that variable, or with TLS, the loop
serves exactly as its base class does.

The loop is given to uvicorn as a custom loop factory (``Config(loop="ipledge.balance:new_event_loop")``);
it is uvloop's when uvloop is installed (what uvicorn picks by itself), else asyncio's.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import logging
import mmap
import os
import select
import socket
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger("ipledge.balance")

ENV = "IPLEDGE_BALANCE_FILE"
STEP_ASIDE_S = 0.002
#: A neighbour's count drops only when the requests of connections its clients have closed are done, which
#: under load takes tens of milliseconds: with 20 ms one worker still took 11 of 16 connections in one of four
#: runs right after an earlier load generator had left; with 100 ms, 8 and 8 in each of eight.
WAIT_LIMIT_S = 0.1
#: Accept errors that mean "out of descriptors or memory": stop accepting for a second (as asyncio does).
_RESOURCE_ERRORS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
_FIELDS = 2  # per slot: pid, open connections (int64 each)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Slots:
    """The shared table of the workers' open connections (one writer per slot, read by all)."""

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_RDWR)
        self._map = mmap.mmap(self._fd, os.fstat(self._fd).st_size)
        self._cells = memoryview(self._map).cast("q")
        self.count = len(self._cells) // _FIELDS
        self.index = -1

    @staticmethod
    def create(workers: int) -> str:
        """A zeroed table for ``workers`` processes (in /dev/shm when there is one); returns its path.

        It has twice as many slots: a restart (SIGHUP) brings each replacement up before it retires the
        worker it replaces.
        """
        shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
        fd, path = tempfile.mkstemp(prefix="ipledge-workers-", dir=shm)
        try:
            os.ftruncate(fd, 2 * workers * _FIELDS * 8)
        finally:
            os.close(fd)
        return path

    def claim(self) -> bool:
        """Take a free slot (never used, or left by a process that has died) for this process; False if none."""
        me = os.getpid()
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            for i in range(self.count):
                pid = self._cells[i * _FIELDS]
                if pid in (0, me) or not _alive(pid):
                    self._cells[i * _FIELDS] = me
                    self._cells[i * _FIELDS + 1] = 0
                    self.index = i
                    return True
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        return False

    @staticmethod
    @contextmanager
    def shared(workers: int) -> Iterator[str]:
        """While worker processes run: a table for them (:meth:`create`).

        Named by ``IPLEDGE_BALANCE_FILE`` (the spawned workers inherit it), removed afterwards.
        """
        os.environ[ENV] = Slots.create(workers)
        try:
            yield os.environ[ENV]
        finally:
            os.unlink(os.environ.pop(ENV))

    def close(self) -> None:
        """Unmap the table (a reader that is done with it; a worker keeps its table while it lives)."""
        self._cells.release()
        self._map.close()
        os.close(self._fd)

    def claimed(self) -> int:
        """How many slots live or dead workers hold (a worker claims one when its listener opens)."""
        return sum(1 for i in range(self.count) if self._cells[i * _FIELDS])

    def add(self, delta: int) -> None:
        self._cells[self.index * _FIELDS + 1] += delta

    def open_connections(self) -> list[int]:
        """Open connections per slot (-1 for a free one), for tests and diagnostics."""
        return [self._cells[i * _FIELDS + 1] if self._cells[i * _FIELDS] else -1 for i in range(self.count)]

    def my_turn(self) -> bool:
        """True unless another live worker holds fewer open connections than this one."""
        mine = self._cells[self.index * _FIELDS + 1]
        for i in range(self.count):
            pid = self._cells[i * _FIELDS]
            if i != self.index and pid and self._cells[i * _FIELDS + 1] < mine and _alive(pid):
                return False
        return True

    def release(self) -> None:
        """Give the slot back (a worker shutting down)."""
        if self.index >= 0 and self._cells[self.index * _FIELDS] == os.getpid():
            self._cells[self.index * _FIELDS + 1] = 0
            self._cells[self.index * _FIELDS] = 0
        self.index = -1


class _Counted(asyncio.Protocol):
    """A protocol that cannot take the counting ``connection_lost`` itself, wrapped (calls pass through)."""

    def __init__(self, inner: Any, connection_lost: Callable[[Exception | None], None]) -> None:
        self._inner, self._lost = inner, connection_lost

    def connection_made(self, transport: Any) -> None:
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        result: bool | None = self._inner.eof_received()
        return result

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost(exc)


class BalancedListener:
    """Accepts connections for one event loop, one at a time and only on this worker's turn.

    Stands in for the ``asyncio.Server`` that ``create_server`` returns, as far as uvicorn uses it
    (``close`` and ``wait_closed``).
    """

    def __init__(
        self, loop: asyncio.AbstractEventLoop, sock: socket.socket, factory: Callable[[], Any], slots: Slots
    ) -> None:
        self._loop, self._sock, self._factory, self._slots = loop, sock, factory, slots
        self._waiting_since: float | None = None
        self._closed = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.sockets = (sock,)
        loop.add_reader(sock.fileno(), self._readable)

    def _pause(self, seconds: float) -> None:
        self._loop.remove_reader(self._sock.fileno())
        self._loop.call_later(seconds, self._resume)

    def _resume(self) -> None:
        if self._closed:
            return
        if self._waiting_since is not None and not select.select([self._sock], [], [], 0)[0]:
            self._waiting_since = None  # another worker took what was waiting: the next connection starts afresh
        self._loop.add_reader(self._sock.fileno(), self._readable)

    def _readable(self) -> None:
        if not self._slots.my_turn():
            now = self._loop.time()
            if self._waiting_since is None:
                self._waiting_since = now
            if now - self._waiting_since < WAIT_LIMIT_S:
                self._pause(STEP_ASIDE_S)
                return
        try:
            conn, _ = self._sock.accept()
        except (BlockingIOError, InterruptedError):
            self._waiting_since = None  # another worker took it
            return
        except OSError as exc:
            if exc.errno in _RESOURCE_ERRORS:
                log.error("accept failed, pausing for 1 s: %s", exc)
                self._pause(1.0)
            return  # ECONNABORTED and the like: the client gave up
        self._waiting_since = None
        conn.setblocking(False)
        if conn.family in (socket.AF_INET, socket.AF_INET6):
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._slots.add(1)
        task = self._loop.create_task(self._serve(conn))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, conn: socket.socket) -> None:
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._slots.add(-1)

        def counted() -> Any:
            protocol = self._factory()
            lost = protocol.connection_lost

            def connection_lost(exc: Exception | None) -> None:
                release()
                lost(exc)

            try:
                protocol.connection_lost = connection_lost  # uvicorn's protocols: one attribute, no wrapper
            except AttributeError:  # a protocol with __slots__
                return _Counted(protocol, connection_lost)
            return protocol

        try:
            await self._loop.connect_accepted_socket(counted, conn)
        except Exception:  # the connection could not be set up (the peer reset it): drop it
            log.debug("accepted connection dropped", exc_info=True)
            release()
            conn.close()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._loop.remove_reader(self._sock.fileno())
            self._slots.release()

    def is_serving(self) -> bool:
        return not self._closed

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    async def wait_closed(self) -> None:
        return None


class _Balanced:
    """Event-loop mixin: ``create_server(sock=...)`` for a shared socket accepts by turns (see the module)."""

    async def create_server(  # type: ignore[no-untyped-def]
        self, protocol_factory, host=None, port=None, *, sock=None, ssl=None, backlog=100, **kwargs
    ):
        path = os.environ.get(ENV)
        slots = None
        if sock is not None and ssl is None and path and kwargs.get("start_serving") is not False:
            slots = Slots(path)
            if not slots.claim():
                log.warning("%s: no free worker slot, this worker accepts without taking turns", path)
                slots = None
        if slots is None:
            return await super().create_server(  # type: ignore[misc]
                protocol_factory, host, port, sock=sock, ssl=ssl, backlog=backlog, **kwargs
            )
        sock.setblocking(False)
        sock.listen(backlog)
        return BalancedListener(self, sock, protocol_factory, slots)  # type: ignore[arg-type]


try:
    from uvloop import Loop as _BaseLoop
except ImportError:  # pragma: no cover - uvloop is a dependency; asyncio's loop serves the same way
    _BaseLoop = asyncio.SelectorEventLoop  # type: ignore[assignment,misc]


class BalancedLoop(_Balanced, _BaseLoop):  # type: ignore[misc]
    """uvloop's loop (asyncio's without uvloop) with :class:`_Balanced` accepting."""


def new_event_loop() -> asyncio.AbstractEventLoop:
    """The loop of a worker process (uvicorn's ``loop`` setting names this factory)."""
    return BalancedLoop()
