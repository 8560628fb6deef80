"""The transactional outbox: producers write events in their own transaction; workers deliver them.

Usage, inside the producer's transaction::

    async with pool.acquire() as conn, conn.transaction():
        ...  # write the state change
        await outbox.enqueue(conn, event_type="pool.enterprise.admitted", organisation_id=bank_id,
                             payload={"enterprise_id": str(eid), "credit_code": code, "link": url})

Each event is fanned out at once to the organisation's enabled endpoints subscribed to its type:
one ``webhook_messages`` row per (event, endpoint), whose id is the stable ``webhook-id``. The
body sent is fixed here (``{"type", "timestamp", "data"}``), so every retry sends the same bytes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Final

import msgspec

from ipledge.db.types import Conn

EVENT_TYPES: Final = (
    "pool.enterprise.admitted",
    "pool.enterprise.graduated",
    "pool.enterprise.withdrawn",
    "push_list.published",
    "roadshow.agenda.published",
)

#: Workers LISTEN here; a commit that queued messages wakes them at once.
NOTIFY_CHANNEL: Final = "ipledge_webhooks"

_encoder = msgspec.json.Encoder()


def event_body(event_type: str, payload: dict[str, Any], created_at: dt.datetime) -> str:
    """The JSON body delivered for an event (Standard Webhooks' recommended envelope)."""
    stamp = created_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return _encoder.encode({"type": event_type, "timestamp": stamp, "data": payload}).decode()


async def enqueue(
    conn: Conn,
    *,
    event_type: str,
    organisation_id: uuid.UUID,
    payload: dict[str, Any],
    dedupe_key: str | None = None,
) -> uuid.UUID | None:
    """Write one event for one receiving organisation inside the caller's transaction.

    Args:
        conn: The caller's connection (in its transaction, so the event commits with the change).
        event_type: One of :data:`EVENT_TYPES`.
        organisation_id: The receiving bank or fund.
        payload: Thin data (ids, credit code, reason code, a link); JSON-encodable by msgspec.
        dedupe_key: When given, a second enqueue with the same (organisation, key) is a no-op.

    Returns:
        The event id, or None when ``dedupe_key`` was already used for this organisation.

    Raises:
        ValueError: If ``event_type`` is unknown.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}; expected one of {', '.join(EVENT_TYPES)}")
    now = dt.datetime.now(dt.UTC)
    body = event_body(event_type, payload, now)
    event_id: uuid.UUID | None = await conn.fetchval(
        "INSERT INTO outbox_events (organisation_id, event_type, payload, body, dedupe_key, created_at)"
        " VALUES ($1, $2, $3::text::jsonb, $4, $5, $6)"
        " ON CONFLICT (organisation_id, dedupe_key) DO NOTHING RETURNING id",
        organisation_id,
        event_type,
        _encoder.encode(payload).decode(),
        body,
        dedupe_key,
        now,
    )
    if event_id is None:
        return None
    inserted = await conn.execute(
        "INSERT INTO webhook_messages (event_id, endpoint_id, organisation_id, event_type, next_attempt_at)"
        " SELECT $1, e.id, e.organisation_id, $3, $4 FROM webhook_endpoints e"
        " WHERE e.organisation_id = $2 AND e.enabled AND $3 = ANY (e.event_types)",
        event_id,
        organisation_id,
        event_type,
        now,
    )
    if inserted != "INSERT 0 0":
        await wake_workers(conn)
    return event_id


async def wake_workers(conn: Conn) -> None:
    """Tell idle workers there is work (delivered when the caller's transaction commits)."""
    await conn.execute(f"NOTIFY {NOTIFY_CHANNEL}")
