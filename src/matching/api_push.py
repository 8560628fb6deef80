"""HTTP controllers of push runs, schedules and the pull API for banks and funds."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from ipledge.auth import Principal, requires
from ipledge.db.types import Pool
from ipledge.deps import Cursor, Limit
from ipledge.registry.pagination import decode_cursor, encode_cursor
from matching import schemas as s
from matching import service_lists as lists
from matching import service_push as push
from matching import service_schedules as schedules
from matching import store_push
from matching.api_common import BASE_URL, OPERATOR, lang_of

READERS = requires("operator", "bank", "fund")
Req = Request[Principal, Any, Any]
_MEDIA = {
    "csv": "text/csv",  # Litestar adds "; charset=utf-8" to text types itself
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: The file a push-list export answers with, by operation id, for the OpenAPI document (see ``ipledge.app``).
FILE_RESPONSES: dict[str, dict[str, str]] = {
    operation: {"text/csv": "CSV, UTF-8 with BOM (fmt=csv)", _MEDIA["xlsx"]: "Excel workbook (fmt=xlsx)"}
    for operation in ("exportCurrentPushList", "exportPushList")
}


class PushRunController(Controller):
    path = "/api/v1/push-runs"
    tags = ["push"]
    guards = [OPERATOR]
    dependencies = BASE_URL

    @post(operation_id="runPush", summary="Run a push now (lists diffed and published in one transaction)")
    async def run(
        self, pool: NamedDependency[Pool], principal: NamedDependency[Principal], base_url: NamedDependency[str]
    ) -> s.PushRun:
        """Ranks the pool for every approved institution with criteria; only changed lists are published."""
        return await push.run_push(pool, trigger="manual", actor=principal, base_url=base_url)

    @get(operation_id="listPushRuns", summary="Push runs, newest first")
    async def index(self, pool: NamedDependency[Pool], cursor: Cursor = None, limit: Limit = 50) -> s.PushRunPage:
        after = decode_cursor(cursor, "tu")
        key = None
        if after is not None:
            from datetime import datetime

            key = (datetime.fromisoformat(after[0]), uuid.UUID(after[1]))  # decode_cursor checked both
        rows = await store_push.list_runs(pool, key, limit)
        more, rows = len(rows) > limit, rows[:limit]
        nxt = encode_cursor([rows[-1]["created_at"].isoformat(), str(rows[-1]["id"])]) if more else None
        return s.PushRunPage(items=[push.run_struct(r) for r in rows], next_cursor=nxt)

    @get("/{run_id:uuid}", operation_id="getPushRun", summary="One push run")
    async def get_one(self, pool: NamedDependency[Pool], run_id: FromPath[uuid.UUID]) -> s.PushRun:
        return await push.get_run(pool, run_id)


class PushScheduleController(Controller):
    path = "/api/v1/push-schedules"
    tags = ["push"]
    guards = [OPERATOR]

    @post(operation_id="createPushSchedule", summary="Schedule push runs (daily, weekly or monthly)")
    async def create(
        self, pool: NamedDependency[Pool], principal: NamedDependency[Principal], data: JSONBody[s.ScheduleIn]
    ) -> s.Schedule:
        return await schedules.create(pool, principal, data)

    @get(operation_id="listPushSchedules", summary="Push schedules")
    async def index(self, pool: NamedDependency[Pool]) -> list[s.Schedule]:
        return await schedules.list_all(pool)

    @patch("/{schedule_id:uuid}", operation_id="updatePushSchedule", summary="Pause, resume or move a schedule")
    async def update(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        schedule_id: FromPath[uuid.UUID],
        data: JSONBody[s.ScheduleUpdate],
    ) -> s.Schedule:
        return await schedules.update(pool, principal, schedule_id, data)


def _file(data: bytes, name: str, fmt: str) -> Response[bytes]:
    return Response(
        content=data, media_type=_MEDIA[fmt], headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


class PushListController(Controller):
    """The pull API: a bank or fund reads its own lists; operators name the institution."""

    path = "/api/v1/push-lists"
    tags = ["push lists"]
    guards = [READERS]

    @get(operation_id="listPushLists", summary="Lists received, newest first")
    async def index(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        organisation_id: FromQuery[uuid.UUID | None] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> s.PushListIndex:
        return await lists.index(pool, principal, organisation_id, cursor, limit)

    @get("/current", operation_id="currentPushList", summary="The latest list, one page of rows")
    async def current(
        self,
        request: Req,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        organisation_id: FromQuery[uuid.UUID | None] = None,
        cursor: Cursor = None,
        limit: Limit = 100,
    ) -> s.PushListPage:
        return await lists.page(pool, principal, None, organisation_id, cursor, limit, lang_of(request))

    @get("/current/{fmt:str}", operation_id="exportCurrentPushList", summary="The latest list as CSV or XLSX")
    async def current_file(
        self,
        request: Req,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        fmt: FromPath[Literal["csv", "xlsx"]],
        organisation_id: FromQuery[uuid.UUID | None] = None,
    ) -> Response[bytes]:
        data, name = await lists.export(pool, principal, None, organisation_id, fmt, lang_of(request))
        return _file(data, name, fmt)

    @get("/{list_id:uuid}", operation_id="getPushList", summary="One list, one page of rows")
    async def get_one(
        self,
        request: Req,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        list_id: FromPath[uuid.UUID],
        cursor: Cursor = None,
        limit: Limit = 100,
    ) -> s.PushListPage:
        return await lists.page(pool, principal, list_id, None, cursor, limit, lang_of(request))

    @get("/{list_id:uuid}/{fmt:str}", operation_id="exportPushList", summary="One list as CSV or XLSX")
    async def file(
        self,
        request: Req,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        list_id: FromPath[uuid.UUID],
        fmt: FromPath[Literal["csv", "xlsx"]],
    ) -> Response[bytes]:
        data, name = await lists.export(pool, principal, list_id, None, fmt, lang_of(request))
        return _file(data, name, fmt)


CONTROLLERS = [PushRunController, PushScheduleController, PushListController]
