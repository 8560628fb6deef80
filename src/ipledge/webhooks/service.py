"""Webhook use cases: tenancy, the SSRF guard, secrets shown once, audit around the store."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

from ipledge.auth import Principal
from ipledge.context import request_id_var
from ipledge.db.types import Conn, Pool
from ipledge.errors import Conflict, InvalidInput, NotFound
from ipledge.outbox import wake_workers
from ipledge.registry import store as registry_store
from ipledge.settings import Settings
from ipledge.webhooks import schemas as s
from ipledge.webhooks import store
from ipledge.webhooks.sealing import seal
from matching.ssrf import check_endpoint_url, system_resolver
from matching.webhooks import generate_secret

#: After a rotation the old secret keeps signing beside the new one this long.
ROTATION_OVERLAP = dt.timedelta(hours=24)
_RESOLVE_TIMEOUT_S = 5.0
_ENDPOINT_NOT_FOUND = "接收端点不存在 / endpoint not found"
_DELIVERY_NOT_FOUND = "投递记录不存在 / delivery not found"


async def _audit(conn: Conn, actor: Principal | None, action: str, subject: str, sid: str, **detail: Any) -> None:
    await registry_store.audit(conn, actor, action, subject, sid, detail, request_id_var.get())


async def check_url(url: str, settings: Settings) -> None:
    """Refuse a URL the SSRF guard rejects (422 on ``url``)."""
    try:
        await asyncio.wait_for(
            asyncio.to_thread(check_endpoint_url, url, settings.allow_private_webhooks, system_resolver),
            _RESOLVE_TIMEOUT_S,
        )
    except (ValueError, OSError) as exc:  # UnsafeEndpointError is a ValueError; so are IDNA errors
        raise InvalidInput("url", f"端点地址不可用 / endpoint URL refused: {exc}") from None
    except TimeoutError:
        raise InvalidInput("url", "端点域名解析超时 / endpoint host did not resolve in time") from None


def _scope(actor: Principal) -> uuid.UUID | None:
    """The organisation whose rows the actor may see (None: operators see all)."""
    return None if actor.is_operator else actor.organisation_id


async def _own_endpoint(conn: Conn, actor: Principal, endpoint_id: uuid.UUID, *, lock: bool = False) -> s.Endpoint:
    endpoint = await store.get_endpoint(conn, endpoint_id, for_update=lock)
    if endpoint is None or (not actor.is_operator and endpoint.organisation_id != actor.organisation_id):
        raise NotFound(_ENDPOINT_NOT_FOUND)
    return endpoint


async def create_endpoint(
    pool: Pool, settings: Settings, actor: Principal, data: s.EndpointCreate
) -> s.EndpointCreated:
    """Register an endpoint for the caller's organisation; its secret is returned this once."""
    await check_url(data.url, settings)
    secret = generate_secret()
    async with pool.acquire() as conn, conn.transaction():
        endpoint = await store.insert_endpoint(conn, actor.organisation_id, data, seal(secret, settings.secret_key))
        await _audit(conn, actor, "webhook_endpoint.created", "webhook_endpoint", str(endpoint.id), url=endpoint.url)
    return s.EndpointCreated(endpoint=endpoint, secret=secret)


async def list_endpoints(pool: Pool, actor: Principal, after: list[Any] | None, limit: int) -> list[s.Endpoint]:
    """The caller's endpoints (all of them for operators)."""
    return await store.list_endpoints(pool, _scope(actor), after, limit)


async def get_endpoint(pool: Pool, actor: Principal, endpoint_id: uuid.UUID) -> s.Endpoint:
    """One endpoint the caller may see."""
    return await _own_endpoint(pool, actor, endpoint_id)


async def update_endpoint(
    pool: Pool, settings: Settings, actor: Principal, endpoint_id: uuid.UUID, data: s.EndpointUpdate
) -> s.Endpoint:
    """Change URL, subscriptions or description."""
    if data.url is not None:
        await check_url(data.url, settings)
    async with pool.acquire() as conn, conn.transaction():
        await _own_endpoint(conn, actor, endpoint_id, lock=True)
        endpoint = await store.update_endpoint(conn, endpoint_id, data)
        changed = {k: v for k, v in (("url", data.url), ("event_types", data.event_types)) if v is not None}
        await _audit(conn, actor, "webhook_endpoint.updated", "webhook_endpoint", str(endpoint_id), **changed)
    return endpoint


async def rotate_secret(pool: Pool, settings: Settings, actor: Principal, endpoint_id: uuid.UUID) -> s.SecretRotated:
    """Issue a new secret; the current one keeps signing beside it for 24 h."""
    secret = generate_secret()
    async with pool.acquire() as conn, conn.transaction():
        await _own_endpoint(conn, actor, endpoint_id, lock=True)
        endpoint = await store.rotate_secret(conn, endpoint_id, seal(secret, settings.secret_key), ROTATION_OVERLAP)
        await _audit(conn, actor, "webhook_endpoint.secret_rotated", "webhook_endpoint", str(endpoint_id))
    assert endpoint.previous_secret_expires_at is not None
    return s.SecretRotated(
        endpoint=endpoint, secret=secret, previous_secret_expires_at=endpoint.previous_secret_expires_at
    )


async def set_enabled(pool: Pool, actor: Principal, endpoint_id: uuid.UUID, enabled: bool) -> s.Endpoint:
    """Enable or disable an endpoint (disabling fails its queued deliveries; recover them later)."""
    async with pool.acquire() as conn, conn.transaction():
        await _own_endpoint(conn, actor, endpoint_id, lock=True)
        reason = None if enabled else "disabled by user"
        endpoint = await store.set_enabled(conn, endpoint_id, enabled, reason)
        action = "webhook_endpoint.enabled" if enabled else "webhook_endpoint.disabled"
        await _audit(conn, actor, action, "webhook_endpoint", str(endpoint_id))
    return endpoint


async def list_deliveries(
    pool: Pool,
    actor: Principal,
    *,
    endpoint_id: uuid.UUID | None,
    status: str | None,
    event_type: str | None,
    after: list[Any] | None,
    limit: int,
) -> list[s.Delivery]:
    """Deliveries the caller may see, newest first."""
    if endpoint_id is not None:
        await _own_endpoint(pool, actor, endpoint_id)
    return await store.list_deliveries(
        pool,
        org_id=_scope(actor),
        endpoint_id=endpoint_id,
        status=status,
        event_type=event_type,
        after=after,
        limit=limit,
    )


async def get_delivery(pool: Pool, actor: Principal, webhook_id: str) -> s.DeliveryDetail:
    """One delivery with its body and every attempt."""
    found = await store.get_delivery(pool, webhook_id)
    if found is None or (not actor.is_operator and found[0].organisation_id != actor.organisation_id):
        raise NotFound(_DELIVERY_NOT_FOUND)
    return s.DeliveryDetail(delivery=found[0], payload=found[1], attempts=await store.list_attempts(pool, webhook_id))


async def replay(pool: Pool, actor: Principal, webhook_id: str) -> s.Delivery:
    """Queue a new attempt of one message now, under the same webhook-id."""
    async with pool.acquire() as conn, conn.transaction():
        found = await store.get_delivery(conn, webhook_id)
        if found is None or (not actor.is_operator and found[0].organisation_id != actor.organisation_id):
            raise NotFound(_DELIVERY_NOT_FOUND)
        endpoint = await _own_endpoint(conn, actor, found[0].endpoint_id, lock=True)
        if not endpoint.enabled:
            raise Conflict("接收端点已停用，请先启用 / endpoint is disabled; enable it first")
        if not await store.requeue(conn, webhook_id):
            raise Conflict("该消息正在投递中 / this message is being delivered right now")
        await _audit(conn, actor, "webhook_delivery.replayed", "webhook_message", webhook_id)
        await wake_workers(conn)
        again = await store.get_delivery(conn, webhook_id)
    assert again is not None
    return again[0]


async def recover(pool: Pool, actor: Principal, endpoint_id: uuid.UUID, since: dt.datetime) -> s.Recovered:
    """Re-queue every failed delivery of an endpoint since a time."""
    async with pool.acquire() as conn, conn.transaction():
        endpoint = await _own_endpoint(conn, actor, endpoint_id, lock=True)
        if not endpoint.enabled:
            raise Conflict("接收端点已停用，请先启用 / endpoint is disabled; enable it first")
        count = await store.recover(conn, endpoint_id, since)
        if count:
            await wake_workers(conn)
        detail = {"since": since.isoformat(), "requeued": count}
        await _audit(conn, actor, "webhook_endpoint.recovered", "webhook_endpoint", str(endpoint_id), **detail)
    return s.Recovered(requeued=count)


async def list_notifications(
    pool: Pool, actor: Principal, before: int | None, limit: int, english: bool
) -> list[s.Notification]:
    """Notifications for the caller's organisation (all for operators), newest first."""
    return await store.list_notifications(pool, _scope(actor), before, limit, english)
