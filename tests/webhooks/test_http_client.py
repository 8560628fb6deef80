"""The worker's HTTP/1.1 client against a real local server that answers byte by byte as each test says."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from ipledge.webhooks.delivery import Claimed, Sender, Signer, pinned_target
from ipledge.webhooks.http import ConnectError, Origin, RemoteProtocolError, WebhookClient
from ipledge.webhooks.sealing import seal
from matching.delivery import RetryPolicy
from matching.ssrf import CheckedEndpoint
from matching.webhooks import generate_secret, sign

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[bool]]


class RawServer:
    """An HTTP/1.1 server on 127.0.0.1 whose answers are written raw by a handler (False ends the connection)."""

    def __init__(self, handler: Handler, tls: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.tls = tls
        self.connections = 0
        self.requests: list[tuple[bytes, dict[str, str], bytes]] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> RawServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def origin(self) -> Origin:
        return Origin("http", "127.0.0.1", self.port, None)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return
                lines = head.decode("latin-1").split("\r\n")
                headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append((lines[0].encode(), headers, body))
                if not await self.handler(reader, writer, len(self.requests)):
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()


def answer(raw: bytes, *, keep_open: bool = True) -> Handler:
    async def handler(_r: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> bool:
        writer.write(raw)
        await writer.drain()
        return keep_open

    return handler


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Awaitable[RawServer]]]:
    servers: list[RawServer] = []

    async def start(handler: Handler, tls: ssl.SSLContext | None = None) -> RawServer:
        server = await RawServer(handler, tls).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


def post(body: bytes = b"{}", path: str = "/hook") -> bytes:
    return f"POST {path} HTTP/1.1\r\nHost: x\r\ncontent-length: {len(body)}\r\n\r\n".encode() + body


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


async def test_keep_alive_connection_is_reused(serve: Callable[..., Awaitable[RawServer]]) -> None:
    server = await serve(answer(OK))
    async with WebhookClient(connect_timeout=2) as client:
        for i in range(3):
            response = await client.request(server.origin(), post(b'{"i":%d}' % i))
            assert (response.status, response.body, response.truncated) == (200, b"ok", False)
        assert (client.opened, client.reused, server.connections) == (1, 2, 1)
        assert [body for _, _, body in server.requests] == [b'{"i":0}', b'{"i":1}', b'{"i":2}']
        assert client.idle_connections() == 1


async def test_chunked_body_arriving_in_pieces(serve: Callable[..., Awaitable[RawServer]]) -> None:
    async def chunked(_r: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> bool:
        parts = [
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Thing: a\r\n\r\n5\r\nhel",
            b"lo\r\n6;ext=1\r\n world\r",
            b"\n0\r\nTrailer: x\r\n\r\n",
        ]
        for part in parts:
            writer.write(part)
            await writer.drain()
        return True

    server = await serve(chunked)
    async with WebhookClient(connect_timeout=2) as client:
        first = await client.request(server.origin(), post())
        assert (first.status, first.body, first.headers["x-thing"]) == (200, b"hello world", "a")
        second = await client.request(server.origin(), post())  # the chunked framing ended cleanly: reusable
        assert second.body == b"hello world" and server.connections == 1


async def test_slow_response_times_out_and_the_connection_is_dropped(
    serve: Callable[..., Awaitable[RawServer]],
) -> None:
    dropped = asyncio.Event()

    async def slow(reader: asyncio.StreamReader, _w: asyncio.StreamWriter, _n: int) -> bool:
        if await reader.read(1) == b"":  # never answers; notices the client hanging up
            dropped.set()
        return False

    server = await serve(slow)
    async with WebhookClient(connect_timeout=2) as client:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await client.request(server.origin(), post())
        await asyncio.wait_for(dropped.wait(), 5)  # so a late answer can never be taken for the next one's
        assert client.idle_connections() == 0


async def test_sender_reports_a_timeout_as_no_2xx_within_the_limit(
    serve: Callable[..., Awaitable[RawServer]],
) -> None:
    async def slow(_r: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> bool:
        await asyncio.sleep(2)
        return False

    server = await serve(slow)
    async with WebhookClient(connect_timeout=2) as client:
        sender = Sender(client, policy=RetryPolicy(success_timeout_s=0.2), secret_key=None, allow_private=True)
        result = await sender.send(_claimed(f"http://127.0.0.1:{server.port}/hook", generate_secret()))
    assert result.verdict.outcome == "retry" and result.status_code is None
    assert result.error == "no 2xx within 0.2 s"


async def test_connection_closed_before_any_response(serve: Callable[..., Awaitable[RawServer]]) -> None:
    server = await serve(answer(b"", keep_open=False))
    async with WebhookClient(connect_timeout=2) as client:
        with pytest.raises(RemoteProtocolError, match="closed the connection"):
            await client.request(server.origin(), post())


async def test_connection_closed_in_the_middle_of_the_body(serve: Callable[..., Awaitable[RawServer]]) -> None:
    server = await serve(answer(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten..", keep_open=False))
    async with WebhookClient(connect_timeout=2) as client:
        with pytest.raises(RemoteProtocolError, match="before a complete response"):
            await client.request(server.origin(), post())


async def test_idle_connection_closed_by_the_server_is_replaced(serve: Callable[..., Awaitable[RawServer]]) -> None:
    server = await serve(answer(OK, keep_open=False))  # answers, then closes without saying so
    async with WebhookClient(connect_timeout=2) as client:
        assert (await client.request(server.origin(), post())).status == 200
        assert (await client.request(server.origin(), post())).status == 200
        assert server.connections == 2 and len(server.requests) == 2  # the second went on a fresh connection


async def test_connection_close_and_until_close_bodies(serve: Callable[..., Awaitable[RawServer]]) -> None:
    server = await serve(answer(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"))
    old = await serve(answer(b"HTTP/1.0 202 Accepted\r\n\r\nbody until the end", keep_open=False))
    async with WebhookClient(connect_timeout=2) as client:
        assert (await client.request(server.origin(), post())).body == b"ok"
        assert client.idle_connections() == 0
        response = await client.request(old.origin(), post())
        assert (response.status, response.body) == (202, b"body until the end")
        assert client.idle_connections() == 0


async def test_interim_100_continue_is_skipped_and_204_has_no_body(
    serve: Callable[..., Awaitable[RawServer]],
) -> None:
    server = await serve(answer(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"))
    async with WebhookClient(connect_timeout=2) as client:
        response = await client.request(server.origin(), post())
        assert (response.status, response.body) == (204, b"")
        assert (await client.request(server.origin(), post())).status == 204 and server.connections == 1


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n" + b"x" * 200_000,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"30d40\r\n" + b"x" * 200_000 + b"\r\n0\r\n\r\n",
    ],
    ids=["content-length", "chunked"],
)
async def test_oversized_body_is_cut_at_the_cap_and_the_connection_dropped(
    serve: Callable[..., Awaitable[RawServer]], raw: bytes
) -> None:
    server = await serve(answer(raw))
    async with WebhookClient(connect_timeout=2, read_limit=1000) as client:
        response = await client.request(server.origin(), post())
        assert (response.status, len(response.body), response.truncated) == (200, 1000, True)
        assert client.idle_connections() == 0
        await client.request(server.origin(), post())
        assert client.opened == 2


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 OK\r\n\r\n",
        b"SMTP ready\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
    ],
)
async def test_malformed_responses_are_protocol_errors(serve: Callable[..., Awaitable[RawServer]], raw: bytes) -> None:
    server = await serve(answer(raw))
    async with WebhookClient(connect_timeout=2) as client:
        with pytest.raises(RemoteProtocolError):
            await client.request(server.origin(), post())
        assert client.idle_connections() == 0


async def test_refused_connection_is_a_connect_error() -> None:
    server = await RawServer(answer(OK)).start()
    origin = server.origin()
    await server.stop()
    async with WebhookClient(connect_timeout=2) as client:
        with pytest.raises(ConnectError, match="cannot connect"):
            await client.request(origin, post())


def _claimed(url: str, secret: str, *, previous: str | None = None, secret_key: str | None = None) -> Claimed:
    return Claimed(
        webhook_id="msg_" + uuid.uuid4().hex,
        claim_token=uuid.uuid4(),
        attempt_no=1,
        cycle_attempt=1,
        endpoint_id=uuid.uuid4(),
        organisation_id=uuid.uuid4(),
        url=url,
        enabled=True,
        secret_sealed=seal(secret, secret_key),
        previous_sealed=seal(previous, secret_key) if previous else None,
        previous_expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1) if previous else None,
        body='{"type":"push_list.published","data":{"n":"数据"}}',
    )


async def test_redirect_is_returned_not_followed_and_retry_after_is_parsed(
    serve: Callable[..., Awaitable[RawServer]],
) -> None:
    async def handler(_r: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> bool:
        if n == 1:
            writer.write(b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n")
        else:
            writer.write(b"HTTP/1.1 429 Too Many\r\nretry-AFTER: 7\r\nContent-Length: 4\r\n\r\nslow")
        await writer.drain()
        return True

    server = await serve(handler)
    secret = generate_secret()
    async with WebhookClient(connect_timeout=2) as client:
        sender = Sender(client, policy=RetryPolicy(), secret_key=None, allow_private=True)
        moved = await sender.send(_claimed(f"http://127.0.0.1:{server.port}/hook", secret))
        limited = await sender.send(_claimed(f"http://127.0.0.1:{server.port}/hook", secret))
    assert (moved.verdict.outcome, moved.status_code) == ("retry", 302) and "redirect" in (moved.error or "")
    assert (limited.verdict.outcome, limited.verdict.retry_after, limited.body_head) == ("retry", "7", "slow")
    assert [line for line, _, _ in server.requests] == [b"POST /hook HTTP/1.1"] * 2  # nothing followed the 302


async def test_sender_request_is_signed_for_both_live_secrets(serve: Callable[..., Awaitable[RawServer]]) -> None:
    server = await serve(answer(OK))
    new, old = generate_secret(), generate_secret()
    key = "correct horse battery staple"
    claimed = _claimed(f"http://127.0.0.1:{server.port}/a/b?x=1&y=2", new, previous=old, secret_key=key)
    async with WebhookClient(connect_timeout=2) as client:
        result = await Sender(client, policy=RetryPolicy(), secret_key=key, allow_private=True).send(claimed)
    assert result.verdict.outcome == "success" and result.body_head == "ok"
    line, headers, body = server.requests[0]
    assert line == b"POST /a/b?x=1&y=2 HTTP/1.1" and body == claimed.body.encode()
    assert headers["host"] == f"127.0.0.1:{server.port}" and headers["content-type"] == "application/json"
    for secret in (new, old):
        Webhook(secret).verify(body, headers)  # raises when the signature does not verify
    assert headers["webhook-signature"] == sign(claimed.webhook_id, int(headers["webhook-timestamp"]), body, [new, old])


def test_signer_matches_the_reference_signature() -> None:
    secrets = [generate_secret(24), generate_secret(64)]
    signer = Signer(None)
    now = dt.datetime.now(dt.UTC)
    for i in range(3):  # the keyed HMAC is reused: each signature must still be independent
        claimed = _claimed("http://127.0.0.1/x", secrets[0], previous=secrets[1])
        payload = f"{claimed.webhook_id}.{1_700_000_000 + i}.".encode() + claimed.body.encode()
        expected = sign(claimed.webhook_id, 1_700_000_000 + i, claimed.body, secrets)
        assert signer.signature(claimed, payload, now) == expected
    expired = _claimed("http://127.0.0.1/x", secrets[0], previous=secrets[1])
    later = now + dt.timedelta(hours=2)
    payload = f"{expired.webhook_id}.1.".encode() + expired.body.encode()
    assert signer.signature(expired, payload, later) == sign(expired.webhook_id, 1, expired.body, secrets[:1])


def test_pinned_target_keeps_the_host_and_quotes_the_path() -> None:
    target = pinned_target(
        CheckedEndpoint(url="https://hooks.example.cn:8443/收/a b?q=中", host="hooks.example.cn", port=8443,
                        addresses=("203.0.113.7",))
    )  # fmt: skip
    assert target.origin == Origin("https", "203.0.113.7", 8443, "hooks.example.cn")
    assert target.prefix.startswith(b"POST /%E6%94%B6/a%20b?q=%E4%B8%AD HTTP/1.1\r\nHost: hooks.example.cn:8443\r\n")
    v6 = pinned_target(CheckedEndpoint(url="http://[::1]/h", host="::1", port=80, addresses=("::1",)))
    assert v6.origin == Origin("http", "::1", 80, None) and b"\r\nHost: [::1]\r\n" in v6.prefix


def _self_signed(tmp: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_path, key_path)
    client = ssl.create_default_context(cafile=str(cert_path))
    return server, client


async def test_https_goes_to_the_checked_address_and_verifies_the_host_name(
    serve: Callable[..., Awaitable[RawServer]], tmp_path: Path
) -> None:
    server_tls, client_tls = _self_signed(tmp_path)
    server = await serve(answer(OK), tls=server_tls)
    async with WebhookClient(connect_timeout=2, ssl_context=client_tls) as client:
        # The name is never resolved: the socket goes to 127.0.0.1, TLS checks "hooks.test".
        good = Origin("https", str(ipaddress.ip_address("127.0.0.1")), server.port, "hooks.test")
        assert (await client.request(good, post())).status == 200
        assert (await client.request(good, post())).status == 200 and client.opened == 1
        with pytest.raises(ConnectError, match="certificate"):
            await client.request(Origin("https", "127.0.0.1", server.port, "evil.test"), post())
