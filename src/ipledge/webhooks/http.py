"""A lean HTTP/1.1 client for webhook deliveries, on an asyncio protocol.

It does only what a delivery needs: ``POST`` a pre-encoded request to one address, keep the
connection alive per origin (scheme, address, port, TLS server name) for the next delivery, and
read the response: ``Content-Length``, chunked or until-close bodies, read fully up to a cap (a
longer body is cut there and the connection dropped). 1xx interim responses are skipped;
redirects are returned like any other status (the caller treats them as failures). The caller
bounds the whole exchange with its own deadline (``asyncio.timeout``); a cancelled exchange
closes its connection. Connecting has its own timeout. ``https`` origins use TLS with
certificate and host name checks against the TLS server name, while the socket goes to the
address the caller resolved and checked (the SSRF guard), never to a fresh DNS answer.

Usage::

    client = WebhookClient(connect_timeout=5.0)
    origin = Origin("http", "127.0.0.1", 8080, None)
    response = await client.request(origin, head_bytes + body)
    await client.aclose()
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from typing import NamedTuple

#: Response bodies are kept up to this many bytes; a longer body ends the connection.
DEFAULT_READ_LIMIT = 64 * 1024
#: A status line and headers larger than this are refused.
MAX_HEAD_BYTES = 64 * 1024
_MAX_CHUNK_LINE = 1024


class HTTPError(Exception):
    """Base of the client's errors."""


class ConnectError(HTTPError):
    """The connection (or the TLS handshake) could not be made in time."""


class RemoteProtocolError(HTTPError):
    """The server broke HTTP/1.1: malformed response, or closed before the response was complete."""


class Origin(NamedTuple):
    """Where a connection goes: the checked address, and the name TLS verifies (``None`` for http)."""

    scheme: str
    address: str
    port: int
    server_hostname: str | None


class Response:
    """A response: status, lower-cased headers, the body up to the cap, and whether it was cut."""

    __slots__ = ("body", "headers", "status", "truncated")

    def __init__(self, status: int, headers: dict[str, str], body: bytes, truncated: bool) -> None:
        """Hold one parsed response."""
        self.status = status
        self.headers = headers
        self.body = body
        self.truncated = truncated


# Parser states.
_HEAD, _LENGTH, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_END, _TRAILER, _UNTIL_CLOSE, _IDLE = range(8)


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: one request at a time, parsed as bytes arrive."""

    def __init__(self, read_limit: int) -> None:
        self.read_limit = read_limit
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self.keep_alive = False
        self._waiter: asyncio.Future[Response] | None = None
        self._buf = bytearray()
        self._state = _IDLE
        self._got_bytes = False
        self._status = 0
        self._headers: dict[str, str] = {}
        self._body = bytearray()
        self._remaining = 0

    # --- asyncio.Protocol -----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self._state == _IDLE:  # bytes nobody asked for: the connection cannot be trusted
            self.close()
            return
        self._got_bytes = True
        self._buf += data
        try:
            self._parse()
        except RemoteProtocolError as exc:
            self._fail(exc)
            self.close()

    def eof_received(self) -> bool:
        self._finish_at_close()
        return False  # let the transport close

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._finish_at_close(exc)

    # --- requests -------------------------------------------------------------------------------

    async def exchange(self, request: bytes) -> Response:
        """Send one request and wait for its response."""
        if self.closed or self.transport is None or self.transport.is_closing():
            raise RemoteProtocolError("connection already closed")
        waiter: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        self._state = _HEAD
        self._got_bytes = False
        self.keep_alive = False
        self.transport.write(request)
        return await waiter

    @property
    def got_bytes(self) -> bool:
        """Whether any byte of the current response arrived."""
        return self._got_bytes

    def close(self) -> None:
        """Drop the connection (idempotent)."""
        self.keep_alive = False
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()
        self.closed = True

    # --- parsing --------------------------------------------------------------------------------

    def _parse(self) -> None:
        buf = self._buf
        while True:
            state = self._state
            if state == _HEAD:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(buf) > MAX_HEAD_BYTES:
                        raise RemoteProtocolError("response head too large")
                    return
                head = bytes(buf[:end])
                del buf[: end + 4]
                self._start_response(head)
            elif state == _LENGTH:
                take = min(self._remaining, len(buf))
                self._remaining -= take
                if self._keep(buf, take):
                    return
                if self._remaining == 0:
                    self._complete()
                return
            elif state == _CHUNK_SIZE:
                end = buf.find(b"\r\n")
                if end < 0:
                    if len(buf) > _MAX_CHUNK_LINE:
                        raise RemoteProtocolError("chunk size line too long")
                    return
                line = bytes(buf[:end]).split(b";", 1)[0].strip()
                del buf[: end + 2]
                try:
                    size = int(line, 16)
                except ValueError:
                    raise RemoteProtocolError(f"bad chunk size {line[:20]!r}") from None
                if size < 0:
                    raise RemoteProtocolError("negative chunk size")
                self._remaining = size
                self._state = _TRAILER if size == 0 else _CHUNK_DATA
            elif state == _CHUNK_DATA:
                take = min(self._remaining, len(buf))
                self._remaining -= take
                if self._keep(buf, take) or self._remaining:
                    return
                self._state = _CHUNK_END
            elif state == _CHUNK_END:
                if len(buf) < 2:
                    return
                if buf[:2] != b"\r\n":
                    raise RemoteProtocolError("chunk not followed by CRLF")
                del buf[:2]
                self._state = _CHUNK_SIZE
            elif state == _TRAILER:
                end = buf.find(b"\r\n")
                if end < 0:
                    if len(buf) > MAX_HEAD_BYTES:
                        raise RemoteProtocolError("trailer too large")
                    return
                del buf[: end + 2]
                if end == 0:
                    self._complete()
                    return
            elif state == _UNTIL_CLOSE:
                self._keep(buf, len(buf))
                return
            else:
                return

    def _keep(self, buf: bytearray, n: int) -> bool:
        """Move ``n`` body bytes out of ``buf``; True when the body passed the cap (response completed)."""
        if n:
            room = self.read_limit + 1 - len(self._body)  # one byte over the cap tells us it was cut
            if room > 0:
                self._body += buf[: min(n, room)]
            del buf[:n]
        if len(self._body) > self.read_limit:
            self._buf.clear()
            self._complete(truncated=True)
            return True
        return False

    def _start_response(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        status_line = lines[0]
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or len(parts[1]) != 3 or not parts[1].isdigit():
            raise RemoteProtocolError(f"bad status line {status_line[:60]!r}")
        status = int(parts[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep or not name or name != name.strip():
                raise RemoteProtocolError(f"bad header line {line[:60]!r}")
            key = name.decode("latin-1").lower()
            text = value.strip().decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        if 100 <= status < 200:
            if status == 101:
                raise RemoteProtocolError("unexpected 101 Switching Protocols")
            return  # an interim response: the real one follows
        self._status = status
        self._headers = headers
        self._body = bytearray()
        connection = headers.get("connection", "").lower()
        self.keep_alive = parts[0] == b"HTTP/1.1" and "close" not in connection
        encoding = headers.get("transfer-encoding", "").lower()
        if status in (204, 304):
            self._remaining = 0
            self._state = _LENGTH
        elif encoding:
            if encoding.rsplit(",", 1)[-1].strip() != "chunked":
                self.keep_alive = False
                self._state = _UNTIL_CLOSE
            else:
                self._state = _CHUNK_SIZE
        elif "content-length" in headers:
            text = headers["content-length"]
            if not text.isdigit():
                raise RemoteProtocolError(f"bad content-length {text[:20]!r}")
            self._remaining = int(text)
            self._state = _LENGTH
        else:
            self.keep_alive = False
            self._state = _UNTIL_CLOSE
        if self._state == _LENGTH and self._remaining == 0:
            self._complete()

    def _complete(self, truncated: bool = False) -> None:
        body = bytes(self._body[: self.read_limit])
        if truncated or self._buf:
            self.keep_alive = False  # the rest of a cut body, or bytes after the response
        self._state = _IDLE
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(Response(self._status, self._headers, body, truncated))
        if not self.keep_alive:
            self.close()

    def _finish_at_close(self, exc: Exception | None = None) -> None:
        if self._state == _UNTIL_CLOSE:
            self.keep_alive = False
            self._complete()
        elif self._state != _IDLE:
            self._state = _IDLE
            why = "server closed the connection before a complete response"
            if exc is not None:
                why += f" ({exc})"
            self._fail(RemoteProtocolError(why))

    def _fail(self, exc: Exception) -> None:
        self._state = _IDLE
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)


class WebhookClient:
    """Keep-alive connections per origin; one request per connection at a time."""

    def __init__(
        self,
        *,
        connect_timeout: float,
        read_limit: int = DEFAULT_READ_LIMIT,
        ssl_context: ssl.SSLContext | None = None,
        keepalive_expiry: float = 5.0,
        max_idle_per_origin: int = 64,
    ) -> None:
        """Configure the client.

        Args:
            connect_timeout: Seconds allowed for TCP connect plus the TLS handshake.
            read_limit: Response body bytes kept; a longer body is cut and its connection dropped.
            ssl_context: For https origins (default: system trust store with certifi's roots when available).
            keepalive_expiry: An idle connection older than this is not reused.
            max_idle_per_origin: Idle connections kept per origin; more are closed.
        """
        self.connect_timeout = connect_timeout
        self.read_limit = read_limit
        self.keepalive_expiry = keepalive_expiry
        self.max_idle_per_origin = max_idle_per_origin
        self._ssl_context = ssl_context
        self._idle: dict[Origin, deque[_Connection]] = {}
        self._active: set[_Connection] = set()
        #: Counters for tests and the bench: connections opened, requests sent on a reused one.
        self.opened = 0
        self.reused = 0

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context for https origins (created on first use)."""
        if self._ssl_context is None:
            context = ssl.create_default_context()
            try:
                import certifi

                context.load_verify_locations(certifi.where())
            except ImportError:  # pragma: no cover - certifi ships with httpx
                pass
            self._ssl_context = context
        return self._ssl_context

    async def request(self, origin: Origin, request: bytes) -> Response:
        """Send ``request`` (a complete HTTP/1.1 message) to ``origin`` and return the response.

        A reused keep-alive connection that turns out closed before any response byte arrived is
        replaced by a fresh one once (the server dropped it while idle).

        Raises:
            ConnectError: If no connection could be made within the connect timeout.
            RemoteProtocolError: If the response is malformed or cut short.
            OSError: On socket errors while sending.
        """
        conn = self._checkout(origin)
        if conn is not None:
            self.reused += 1
            try:
                return await self._exchange(origin, conn, request)
            except (RemoteProtocolError, ConnectionError):
                if conn.got_bytes:
                    raise
        conn = await self._connect(origin)
        return await self._exchange(origin, conn, request)

    async def _exchange(self, origin: Origin, conn: _Connection, request: bytes) -> Response:
        self._active.add(conn)
        try:
            response = await conn.exchange(request)
        except BaseException:  # errors, timeouts and cancellation: the connection's state is unknown
            conn.close()
            raise
        finally:
            self._active.discard(conn)
        if conn.keep_alive and not conn.closed:
            self._checkin(origin, conn)
        else:
            conn.close()
        return response

    def _checkout(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        if not idle:
            return None
        oldest_ok = time.monotonic() - self.keepalive_expiry
        while idle:
            conn = idle.pop()  # the most recently used: the likeliest to be alive
            if conn.closed or conn.idle_since < oldest_ok or conn.transport is None or conn.transport.is_closing():
                conn.close()
                continue
            return conn
        return None

    def _checkin(self, origin: Origin, conn: _Connection) -> None:
        idle = self._idle.get(origin)
        if idle is None:
            idle = self._idle[origin] = deque()
        now = time.monotonic()
        while idle and (idle[0].closed or idle[0].idle_since < now - self.keepalive_expiry):
            idle.popleft().close()
        if len(idle) >= self.max_idle_per_origin:
            conn.close()
            return
        conn.idle_since = now
        idle.append(conn)

    async def _connect(self, origin: Origin) -> _Connection:
        loop = asyncio.get_running_loop()
        tls = origin.scheme == "https"
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, conn = await loop.create_connection(
                    lambda: _Connection(self.read_limit),
                    origin.address,
                    origin.port,
                    ssl=self.ssl_context() if tls else None,
                    server_hostname=origin.server_hostname if tls else None,
                )
        except TimeoutError:
            raise ConnectError(
                f"no connection to {origin.address}:{origin.port} within {self.connect_timeout:g} s"
            ) from None
        except (OSError, ssl.SSLError) as exc:
            raise ConnectError(f"cannot connect to {origin.address}:{origin.port}: {exc}") from exc
        self.opened += 1
        return conn

    def idle_connections(self) -> int:
        """How many idle keep-alive connections are held."""
        return sum(1 for idle in self._idle.values() for conn in idle if not conn.closed)

    async def aclose(self) -> None:
        """Close every connection."""
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()
        for conn in list(self._active):
            conn.close()
        await asyncio.sleep(0)  # let the transports run their close callbacks

    async def __aenter__(self) -> WebhookClient:
        """Use as ``async with WebhookClient(...) as client``."""
        return self

    async def __aexit__(self, *_: object) -> None:
        """Close every connection."""
        await self.aclose()
