"""Push runs: rank the pool for every approved institution, diff against its last list, publish changes.

A run reads, scores and writes in one transaction under one advisory lock, so two runs at once
serialise: the second sees the first one's lists and, with nothing changed, publishes nothing.
Only institutions with registered criteria receive lists; only consenting enterprises in the
pushed pool states are ranked (consent is a hard gate of the fit core).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec

from ipledge.auth import Principal
from ipledge.context import request_id_var
from ipledge.db.types import Conn, OneConn, Pool
from ipledge.registry import store as registry_store
from matching import events
from matching import schemas as s
from matching import store_push as store
from matching.fit_policy import DEFAULT_FIT_POLICY, FitPolicy
from matching.fit_run import ListRow, ranked_lists, score_all, text_manifest
from matching.push import PushDiff, PushedRow, diff_push, reasons_hash
from matching.push_policy import DEFAULT_PUSH_POLICY, PushPolicy
from matching.store_inputs import chain_labels, load_criteria, load_profiles

#: Advisory lock key serialising push runs across processes.
PUSH_LOCK = 0x9A5E_0004


def _pushed(rows: list[ListRow]) -> list[PushedRow]:
    return [
        PushedRow(
            enterprise_id=r.enterprise_id,
            rank=r.rank,
            score=r.score,
            reasons_hash=reasons_hash([*r.reasons_zh, "\x00", *r.reasons_en]),
        )
        for r in rows
    ]


def _copy_rows(rows: list[ListRow], pushed: list[PushedRow], diff: PushDiff) -> list[tuple[Any, ...]]:
    new = {r.enterprise_id for r in diff.new}
    changed = {r.enterprise_id for r in diff.changed}
    return [
        (
            r.rank,
            uuid.UUID(r.enterprise_id),
            r.score,
            r.reasons_zh,
            r.reasons_en,
            p.reasons_hash,
            "new" if r.enterprise_id in new else "changed" if r.enterprise_id in changed else "same",
        )
        for r, p in zip(rows, pushed, strict=True)
    ]


async def run_in(
    conn: OneConn,
    *,
    trigger: str,
    actor: Principal | None,
    base_url: str,
    schedule_id: uuid.UUID | None = None,
    policy: PushPolicy = DEFAULT_PUSH_POLICY,
    fit_policy: FitPolicy = DEFAULT_FIT_POLICY,
) -> s.PushRun:
    """Run one push inside the caller's transaction (takes the push lock until it commits)."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", PUSH_LOCK)
    started, t0 = datetime.now(UTC), time.perf_counter()
    profiles = await load_profiles(conn, states=policy.pushed_states)
    criteria, versions = await load_criteria(conn, registered_only=True)
    labels = await chain_labels(conn)
    scored = await asyncio.to_thread(score_all, profiles, criteria, fit_policy)
    lists = await asyncio.to_thread(ranked_lists, scored, policy.top_n, labels, policy.reasons_per_row)
    previous = await store.last_lists(conn)
    run_id = uuid.uuid4()
    pending: list[tuple[dict[str, Any], list[tuple[Any, ...]], PushDiff]] = []
    for inst_id, rows in lists.items():
        pushed = _pushed(rows)
        sequence, last = previous.get(inst_id, (0, {}))
        diff = diff_push(last, pushed, policy.score_decimals)
        if diff.is_empty:
            continue  # nothing new for this institution (also: a first list that would be empty)
        values: dict[str, Any] = {
            "id": uuid.uuid4(),
            "run_id": run_id,
            "organisation_id": uuid.UUID(inst_id),
            "sequence": sequence + 1,
            "criteria_version": versions.get(inst_id),
            "row_count": len(rows),
            "new_count": len(diff.new),
            "changed_count": len(diff.changed),
            "removed": [uuid.UUID(e) for e in diff.removed],
        }
        pending.append((values, _copy_rows(rows, pushed, diff), diff))
    run: dict[str, Any] = {
        "id": run_id,
        "trigger": trigger,
        "schedule_id": schedule_id,
        "actor_org": actor.organisation_id if actor else None,
        "actor_key": actor.key_id if actor else None,
        "fit_policy": fit_policy.version,
        "top_n": policy.top_n,
        "text_model": text_manifest(scored.model),
        "enterprises": len(profiles),
        "institutions": len(criteria),
        "lists_published": len(pending),
        "rows_published": sum(len(r) for _, r, _ in pending),
        "duration_ms": 0.0,
        "started_at": started,
    }
    run["duration_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    await store.insert_run(conn, run)
    for values, copy_rows, diff in pending:
        await store.insert_list(conn, values, copy_rows)
        counts = {
            "rows": len(copy_rows),
            "new": len(diff.new),
            "changed": len(diff.changed),
            "removed": len(diff.removed),
        }
        await events.list_published(
            conn, values["organisation_id"], list_id=values["id"], run_id=run_id, sequence=values["sequence"],
            counts=counts, base_url=base_url,
        )  # fmt: skip
    detail = {"lists_published": len(pending), "trigger": trigger, "rows": run["rows_published"]}
    await registry_store.audit(conn, actor, "push.run", "push_run", str(run_id), detail, request_id_var.get())
    return msgspec.convert(run, s.PushRun)


async def run_push(
    pool: Pool,
    *,
    trigger: str,
    actor: Principal | None,
    base_url: str,
    policy: PushPolicy = DEFAULT_PUSH_POLICY,
    fit_policy: FitPolicy = DEFAULT_FIT_POLICY,
) -> s.PushRun:
    """Run one push in its own transaction (manual, CLI or demo trigger)."""
    async with pool.acquire() as conn, conn.transaction():
        return await run_in(conn, trigger=trigger, actor=actor, base_url=base_url, policy=policy, fit_policy=fit_policy)


def run_struct(row: Any) -> s.PushRun:
    """A stored run as its API type."""
    return msgspec.convert(dict(row), s.PushRun)


async def get_run(conn: Conn, run_id: uuid.UUID) -> s.PushRun:
    from ipledge.errors import NotFound

    row = await store.get_run(conn, run_id)
    if row is None:
        raise NotFound("推送批次不存在 / push run not found")
    return run_struct(row)
