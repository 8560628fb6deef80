"""Feedback from banks and funds, written exactly once per Idempotency-Key, and its statistics.

The key row is inserted first in the transaction: a concurrent request with the same key blocks
on the primary key until the first commits, then reads its stored answer. Same key and same
(canonical) body replays the first answer; another body is a 409. A request that fails leaves no
key behind, so the client may retry it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from ipledge.auth import Principal
from ipledge.context import request_id_var
from ipledge.db.types import Pool
from ipledge.errors import Conflict, InvalidInput, NotFound
from ipledge.registry import store as registry_store
from ipledge.registry.pagination import decode_cursor, encode_cursor
from matching import schemas as s
from matching.idempotency import idempotency_outcome, request_hash

_COLUMNS = (
    "f.id, f.organisation_id, f.enterprise_id, o.credit_code, f.outcome, f.decline_reason, f.amount::float8 AS amount,"
    " f.granted_on, f.term_months, f.rate::float8 AS rate, f.list_id, f.note, f.created_at"
)
_FROM = "feedback f JOIN organisations o ON o.id = f.enterprise_id"
PATH = "/api/v1/feedback"


def _feedback(row: Any) -> s.Feedback:
    data = dict(row)
    data["credit_code"] = data["credit_code"].strip()
    return msgspec.convert(data, s.Feedback)


async def submit(pool: Pool, actor: Principal, key: str, body: bytes, data: s.FeedbackIn) -> tuple[int, s.Feedback]:
    """Record one outcome (or replay the answer to an earlier request with the same key)."""
    digest = request_hash("POST", PATH, body, str(actor.organisation_id))
    async with pool.acquire() as conn, conn.transaction():
        fresh = await conn.fetchval(
            "INSERT INTO idempotency_keys (organisation_id, key, request_hash) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING RETURNING true",
            actor.organisation_id,
            key,
            digest,
        )
        if not fresh:
            stored = await conn.fetchrow(
                "SELECT request_hash, status_code, response FROM idempotency_keys WHERE organisation_id = $1"
                " AND key = $2",
                actor.organisation_id,
                key,
            )
            assert stored is not None
            if idempotency_outcome(stored["request_hash"], digest) == "conflict":
                raise Conflict("Idempotency-Key 已用于另一个请求 / Idempotency-Key reused with a different body")
            return stored["status_code"], msgspec.convert(stored["response"], s.Feedback)
        enterprise = await conn.fetchrow(
            "SELECT o.id FROM organisations o JOIN enterprises e ON e.organisation_id = o.id"
            " WHERE o.credit_code = $1 AND e.consent_share",
            data.credit_code.upper(),
        )
        if enterprise is None:
            raise NotFound("企业不存在或未授权共享 / enterprise not found or not shared")
        if data.list_id is not None and not await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM push_lists WHERE id = $1 AND organisation_id = $2)",
            data.list_id,
            actor.organisation_id,
        ):
            raise InvalidInput("list_id", "不是贵机构的推送名单 / not one of your push lists")
        feedback_id = await conn.fetchval(
            "INSERT INTO feedback (organisation_id, enterprise_id, outcome, decline_reason, amount, granted_on,"
            " term_months, rate, note, list_id, actor_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
            " RETURNING id",
            actor.organisation_id,
            enterprise["id"],
            data.outcome,
            data.decline_reason,
            data.amount,
            data.granted_on,
            data.term_months,
            data.rate,
            data.note,
            data.list_id,
            actor.key_id,
        )
        created = _feedback(await conn.fetchrow(f"SELECT {_COLUMNS} FROM {_FROM} WHERE f.id = $1", feedback_id))
        await conn.execute(
            "UPDATE idempotency_keys SET status_code = 201, response = $3 WHERE organisation_id = $1 AND key = $2",
            actor.organisation_id,
            key,
            msgspec.to_builtins(created),
        )
        await registry_store.audit(
            conn, actor, "feedback.reported", "enterprise", str(enterprise["id"]), {"outcome": data.outcome},
            request_id_var.get(),
        )  # fmt: skip
    return 201, created


async def index(pool: Pool, actor: Principal, org: uuid.UUID | None, cursor: str | None, limit: int) -> s.FeedbackPage:
    """Feedback the actor may see (its own; operators everyone's), oldest first."""
    owner = org if actor.is_operator else actor.organisation_id
    after = decode_cursor(cursor, "tu")
    args: list[Any] = [owner, limit + 1]
    where = "($1::uuid IS NULL OR f.organisation_id = $1)"
    if after is not None:
        args += [datetime.fromisoformat(after[0]), uuid.UUID(after[1])]  # decode_cursor checked both
        where += " AND (f.created_at, f.id) > ($3, $4)"
    rows = await pool.fetch(f"SELECT {_COLUMNS} FROM {_FROM} WHERE {where} ORDER BY f.created_at, f.id LIMIT $2", *args)
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor([rows[-1]["created_at"].isoformat(), str(rows[-1]["id"])]) if more else None
    return s.FeedbackPage(items=[_feedback(r) for r in rows], next_cursor=nxt)


_GROUPS = {
    "province": ("o.province_code", "p.name_zh", "p.name_en"),
    "chain": ("coalesce(e.chain_code, '-')", "coalesce(c.name_zh, '-')", "coalesce(c.name_en, '-')"),
    "institution": ("f.organisation_id::text", "i.name", "i.name"),
}


async def stats(pool: Pool, actor: Principal, by: str, en: bool) -> s.Stats:
    """Counts and amounts per province, chain or institution (institutions see only their own rows)."""
    key, zh_label, en_label = _GROUPS[by]
    rows = await pool.fetch(
        f"SELECT {key} AS key, {en_label if en else zh_label} AS label, count(DISTINCT f.enterprise_id) AS enterprises,"
        " count(*) FILTER (WHERE f.outcome = 'contacted') AS contacted,"
        " count(*) FILTER (WHERE f.outcome = 'declined') AS declined,"
        " count(*) FILTER (WHERE f.outcome = 'loan_granted') AS loans,"
        " coalesce(sum(f.amount) FILTER (WHERE f.outcome = 'loan_granted'), 0)::float8 AS loan_amount,"
        " count(*) FILTER (WHERE f.outcome = 'investment_intention') AS intentions,"
        " count(*) FILTER (WHERE f.outcome = 'investment_made') AS investments,"
        " coalesce(sum(f.amount) FILTER (WHERE f.outcome = 'investment_made'), 0)::float8 AS investment_amount"
        " FROM feedback f JOIN organisations o ON o.id = f.enterprise_id"
        " JOIN enterprises e ON e.organisation_id = f.enterprise_id JOIN organisations i ON i.id = f.organisation_id"
        " JOIN provinces p ON p.code = o.province_code LEFT JOIN chains c ON c.code = e.chain_code"
        " WHERE ($1::uuid IS NULL OR f.organisation_id = $1) GROUP BY 1, 2 ORDER BY 1",
        None if actor.is_operator else actor.organisation_id,
    )
    return s.Stats(by=by, rows=[msgspec.convert(dict(r), s.StatsRow) for r in rows])  # type: ignore[arg-type]
