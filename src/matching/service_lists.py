"""The pull API: an institution's current and past push lists as JSON pages, CSV and XLSX.

Tenancy: a bank or fund sees only its own lists (another's list is a 404); operators see all.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
import msgspec

from ipledge.auth import Principal
from ipledge.context import request_id_var
from ipledge.db.types import Pool
from ipledge.errors import InvalidInput, NotFound
from ipledge.registry import store as registry_store
from ipledge.registry.pagination import decode_cursor, encode_cursor
from matching import exports
from matching import schemas as s
from matching import store_push as store
from matching.i18n import Lang

_NO_LIST = "推送名单不存在 / push list not found"


def _info(row: asyncpg.Record) -> s.PushListInfo:
    return msgspec.convert(dict(row), s.PushListInfo)


def _row(r: asyncpg.Record, lang: Lang) -> s.PushListRow:
    en = lang == "en"
    return s.PushListRow(
        rank=r["rank"],
        enterprise_id=r["enterprise_id"],
        credit_code=r["credit_code"].strip(),
        name=r["name"],
        province=r["province"],
        province_name=r["province_en"] if en else r["province_zh"],
        chain=(r["chain_en"] if en else r["chain_zh"]) if r["chain"] else None,
        score=round(float(r["score"]), 1),
        financing_need=r["financing_need"],
        change=r["change"],
        reasons=list(r["reasons_en"] if en else r["reasons_zh"]),
    )


def _owner(actor: Principal, organisation_id: uuid.UUID | None) -> uuid.UUID | None:
    """Whose lists the actor may read: its own, or (operators) the one asked for / everyone's."""
    if actor.is_operator:
        return organisation_id
    if organisation_id is not None and organisation_id != actor.organisation_id:
        raise NotFound(_NO_LIST)
    return actor.organisation_id


async def visible_list(
    pool: Pool, actor: Principal, list_id: uuid.UUID | None, org: uuid.UUID | None
) -> s.PushListInfo:
    """A list by id, or the current (latest) list of the institution; 404 when not the actor's."""
    owner = _owner(actor, org)
    if list_id is None:
        if owner is None:
            raise InvalidInput("organisation_id", "运营方须指定机构 / operators must name the institution")
        row = await store.latest_list(pool, owner)
    else:
        row = await store.get_list(pool, list_id)
        if row is not None and not actor.is_operator and row["organisation_id"] != actor.organisation_id:
            row = None
    if row is None:
        raise NotFound(_NO_LIST)
    return _info(row)


async def page(
    pool: Pool, actor: Principal, list_id: uuid.UUID | None, org: uuid.UUID | None, cursor: str | None, limit: int,
    lang: Lang,
) -> s.PushListPage:  # fmt: skip
    """One page of a list's rows, in rank order."""
    info = await visible_list(pool, actor, list_id, org)
    after = decode_cursor(cursor, "i")
    rows = await store.list_rows(pool, info.id, after[0] if after else 0, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor([rows[-1]["rank"]]) if more else None
    return s.PushListPage(push_list=info, items=[_row(r, lang) for r in rows], next_cursor=nxt)


async def export(
    pool: Pool, actor: Principal, list_id: uuid.UUID | None, org: uuid.UUID | None, fmt: str, lang: Lang
) -> tuple[bytes, str]:
    """The whole list as CSV or XLSX bytes, and a file name; the export is audited."""
    info = await visible_list(pool, actor, list_id, org)
    rows = [_row(r, lang) for r in await store.list_rows(pool, info.id, 0, None)]
    await registry_store.audit(
        pool, actor, "push_list.exported", "push_list", str(info.id), {"format": fmt, "rows": len(rows)},
        request_id_var.get(),
    )  # fmt: skip
    name = f"push-list-{info.sequence:04d}-{info.created_at:%Y%m%d}.{fmt}"
    data = exports.to_csv(rows, lang) if fmt == "csv" else exports.to_xlsx(rows, lang, name)
    return data, name


async def index(pool: Pool, actor: Principal, org: uuid.UUID | None, cursor: str | None, limit: int) -> s.PushListIndex:
    """The lists the actor may see, newest first."""
    owner = _owner(actor, org)
    after = decode_cursor(cursor, "tu")
    key = None
    if after is not None:
        key = (datetime.fromisoformat(after[0]), uuid.UUID(after[1]))  # decode_cursor checked both
    rows = await store.list_lists(pool, owner, key, limit)
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor([rows[-1]["created_at"].isoformat(), str(rows[-1]["id"])]) if more else None
    return s.PushListIndex(items=[_info(r) for r in rows], next_cursor=nxt)
