"""One delivery attempt: claim due messages, sign and send one, record what happened.

A claim moves the message's ``next_attempt_at`` (and ``claimed_until``) forward by the lease and
gives it a fresh ``claim_token``, under ``FOR UPDATE SKIP LOCKED``: no other worker can claim it
until the lease ends. A worker killed mid-delivery records nothing; when its lease ends the
message is due again and another worker sends it under the same ``webhook-id``. A result whose
claim was lost (the lease ran out first) is logged as an attempt but does not change the message.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import ipaddress
import socket
import time
import uuid
from collections.abc import Sequence
from urllib.parse import quote, urlsplit

import asyncpg
import msgspec

from ipledge.db.types import OneConn, Pool
from ipledge.webhooks.http import HTTPError, Origin, WebhookClient
from ipledge.webhooks.sealing import SealError, unseal
from matching.delivery import DeliveryVerdict, RetryPolicy, classify_response
from matching.ssrf import CheckedEndpoint, UnsafeEndpointError, check_endpoint_url
from matching.webhooks import decode_secret

#: How much of a response body is kept in the attempt log.
BODY_HEAD_BYTES = 1024


class Claimed(msgspec.Struct, kw_only=True):
    """A message this worker holds a lease on, with what it needs to send it."""

    webhook_id: str
    claim_token: uuid.UUID
    attempt_no: int
    cycle_attempt: int
    endpoint_id: uuid.UUID
    organisation_id: uuid.UUID
    url: str
    enabled: bool
    secret_sealed: str
    previous_sealed: str | None
    previous_expires_at: dt.datetime | None
    body: str


class Result(msgspec.Struct, kw_only=True):
    """What one attempt produced."""

    verdict: DeliveryVerdict
    status_code: int | None
    body_head: str
    error: str | None
    latency_ms: int
    started_at: dt.datetime


_CLAIM = """
WITH due AS (
    SELECT id FROM webhook_messages
    WHERE status = 'pending' AND next_attempt_at <= now()
    ORDER BY next_attempt_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
UPDATE webhook_messages m
SET claimed_until = now() + make_interval(secs => $2), next_attempt_at = now() + make_interval(secs => $2),
    claim_token = gen_random_uuid(), attempts = m.attempts + 1, cycle_attempts = m.cycle_attempts + 1,
    updated_at = now()
FROM due, webhook_endpoints e, outbox_events ev
WHERE m.id = due.id AND e.id = m.endpoint_id AND ev.id = m.event_id
RETURNING m.id AS webhook_id, m.claim_token, m.attempts AS attempt_no, m.cycle_attempts AS cycle_attempt,
    m.endpoint_id, m.organisation_id, e.url, e.enabled, e.secret_sealed, e.previous_sealed, e.previous_expires_at,
    ev.body
"""


#: For a connection that only claims: losing a claim in a database crash only means the message
#: is claimed again (same webhook-id), so a claim need not wait for its WAL flush; results are durable.
CLAIM_SESSION = "SET synchronous_commit = off"


async def claim(db: Pool | OneConn, limit: int, lease_s: float) -> list[Claimed]:
    """Lease up to ``limit`` due messages to this worker.

    Args:
        db: A pool, or a connection the caller holds for claiming (one statement, its own
            transaction; set up with :data:`CLAIM_SESSION`).
        limit: How many messages at most.
        lease_s: How long the claims last.
    """
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn, conn.transaction():
            await conn.execute("SET LOCAL synchronous_commit = off")
            rows = await conn.fetch(_CLAIM, limit, lease_s)
    else:
        rows = await db.fetch(_CLAIM, limit, lease_s)
    return [msgspec.convert(dict(r), Claimed) for r in rows]


async def next_due_in(pool: Pool) -> float | None:
    """Seconds until the earliest pending message is due (0 if one is due now), or None."""
    value = await pool.fetchval(
        "SELECT greatest(0, extract(epoch FROM min(next_attempt_at) - now()))::float8"
        " FROM webhook_messages WHERE status = 'pending'"
    )
    return None if value is None else float(value)


_LITERALS: dict[str, list[str] | None] = {}


def _literal(host: str) -> list[str] | None:
    if host in _LITERALS:
        return _LITERALS[host]
    try:
        found: list[str] | None = [str(ipaddress.ip_address(host))]
    except ValueError:
        found = None
    if len(_LITERALS) >= 4096:
        _LITERALS.clear()
    _LITERALS[host] = found
    return found


async def resolve(host: str) -> list[str]:
    """Resolve ``host`` without blocking the event loop (a literal address resolves to itself)."""
    literal = _literal(host)
    if literal is not None:
        return list(literal)
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


class Target(msgspec.Struct, frozen=True, kw_only=True):
    """Where and how to POST for one checked endpoint URL: the pinned origin and the fixed header block."""

    origin: Origin
    #: Request line, Host, User-Agent and Content-Type, each ending in CRLF.
    prefix: bytes


_PATH_SAFE = "/%:@!$&'()*+,;=-._~"


def pinned_target(checked: CheckedEndpoint) -> Target:
    """A POST to the checked address itself, with the original host in ``Host`` and TLS SNI."""
    parts = urlsplit(checked.url)
    scheme = parts.scheme.lower()
    target = quote(parts.path or "/", safe=_PATH_SAFE)
    if parts.query:
        target += "?" + quote(parts.query, safe=_PATH_SAFE + "?")
    host = checked.host if checked.host.isascii() else checked.host.encode("idna").decode("ascii")
    host = f"[{host}]" if ":" in host else host
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    origin = Origin(scheme, checked.addresses[0], checked.port, checked.host if scheme == "https" else None)
    prefix = (
        f"POST {target} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: ipledge-webhooks\r\n"
        "Content-Type: application/json\r\n"
    )
    return Target(origin=origin, prefix=prefix.encode("ascii"))


class Signer:
    """Signs deliveries with HMAC objects keyed once per stored secret (copied per signature).

    Unsealing (Fernet) and decoding a ``whsec_`` secret happen once per sealed value, not per
    delivery. The output equals :func:`matching.webhooks.sign`.
    """

    _MAX = 4096

    def __init__(self, secret_key: str | None) -> None:
        """Bind the key that opens sealed secrets."""
        self.secret_key = secret_key
        self._keyed: dict[str, hmac.HMAC] = {}

    def keyed(self, sealed: str) -> hmac.HMAC:
        """The HMAC-SHA256 object keyed with the secret sealed in ``sealed``."""
        mac = self._keyed.get(sealed)
        if mac is None:
            if len(self._keyed) >= self._MAX:
                self._keyed.clear()
            mac = hmac.new(decode_secret(unseal(sealed, self.secret_key)), digestmod=hashlib.sha256)
            self._keyed[sealed] = mac
        return mac

    def signature(self, claimed: Claimed, payload: bytes, now: dt.datetime) -> str:
        """The ``webhook-signature`` value: the current secret, and the previous one within its overlap."""
        sealed = [claimed.secret_sealed]
        if claimed.previous_sealed and claimed.previous_expires_at and claimed.previous_expires_at > now:
            sealed.append(claimed.previous_sealed)
        out = []
        for value in sealed:
            mac = self.keyed(value).copy()
            mac.update(payload)
            out.append("v1," + base64.b64encode(mac.digest()).decode("ascii"))
        return " ".join(out)


class Sender:
    """Makes attempts for one worker: resolves, checks (SSRF), signs and POSTs through a :class:`WebhookClient`."""

    _MAX_TARGETS = 4096

    def __init__(self, client: WebhookClient, *, policy: RetryPolicy, secret_key: str | None, allow_private: bool):
        """Bind the client and the delivery settings."""
        self.client = client
        self.policy = policy
        self.allow_private = allow_private
        self.signer = Signer(secret_key)
        self._targets: dict[tuple[str, tuple[str, ...]], Target] = {}

    def target(self, url: str, addresses: list[str]) -> Target:
        """The checked target for ``url`` resolved to ``addresses`` (the check is pure, so it is cached)."""
        key = (url, tuple(addresses))
        found = self._targets.get(key)
        if found is None:
            checked = check_endpoint_url(url, self.allow_private, resolve=lambda _h: addresses)
            if len(self._targets) >= self._MAX_TARGETS:
                self._targets.clear()
            found = self._targets[key] = pinned_target(checked)
        return found

    async def send(self, claimed: Claimed) -> Result:
        """Make one attempt: check the URL, sign with the live secrets, POST, classify the answer."""
        policy = self.policy
        started = dt.datetime.now(dt.UTC)
        clock = time.perf_counter()
        status: int | None = None
        head = b""
        error: str | None = None
        resp_headers: dict[str, str] = {}
        try:
            async with asyncio.timeout(policy.success_timeout_s):
                target = self.target(claimed.url, await resolve(urlsplit(claimed.url).hostname or ""))
                body = claimed.body.encode()
                stamp = str(int(time.time()))
                signature = self.signer.signature(claimed, f"{claimed.webhook_id}.{stamp}.".encode() + body, started)
                request = b"".join(
                    (
                        target.prefix,
                        f"webhook-id: {claimed.webhook_id}\r\nwebhook-timestamp: {stamp}\r\n"
                        f"webhook-signature: {signature}\r\ncontent-length: {len(body)}\r\n\r\n".encode(),
                        body,
                    )
                )
                response = await self.client.request(target.origin, request)
                status, resp_headers, head = response.status, response.headers, response.body
        except TimeoutError:
            error = f"no 2xx within {policy.success_timeout_s:g} s"
            status = None
        except UnsafeEndpointError as exc:
            error = f"unsafe endpoint: {exc}"
        except (HTTPError, OSError, SealError, ValueError) as exc:  # ValueError: a bad secret, an IDNA-invalid host
            error = f"{type(exc).__name__}: {exc}"[:500]
        elapsed = time.perf_counter() - clock
        verdict = classify_response(status, resp_headers, elapsed, policy)
        if error is None and verdict.outcome != "success" and status is not None:
            error = verdict.reason
        return Result(
            verdict=verdict,
            status_code=status,
            body_head=head[:BODY_HEAD_BYTES].decode("utf-8", "replace"),
            error=error,
            latency_ms=int(elapsed * 1000),
            started_at=started,
        )


def sort_for_locking(items: Sequence[tuple[Claimed, Result]]) -> list[tuple[Claimed, Result]]:
    """Order results by endpoint so concurrent recorders lock endpoint rows in the same order."""
    return sorted(items, key=lambda item: (str(item[0].endpoint_id), item[0].webhook_id))
