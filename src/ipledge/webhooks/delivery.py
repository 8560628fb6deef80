"""One delivery attempt: claim due messages, sign and send one, record what happened.

A claim moves the message's ``next_attempt_at`` (and ``claimed_until``) forward by the lease and
gives it a fresh ``claim_token``, under ``FOR UPDATE SKIP LOCKED``: no other worker can claim it
until the lease ends. A worker killed mid-delivery records nothing; when its lease ends the
message is due again and another worker sends it under the same ``webhook-id``. A result whose
claim was lost (the lease ran out first) is logged as an attempt but does not change the message.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
import time
import uuid
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

import httpx
import msgspec

from ipledge.db.types import Pool
from ipledge.webhooks.sealing import unseal
from matching.delivery import DeliveryVerdict, RetryPolicy, classify_response
from matching.ssrf import CheckedEndpoint, UnsafeEndpointError, check_endpoint_url
from matching.webhooks import signed_headers

#: How much of a response body is kept in the attempt log.
BODY_HEAD_BYTES = 1024
#: Read at most this much of a response (then drop the connection).
_READ_LIMIT = 64 * 1024


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


async def claim(pool: Pool, limit: int, lease_s: float) -> list[Claimed]:
    """Lease up to ``limit`` due messages to this worker."""
    async with pool.acquire() as conn, conn.transaction():
        # Losing a claim in a database crash only means the message is claimed again (same
        # webhook-id), so the claim need not wait for its WAL flush; results are durable.
        await conn.execute("SET LOCAL synchronous_commit = off")
        rows = await conn.fetch(_CLAIM, limit, lease_s)
    return [msgspec.convert(dict(r), Claimed) for r in rows]


async def next_due_in(pool: Pool) -> float | None:
    """Seconds until the earliest pending message is due (0 if one is due now), or None."""
    value = await pool.fetchval(
        "SELECT greatest(0, extract(epoch FROM min(next_attempt_at) - now()))::float8"
        " FROM webhook_messages WHERE status = 'pending'"
    )
    return None if value is None else float(value)


def live_secrets(claimed: Claimed, secret_key: str | None, now: dt.datetime) -> list[str]:
    """The endpoint's secrets that sign now: the current one, and the previous one within its overlap."""
    secrets = [unseal(claimed.secret_sealed, secret_key)]
    if claimed.previous_sealed and claimed.previous_expires_at and claimed.previous_expires_at > now:
        secrets.append(unseal(claimed.previous_sealed, secret_key))
    return secrets


async def resolve(host: str) -> list[str]:
    """Resolve ``host`` without blocking the event loop (a literal address resolves to itself)."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


def pinned_request(
    client: httpx.AsyncClient, checked: CheckedEndpoint, headers: dict[str, str], body: bytes
) -> httpx.Request:
    """A POST to the checked address itself, with the original host in ``Host`` and TLS SNI."""
    parts = urlsplit(checked.url)
    address = checked.addresses[0]
    netloc = f"[{address}]" if ":" in address else address
    if parts.port is not None:
        netloc += f":{parts.port}"
    url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    host_header = checked.host if parts.port is None else f"{checked.host}:{parts.port}"
    if ":" in checked.host and not checked.host.startswith("["):
        host_header = f"[{checked.host}]" if parts.port is None else f"[{checked.host}]:{parts.port}"
    extensions = {"sni_hostname": checked.host} if parts.scheme == "https" else {}
    return client.build_request(
        "POST",
        url,
        content=body,
        headers={**headers, "host": host_header, "content-type": "application/json", "user-agent": "ipledge-webhooks"},
        extensions=extensions,
    )


async def _read_head(response: httpx.Response) -> bytes:
    head = b""
    async for chunk in response.aiter_raw():
        head += chunk
        if len(head) >= _READ_LIMIT:
            break
    return head


async def send(
    client: httpx.AsyncClient,
    claimed: Claimed,
    *,
    policy: RetryPolicy,
    secret_key: str | None,
    allow_private: bool,
) -> Result:
    """Make one attempt: check the URL, sign with the live secrets, POST, classify the answer."""
    started = dt.datetime.now(dt.UTC)
    clock = time.perf_counter()
    status: int | None = None
    head = b""
    error: str | None = None
    resp_headers: dict[str, str] = {}
    try:
        host = urlsplit(claimed.url).hostname or ""
        addresses = await resolve(host)
        checked = check_endpoint_url(claimed.url, allow_private, resolve=lambda _h: addresses)
        body = claimed.body.encode()
        headers = signed_headers(claimed.webhook_id, int(time.time()), body, live_secrets(claimed, secret_key, started))
        request = pinned_request(client, checked, headers, body)
        async with asyncio.timeout(policy.success_timeout_s):
            response = await client.send(request, stream=True)
            try:
                status, resp_headers = response.status_code, dict(response.headers)
                head = await _read_head(response)
            finally:
                await response.aclose()
    except TimeoutError:
        error = f"no 2xx within {policy.success_timeout_s:g} s"
        status = None
    except UnsafeEndpointError as exc:
        error = f"unsafe endpoint: {exc}"
    except (httpx.HTTPError, OSError) as exc:
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
