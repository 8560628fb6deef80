"""What the roadshow asks of other domains, each through one public function (ARCHITECTURE.md).

- matching: ``fit_scores`` (recommendations when a fund states nothing) and ``pool_members``;
- valuation: ``enterprise_summaries`` for the value degree in readiness (optional: used when present);
- the outbox: ``enqueue`` for ``roadshow.agenda.published``.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Sequence
from typing import Any

from ipledge import outbox
from ipledge.db.types import Conn
from matching import public as matching_public


async def fit_scores(
    conn: Conn, enterprise_ids: Sequence[uuid.UUID], institution_ids: Sequence[uuid.UUID], lang: str = "zh"
) -> dict[tuple[uuid.UUID, uuid.UUID], float]:
    """Fit score 0-100 per (enterprise, institution); gated-out pairs are absent."""
    if not enterprise_ids or not institution_ids:
        return {}
    scores = await matching_public.fit_scores(conn, list(enterprise_ids), list(institution_ids), lang=lang)
    return {key: float(fit.score) for key, fit in scores.items()}


async def pool_members(conn: Conn, chain: str) -> list[uuid.UUID]:
    """Admitted pool enterprises tagged with the chain."""
    return await matching_public.pool_members(conn, chain=chain)


async def value_degrees(conn: Conn, enterprise_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, float]:
    """Value degree in [0, 1] per valued enterprise; empty when valuation offers no summaries (yet)."""
    try:
        public: Any = importlib.import_module("valuation.public")
    except ImportError:
        return {}
    summaries = getattr(public, "enterprise_summaries", None)
    if summaries is None or not enterprise_ids:
        return {}
    found = await summaries(conn, list(enterprise_ids))
    degrees = {}
    for eid, summary in found.items():
        value = float(summary.value_degree)
        degrees[eid] = value / 100.0 if value > 1.0 else value  # accept 0-1 or 0-100 scales
    return degrees


async def notify_agenda(
    conn: Conn, organisation_id: uuid.UUID, payload: dict[str, Any], dedupe_key: str
) -> uuid.UUID | None:
    """Enqueue ``roadshow.agenda.published`` for one bank or fund inside the caller's transaction."""
    return await outbox.enqueue(
        conn,
        event_type="roadshow.agenda.published",
        organisation_id=organisation_id,
        payload=payload,
        dedupe_key=dedupe_key,
    )
