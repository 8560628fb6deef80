"""Push schedules: create, change, list (operators); the worker runs them (``matching.schedule``)."""

from __future__ import annotations

import uuid

import msgspec
from msgspec import UNSET

from ipledge.auth import Principal
from ipledge.context import request_id_var
from ipledge.db.types import Pool
from ipledge.errors import NotFound
from ipledge.registry import store as registry_store
from matching import schemas as s

_COLUMNS = "id, name, every, next_run_at, last_run_at, last_run_id, enabled, created_at"


async def create(pool: Pool, actor: Principal, data: s.ScheduleIn) -> s.Schedule:
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            f"INSERT INTO push_schedules (name, every, next_run_at, created_by) VALUES ($1, $2, $3, $4)"
            f" RETURNING {_COLUMNS}",
            data.name,
            data.every,
            data.first_run_at,
            actor.organisation_id,
        )
        assert row is not None
        await registry_store.audit(
            conn, actor, "push_schedule.created", "push_schedule", str(row["id"]), {"every": data.every},
            request_id_var.get(),
        )  # fmt: skip
    return msgspec.convert(dict(row), s.Schedule)


async def update(pool: Pool, actor: Principal, schedule_id: uuid.UUID, data: s.ScheduleUpdate) -> s.Schedule:
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}
    async with pool.acquire() as conn, conn.transaction():
        sets = "".join(f", {col} = ${i}" for i, col in enumerate(changes, start=2))
        row = await conn.fetchrow(
            f"UPDATE push_schedules SET updated_at = now(){sets} WHERE id = $1 RETURNING {_COLUMNS}",
            schedule_id,
            *changes.values(),
        )
        if row is None:
            raise NotFound("推送计划不存在 / schedule not found")
        detail = {k: str(v) for k, v in changes.items()}
        await registry_store.audit(
            conn, actor, "push_schedule.updated", "push_schedule", str(schedule_id), detail, request_id_var.get()
        )
    return msgspec.convert(dict(row), s.Schedule)


async def list_all(pool: Pool) -> list[s.Schedule]:
    rows = await pool.fetch(f"SELECT {_COLUMNS} FROM push_schedules ORDER BY created_at, id")
    return [msgspec.convert(dict(r), s.Schedule) for r in rows]
