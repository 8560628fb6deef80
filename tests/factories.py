"""Test data builders: valid identifiers and a small world of organisations with keys."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from ipledge.identifiers import make_credit_code, make_patent_number
from ipledge.registry import schemas as s
from ipledge.registry import service

_serial = itertools.count(1)


def credit_code(province: str = "44") -> str:
    """A fresh valid 统一社会信用代码 registered in ``province``."""
    return make_credit_code(f"91{province}0300MA{next(_serial):07d}")


def patent_number(year: int = 2019, kind: int = 1) -> str:
    """A fresh valid CN application number of the given type digit."""
    return make_patent_number(f"{year}{kind}{next(_serial):07d}")


@dataclass
class Actor:
    org: s.Organisation
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@dataclass
class World:
    operator: Actor
    enterprise: Actor
    other_enterprise: Actor
    bank: Actor
    pending_bank: Actor
    fund: Actor
    extra: dict[str, Any] = field(default_factory=dict)

    def all(self) -> dict[str, Actor]:
        return {
            "operator": self.operator,
            "enterprise": self.enterprise,
            "other_enterprise": self.other_enterprise,
            "bank": self.bank,
            "pending_bank": self.pending_bank,
            "fund": self.fund,
        }


async def make_actor(pool: Any, kind: str, name: str, province: str = "44", *, approve: bool = True) -> Actor:
    org = await service.create_organisation(
        pool, None, s.OrganisationCreate(kind=kind, name=name, credit_code=credit_code(province), province=province)
    )
    if kind in ("bank", "fund") and approve:
        await pool.execute("UPDATE organisations SET status = 'active' WHERE id = $1", org.id)
        org = await service.store.get_organisation(pool, org.id)  # type: ignore[attr-defined]
    key = await service.create_key(pool, None, org.id, "test")
    return Actor(org=org, key=key.key)


async def make_world(pool: Any) -> World:
    world = World(
        operator=await make_actor(pool, "operator", "广东省知识产权局"),
        enterprise=await make_actor(pool, "enterprise", "深圳芯测科技有限公司"),
        other_enterprise=await make_actor(pool, "enterprise", "杭州数智装备有限公司", "33"),
        bank=await make_actor(pool, "bank", "招商测试银行"),
        pending_bank=await make_actor(pool, "bank", "待审银行", approve=False),
        fund=await make_actor(pool, "fund", "深创测试投资基金"),
    )
    await pool.execute(
        "UPDATE enterprises SET consent_share = true WHERE organisation_id = $1", world.enterprise.org.id
    )
    return world
