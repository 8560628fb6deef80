"""SQL for endpoints, deliveries and notifications. Functions take a connection; callers own the transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
import msgspec

from ipledge.db.types import Conn
from ipledge.webhooks import schemas as s

_ENDPOINT_COLUMNS = """
id, organisation_id, url, description, event_types, enabled, disabled_reason, disabled_at, failing_since,
previous_expires_at AS previous_secret_expires_at, created_at, updated_at
"""
_DELIVERY_COLUMNS = """
m.id AS webhook_id, m.event_id, m.event_type, m.endpoint_id, m.organisation_id, m.status, m.attempts,
CASE WHEN m.status = 'pending' THEN m.next_attempt_at END AS next_attempt_at, m.last_status_code, m.last_error,
m.delivered_at, m.failed_at, m.created_at
"""


def _endpoint(row: asyncpg.Record) -> s.Endpoint:
    return msgspec.convert(dict(row), s.Endpoint)


def _delivery(row: asyncpg.Record) -> s.Delivery:
    return msgspec.convert(dict(row), s.Delivery)


# --- endpoints ----------------------------------------------------------------------------------------


async def insert_endpoint(conn: Conn, org_id: uuid.UUID, data: s.EndpointCreate, sealed: str) -> s.Endpoint:
    """Insert an enabled endpoint with its sealed secret."""
    row = await conn.fetchrow(
        "INSERT INTO webhook_endpoints (organisation_id, url, description, event_types, secret_sealed)"
        f" VALUES ($1, $2, $3, $4, $5) RETURNING {_ENDPOINT_COLUMNS}",
        org_id,
        data.url.strip(),
        data.description,
        list(data.event_types),
        sealed,
    )
    assert row is not None
    return _endpoint(row)


async def get_endpoint(conn: Conn, endpoint_id: uuid.UUID, *, for_update: bool = False) -> s.Endpoint | None:
    """One endpoint, or None."""
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT {_ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1{lock}", endpoint_id)
    return _endpoint(row) if row else None


async def list_endpoints(conn: Conn, org_id: uuid.UUID | None, after: list[Any] | None, limit: int) -> list[s.Endpoint]:
    """Endpoints of one organisation (or all), oldest first; ``limit + 1`` rows to detect a next page."""
    args: list[Any] = [limit + 1]
    where = ["TRUE"]
    if org_id is not None:
        args.append(org_id)
        where.append(f"organisation_id = ${len(args)}")
    if after is not None:
        args += [dt.datetime.fromisoformat(after[0]), uuid.UUID(after[1])]
        where.append(f"(created_at, id) > (${len(args) - 1}, ${len(args)})")
    rows = await conn.fetch(
        f"SELECT {_ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE {' AND '.join(where)}"
        " ORDER BY created_at, id LIMIT $1",
        *args,
    )
    return [_endpoint(r) for r in rows]


async def update_endpoint(conn: Conn, endpoint_id: uuid.UUID, data: s.EndpointUpdate) -> s.Endpoint:
    """Apply the given fields."""
    row = await conn.fetchrow(
        "UPDATE webhook_endpoints SET url = coalesce($2, url), description = coalesce($3, description),"
        " event_types = coalesce($4, event_types), updated_at = now()"
        f" WHERE id = $1 RETURNING {_ENDPOINT_COLUMNS}",
        endpoint_id,
        data.url.strip() if data.url is not None else None,
        data.description,
        list(data.event_types) if data.event_types is not None else None,
    )
    assert row is not None
    return _endpoint(row)


async def rotate_secret(conn: Conn, endpoint_id: uuid.UUID, sealed: str, overlap: dt.timedelta) -> s.Endpoint:
    """Make ``sealed`` the current secret; the old one keeps signing for ``overlap``."""
    row = await conn.fetchrow(
        "UPDATE webhook_endpoints SET previous_sealed = secret_sealed, previous_expires_at = now() + $3,"
        f" secret_sealed = $2, updated_at = now() WHERE id = $1 RETURNING {_ENDPOINT_COLUMNS}",
        endpoint_id,
        sealed,
        overlap,
    )
    assert row is not None
    return _endpoint(row)


async def set_enabled(conn: Conn, endpoint_id: uuid.UUID, enabled: bool, reason: str | None) -> s.Endpoint:
    """Enable, or disable with a reason; disabling fails the endpoint's pending deliveries."""
    row = await conn.fetchrow(
        "UPDATE webhook_endpoints SET enabled = $2, disabled_reason = CASE WHEN $2 THEN NULL ELSE $3 END,"
        " disabled_at = CASE WHEN $2 THEN NULL ELSE now() END, failing_since = CASE WHEN $2 THEN NULL"
        f" ELSE failing_since END, updated_at = now() WHERE id = $1 RETURNING {_ENDPOINT_COLUMNS}",
        endpoint_id,
        enabled,
        reason,
    )
    assert row is not None
    if not enabled:
        await fail_pending(conn, endpoint_id, reason or "endpoint disabled")
    return _endpoint(row)


async def fail_pending(conn: Conn, endpoint_id: uuid.UUID, reason: str) -> int:
    """Mark the endpoint's unclaimed pending deliveries failed (recoverable later)."""
    done = await conn.execute(
        "UPDATE webhook_messages SET status = 'failed', failed_at = now(), last_error = $2, updated_at = now()"
        " WHERE endpoint_id = $1 AND status = 'pending' AND (claimed_until IS NULL OR claimed_until < now())",
        endpoint_id,
        reason,
    )
    return int(done.split()[-1])


# --- deliveries ---------------------------------------------------------------------------------------


async def list_deliveries(
    conn: Conn,
    *,
    org_id: uuid.UUID | None,
    endpoint_id: uuid.UUID | None,
    status: str | None,
    event_type: str | None,
    after: list[Any] | None,
    limit: int,
) -> list[s.Delivery]:
    """Deliveries newest first, filtered; ``limit + 1`` rows to detect a next page."""
    args: list[Any] = [limit + 1]
    where = ["TRUE"]
    for column, value in (
        ("m.organisation_id", org_id),
        ("m.endpoint_id", endpoint_id),
        ("m.status", status),
        ("m.event_type", event_type),
    ):
        if value is not None:
            args.append(value)
            where.append(f"{column} = ${len(args)}")
    if after is not None:
        args += [dt.datetime.fromisoformat(after[0]), after[1]]
        where.append(f"(m.created_at, m.id) < (${len(args) - 1}, ${len(args)})")
    rows = await conn.fetch(
        f"SELECT {_DELIVERY_COLUMNS} FROM webhook_messages m WHERE {' AND '.join(where)}"
        " ORDER BY m.created_at DESC, m.id DESC LIMIT $1",
        *args,
    )
    return [_delivery(r) for r in rows]


async def get_delivery(conn: Conn, webhook_id: str) -> tuple[s.Delivery, str] | None:
    """One delivery and the body it sends, or None."""
    row = await conn.fetchrow(
        f"SELECT {_DELIVERY_COLUMNS}, e.body FROM webhook_messages m JOIN outbox_events e ON e.id = m.event_id"
        " WHERE m.id = $1",
        webhook_id,
    )
    if row is None:
        return None
    data = dict(row)
    body = data.pop("body")
    return msgspec.convert(data, s.Delivery), body


async def list_attempts(conn: Conn, webhook_id: str) -> list[s.Attempt]:
    """Every logged attempt of a delivery, oldest first."""
    rows = await conn.fetch(
        "SELECT attempt_no, outcome, response_code, response_body, error, latency_ms, worker, started_at"
        " FROM webhook_attempts WHERE message_id = $1 ORDER BY id",
        webhook_id,
    )
    return [msgspec.convert(dict(r), s.Attempt) for r in rows]


async def requeue(conn: Conn, webhook_id: str) -> bool:
    """Queue a new attempt now (same webhook-id, a fresh retry cycle) unless one is in flight."""
    done = await conn.execute(
        "UPDATE webhook_messages SET status = 'pending', next_attempt_at = now(), cycle_attempts = 0,"
        " failed_at = NULL, claimed_until = NULL, claim_token = NULL, updated_at = now()"
        " WHERE id = $1 AND NOT (status = 'pending' AND claimed_until > now())",
        webhook_id,
    )
    return done != "UPDATE 0"


async def recover(conn: Conn, endpoint_id: uuid.UUID, since: dt.datetime) -> int:
    """Re-queue the endpoint's failed deliveries created at or after ``since``."""
    done = await conn.execute(
        "UPDATE webhook_messages SET status = 'pending', next_attempt_at = now(), cycle_attempts = 0,"
        " failed_at = NULL, claimed_until = NULL, claim_token = NULL, updated_at = now()"
        " WHERE endpoint_id = $1 AND status = 'failed' AND created_at >= $2",
        endpoint_id,
        since,
    )
    return int(done.split()[-1])


# --- notifications ------------------------------------------------------------------------------------


async def notify(conn: Conn, org_id: uuid.UUID, kind: str, subject_id: str, zh: str, en: str) -> None:
    """Append a notification for an organisation."""
    await conn.execute(
        "INSERT INTO notifications (organisation_id, kind, subject_id, message_zh, message_en)"
        " VALUES ($1, $2, $3, $4, $5)",
        org_id,
        kind,
        subject_id,
        zh,
        en,
    )


async def list_notifications(
    conn: Conn, org_id: uuid.UUID | None, before: int | None, limit: int, english: bool
) -> list[s.Notification]:
    """Notifications newest first; ``limit + 1`` rows to detect a next page."""
    rows = await conn.fetch(
        "SELECT id, organisation_id, kind, subject_id, CASE WHEN $4 THEN message_en ELSE message_zh END AS message,"
        " created_at FROM notifications WHERE ($2::uuid IS NULL OR organisation_id = $2)"
        " AND ($3::bigint IS NULL OR id < $3) ORDER BY id DESC LIMIT $1",
        limit + 1,
        org_id,
        before,
        english,
    )
    return [msgspec.convert(dict(r), s.Notification) for r in rows]
