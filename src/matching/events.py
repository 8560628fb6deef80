"""Outbox events of the matching domain, written inside the caller's transaction.

Payloads are thin: ids, the unified social credit code, a reason code and a link the receiver
follows through the authenticated (and audited) API. Each event carries a dedupe key, so a retried
transaction or a repeated push run never enqueues the same event twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from ipledge import outbox
from ipledge.db.types import Conn


async def pool_changed(
    conn: Conn,
    recipients: Sequence[uuid.UUID],
    *,
    state: str,
    entry_id: uuid.UUID,
    enterprise_id: uuid.UUID,
    credit_code: str,
    province: str,
    base_url: str,
    reason_code: str | None = None,
) -> int:
    """Tell each recipient that an enterprise was admitted, graduated or withdrawn; returns events written."""
    payload = {
        "entry_id": str(entry_id),
        "enterprise_id": str(enterprise_id),
        "credit_code": credit_code,
        "province": province,
        "state": state,
        "reason_code": reason_code,
        "link": f"{base_url.rstrip('/')}/api/v1/enterprises/{credit_code}",
    }
    written = 0
    for org_id in recipients:
        event = await outbox.enqueue(
            conn,
            event_type=f"pool.enterprise.{state}",
            organisation_id=org_id,
            payload=payload,
            dedupe_key=f"pool:{entry_id}:{state}",
        )
        written += event is not None
    return written


async def list_published(
    conn: Conn,
    organisation_id: uuid.UUID,
    *,
    list_id: uuid.UUID,
    run_id: uuid.UUID,
    sequence: int,
    counts: dict[str, int],
    base_url: str,
) -> uuid.UUID | None:
    """Tell an institution its push list changed (one event per published list)."""
    link = f"{base_url.rstrip('/')}/api/v1/push-lists/{list_id}"
    payload = {"list_id": str(list_id), "run_id": str(run_id), "sequence": sequence, **counts, "link": link}
    return await outbox.enqueue(
        conn,
        event_type="push_list.published",
        organisation_id=organisation_id,
        payload=payload,
        dedupe_key=f"push_list:{list_id}",
    )
