"""API types of webhook endpoints and deliveries."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from ipledge.vocab import fail

EventType = Literal[
    "pool.enterprise.admitted",
    "pool.enterprise.graduated",
    "pool.enterprise.withdrawn",
    "push_list.published",
    "roadshow.agenda.published",
]
DeliveryStatus = Literal["pending", "succeeded", "failed"]
Url = Annotated[str, msgspec.Meta(min_length=8, max_length=2000, examples=["https://hooks.example-bank.cn/ipledge"])]
Description = Annotated[str, msgspec.Meta(max_length=500)]
EventTypes = Annotated[list[EventType], msgspec.Meta(min_length=1, max_length=5)]


def _unique(types: list[EventType]) -> None:
    if len(set(types)) != len(types):
        raise fail("event_types", "事件类型重复 / duplicate event type")


class EndpointCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Register an endpoint: where to POST, and which events."""

    url: Url
    event_types: EventTypes
    description: Description = ""

    def __post_init__(self) -> None:
        _unique(self.event_types)


class EndpointUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Change an endpoint's URL, subscriptions or description (omitted fields keep their value)."""

    url: Url | None = None
    event_types: EventTypes | None = None
    description: Description | None = None

    def __post_init__(self) -> None:
        if self.event_types is not None:
            _unique(self.event_types)


class Endpoint(msgspec.Struct, kw_only=True):
    """A webhook endpoint (never its secret)."""

    id: uuid.UUID
    organisation_id: uuid.UUID
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    disabled_at: dt.datetime | None
    failing_since: dt.datetime | None
    #: While set, the previous secret still signs beside the current one.
    previous_secret_expires_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class EndpointCreated(msgspec.Struct, kw_only=True):
    """The new endpoint and its secret, shown this once."""

    endpoint: Endpoint
    secret: str


class SecretRotated(msgspec.Struct, kw_only=True):
    """The new secret (shown once); the old one signs beside it until ``previous_secret_expires_at``."""

    endpoint: Endpoint
    secret: str
    previous_secret_expires_at: dt.datetime


class EndpointPage(msgspec.Struct, kw_only=True):
    items: list[Endpoint]
    next_cursor: str | None


class Delivery(msgspec.Struct, kw_only=True):
    """One message (event x endpoint) and where it stands."""

    webhook_id: str
    event_id: uuid.UUID
    event_type: str
    endpoint_id: uuid.UUID
    organisation_id: uuid.UUID
    status: DeliveryStatus
    attempts: int
    next_attempt_at: dt.datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: dt.datetime | None
    failed_at: dt.datetime | None
    created_at: dt.datetime


class Attempt(msgspec.Struct, kw_only=True):
    """One logged attempt (append-only)."""

    attempt_no: int
    outcome: str
    response_code: int | None
    response_body: str
    error: str | None
    latency_ms: int
    worker: str
    started_at: dt.datetime


class DeliveryDetail(msgspec.Struct, kw_only=True):
    delivery: Delivery
    payload: str
    attempts: list[Attempt]


class DeliveryPage(msgspec.Struct, kw_only=True):
    items: list[Delivery]
    next_cursor: str | None


class Recover(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Re-queue every failed delivery of an endpoint created at or after ``since``."""

    since: Annotated[dt.datetime, msgspec.Meta(tz=True, examples=["2025-01-01T00:00:00Z"])]

    def __post_init__(self) -> None:
        if self.since > dt.datetime.now(dt.UTC):
            raise fail("since", "不能晚于当前时间 / must not be in the future")


class Recovered(msgspec.Struct, kw_only=True):
    requeued: int


class Notification(msgspec.Struct, kw_only=True):
    id: int
    organisation_id: uuid.UUID
    kind: str
    subject_id: str
    message: str
    created_at: dt.datetime


class NotificationPage(msgspec.Struct, kw_only=True):
    items: list[Notification]
    next_cursor: str | None
