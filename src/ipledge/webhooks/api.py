"""HTTP controllers for webhook endpoints, deliveries and notifications: thin handlers over ``service``."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from ipledge.auth import Principal, requires
from ipledge.db.types import Pool
from ipledge.deps import Cursor, Limit
from ipledge.errors import InvalidInput, wants_english
from ipledge.registry.pagination import decode_cursor, encode_cursor
from ipledge.settings import Settings
from ipledge.webhooks import schemas as s
from ipledge.webhooks import service

INSTITUTION = requires("bank", "fund")
VIEWER = requires("operator", "bank", "fund")


def _settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings


def _check_webhook_id(webhook_id: str) -> str:
    if not (webhook_id.startswith("msg_") and len(webhook_id) == 36):
        raise InvalidInput("webhook_id", "无效的 webhook-id / invalid webhook-id")
    return webhook_id


class WebhookEndpointController(Controller):
    path = "/api/v1/webhooks/endpoints"
    tags = ["webhooks"]

    @post(
        operation_id="createWebhookEndpoint", guards=[INSTITUTION], summary="Register an endpoint (secret shown once)"
    )
    async def create(
        self,
        state: State,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        data: JSONBody[s.EndpointCreate],
    ) -> s.EndpointCreated:
        """Register an https endpoint for the caller's bank or fund; the response carries its secret once."""
        return await service.create_endpoint(pool, _settings(state), principal, data)

    @get(operation_id="listWebhookEndpoints", guards=[VIEWER], summary="List endpoints")
    async def index(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> s.EndpointPage:
        rows = await service.list_endpoints(pool, principal, decode_cursor(cursor, "tu"), limit)
        more, rows = len(rows) > limit, rows[:limit]
        nxt = encode_cursor([rows[-1].created_at.isoformat(), str(rows[-1].id)]) if more else None
        return s.EndpointPage(items=rows, next_cursor=nxt)

    @get("/{endpoint_id:uuid}", operation_id="getWebhookEndpoint", guards=[VIEWER], summary="One endpoint")
    async def get_one(
        self, pool: NamedDependency[Pool], principal: NamedDependency[Principal], endpoint_id: FromPath[uuid.UUID]
    ) -> s.Endpoint:
        return await service.get_endpoint(pool, principal, endpoint_id)

    @patch("/{endpoint_id:uuid}", operation_id="updateWebhookEndpoint", guards=[INSTITUTION], summary="Update")
    async def update(
        self,
        state: State,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        endpoint_id: FromPath[uuid.UUID],
        data: JSONBody[s.EndpointUpdate],
    ) -> s.Endpoint:
        return await service.update_endpoint(pool, _settings(state), principal, endpoint_id, data)

    @post(
        "/{endpoint_id:uuid}/rotate-secret",
        operation_id="rotateWebhookSecret",
        guards=[INSTITUTION],
        status_code=200,
        summary="Rotate the secret (old one signs beside it for 24 h)",
    )
    async def rotate(
        self,
        state: State,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        endpoint_id: FromPath[uuid.UUID],
    ) -> s.SecretRotated:
        return await service.rotate_secret(pool, _settings(state), principal, endpoint_id)

    @post("/{endpoint_id:uuid}/disable", operation_id="disableWebhookEndpoint", guards=[VIEWER], status_code=200)
    async def disable(
        self, pool: NamedDependency[Pool], principal: NamedDependency[Principal], endpoint_id: FromPath[uuid.UUID]
    ) -> s.Endpoint:
        """Stop delivering to the endpoint; its queued deliveries become failed (recoverable)."""
        return await service.set_enabled(pool, principal, endpoint_id, False)

    @post("/{endpoint_id:uuid}/enable", operation_id="enableWebhookEndpoint", guards=[VIEWER], status_code=200)
    async def enable(
        self, pool: NamedDependency[Pool], principal: NamedDependency[Principal], endpoint_id: FromPath[uuid.UUID]
    ) -> s.Endpoint:
        return await service.set_enabled(pool, principal, endpoint_id, True)

    @post("/{endpoint_id:uuid}/recover", operation_id="recoverWebhookDeliveries", guards=[VIEWER], status_code=200)
    async def recover(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        endpoint_id: FromPath[uuid.UUID],
        data: JSONBody[s.Recover],
    ) -> s.Recovered:
        """Re-queue every failed delivery of the endpoint created since ``since``."""
        return await service.recover(pool, principal, endpoint_id, data.since)


class WebhookDeliveryController(Controller):
    path = "/api/v1/webhooks/deliveries"
    tags = ["webhooks"]

    @get(operation_id="listWebhookDeliveries", guards=[VIEWER], summary="List deliveries, newest first")
    async def index(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        status: FromQuery[s.DeliveryStatus | None] = None,
        event_type: FromQuery[s.EventType | None] = None,
        endpoint_id: FromQuery[uuid.UUID | None] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> s.DeliveryPage:
        after = decode_cursor(cursor, "ts")
        rows = await service.list_deliveries(
            pool, principal, endpoint_id=endpoint_id, status=status, event_type=event_type, after=after, limit=limit
        )
        more, rows = len(rows) > limit, rows[:limit]
        nxt = encode_cursor([rows[-1].created_at.isoformat(), rows[-1].webhook_id]) if more else None
        return s.DeliveryPage(items=rows, next_cursor=nxt)

    @get("/{webhook_id:str}", operation_id="getWebhookDelivery", guards=[VIEWER], summary="A delivery and its attempts")
    async def get_one(
        self, pool: NamedDependency[Pool], principal: NamedDependency[Principal], webhook_id: FromPath[str]
    ) -> s.DeliveryDetail:
        return await service.get_delivery(pool, principal, _check_webhook_id(webhook_id))

    @post(
        "/{webhook_id:str}/replay",
        operation_id="replayWebhookDelivery",
        guards=[VIEWER],
        status_code=202,
        summary="Send the message again now (same webhook-id)",
    )
    async def replay(
        self, pool: NamedDependency[Pool], principal: NamedDependency[Principal], webhook_id: FromPath[str]
    ) -> s.Delivery:
        return await service.replay(pool, principal, _check_webhook_id(webhook_id))


class WebhookNotificationController(Controller):
    path = "/api/v1/webhooks/notifications"
    tags = ["webhooks"]

    @get(operation_id="listWebhookNotifications", guards=[VIEWER], summary="Notices (e.g. an endpoint was disabled)")
    async def index(
        self,
        request: Request[Principal, Any, Any],
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> s.NotificationPage:
        after = decode_cursor(cursor, "i")
        before = after[0] if after else None
        rows = await service.list_notifications(pool, principal, before, limit, wants_english(request))
        more, rows = len(rows) > limit, rows[:limit]
        return s.NotificationPage(items=rows, next_cursor=encode_cursor([rows[-1].id]) if more else None)


CONTROLLERS = [WebhookEndpointController, WebhookDeliveryController, WebhookNotificationController]
