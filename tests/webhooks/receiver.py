"""A real HTTP/1.1 receiver on 127.0.0.1 that verifies Standard Webhooks signatures.

It verifies every request with the ``standardwebhooks`` package from PyPI (a library we did not
write), records what arrived, notices the same ``webhook-id`` arriving while an earlier request
with that id is still open (two senders at once), and answers as the test tells it to.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Answer:
    """How to answer one request."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0
    #: When set, the request is held open until the event is set (or the connection drops).
    hold: asyncio.Event | None = None


@dataclass
class Received:
    webhook_id: str
    timestamp: str
    signature: str
    body: bytes
    verified: bool
    at: float
    path: str


Behaviour = Callable[[Received, int], Answer]


class Receiver:
    """Start with ``await receiver.start()``; ``url`` is its address; stop with ``await receiver.stop()``."""

    def __init__(self, secrets: list[str] | None = None, port: int = 0, verify: bool = True) -> None:
        self.secrets = list(secrets or [])
        self.port = port
        self.verify = verify
        self.behaviour: Behaviour = lambda _r, _n: Answer()
        self.received: list[Received] = []
        self.inflight: dict[str, int] = {}
        self.seen: dict[str, int] = {}
        self.overlaps: list[str] = []
        self.arrived = asyncio.Event()
        self.stats_path: str | None = None
        self.plain = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> Receiver:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    def ids(self) -> list[str]:
        return [r.webhook_id for r in self.received]

    def verified_ok(self) -> list[Received]:
        return [r for r in self.received if r.verified]

    def check(self, body: bytes, headers: dict[str, str]) -> bool:
        """True when any configured secret verifies the request with the standardwebhooks library."""
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
                return True
            except WebhookVerificationError:
                continue
        return False

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                request = await self._read(reader)
                if request is None:
                    return
                path, headers, body = request
                if not await self._answer(writer, path, headers, body):
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self._writers.discard(writer)
            writer.close()

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], bytes] | None:
        head = await reader.readuntil(b"\r\n\r\n") if not reader.at_eof() else b""
        if not head:
            return None
        lines = head.decode("latin-1").split("\r\n")
        path = lines[0].split(" ")[1]
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        return path, headers, body

    def stats(self) -> dict[str, int]:
        """Counters for a receiver in another process (the bench)."""
        return {
            "received": len(self.received),
            "verified": sum(1 for r in self.received if r.verified),
            "distinct": len({r.webhook_id for r in self.received if r.verified}),
            "overlaps": len(self.overlaps),
            "plain": self.plain,
        }

    async def _answer(self, writer: asyncio.StreamWriter, path: str, headers: dict[str, str], body: bytes) -> bool:
        if self.stats_path is not None and path in (self.stats_path, "/plain"):
            # The bench's counters, and its baseline: plain unsigned POSTs that are only counted.
            if path == "/plain":
                self.plain += 1
                payload = b"ok"
            else:
                payload = json.dumps(self.stats()).encode()
            writer.write(f"HTTP/1.1 200 OK\r\ncontent-length: {len(payload)}\r\n\r\n".encode() + payload)
            await writer.drain()
            return True
        webhook_id = headers.get("webhook-id", "")
        verified = self.check(body, headers) if self.verify else True
        got = Received(
            webhook_id,
            headers.get("webhook-timestamp", ""),
            headers.get("webhook-signature", ""),
            body,
            verified,
            time.monotonic(),
            path,
        )
        nth = self.seen.get(webhook_id, 0)
        self.seen[webhook_id] = nth + 1
        self.received.append(got)
        if self.inflight.get(webhook_id):
            self.overlaps.append(webhook_id)
        self.inflight[webhook_id] = self.inflight.get(webhook_id, 0) + 1
        self.arrived.set()
        try:
            answer = self.behaviour(got, nth) if verified else Answer(status=400, body=b"bad signature")
            if answer.delay:
                await asyncio.sleep(answer.delay)
            if answer.hold is not None:
                await answer.hold.wait()
            extra = "".join(f"{k}: {v}\r\n" for k, v in answer.headers.items())
            writer.write(
                f"HTTP/1.1 {answer.status} X\r\ncontent-length: {len(answer.body)}\r\n{extra}\r\n".encode()
                + answer.body
            )
            await writer.drain()
            return True
        finally:
            self.inflight[webhook_id] -= 1


async def _serve_forever(port: int, secrets: list[str]) -> None:
    """Run a receiver that answers 200 and serves its counters at ``GET /stats`` (used by the bench)."""
    receiver = Receiver(secrets=secrets, port=port, verify=bool(secrets))
    receiver.stats_path = "/stats"
    await receiver.start()
    print(receiver.port, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    import sys

    asyncio.run(_serve_forever(int(sys.argv[1]), sys.argv[2:]))
