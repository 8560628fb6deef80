"""Builders for roadshow integration tests: an event with invitations, sign-ups and preferences via the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from tests.factories import Actor, make_actor


@dataclass
class Roadshow:
    event_id: str
    operator: Actor
    enterprises: list[Actor]
    investors: list[Actor]
    signups: dict[str, str] = field(default_factory=dict)  # investor org id -> sign-up id

    @property
    def op(self) -> dict[str, str]:
        return self.operator.headers


def event_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_date": (date.today() + timedelta(days=30)).isoformat(),
        "chain": "ic",
        "city": "深圳",
        "venue": "会展中心 3 号馆",
        "tables": 4,
        "pitch_count": 6,
        "pitch_minutes": 8,
        "sessions": ["am", "pm"],
        "morning_slots": 4,
        "afternoon_slots": 4,
        "slot_minutes": 20,
        "floor_k": 2,
        "fairness": 2,
    }
    body.update(overrides)
    return body


async def expect(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def build(
    client: Any, db: Any, world: Any, *, n_enterprises: int = 4, n_investors: int = 3, max_meetings: int = 4
) -> Roadshow:
    """An open event with accepted invitations and investor sign-ups (sign-up still open)."""
    enterprises = [world.enterprise, world.other_enterprise]
    for i in range(n_enterprises - 2):
        enterprises.append(await make_actor(db, "enterprise", f"路演测试企业{i}有限公司"))
    investors = [world.fund, world.bank]
    for i in range(n_investors - 2):
        investors.append(await make_actor(db, "fund", f"路演测试基金{i}"))
    await db.execute(
        "UPDATE enterprises SET chain_code = 'ic', consent_share = true, business_scope = '集成电路芯片设计',"
        " financing_need = 5000000 WHERE organisation_id = ANY($1::uuid[])",
        [e.org.id for e in enterprises],
    )
    op = world.operator.headers
    event = await expect(await client.post("/api/v1/roadshow/events", json=event_body(), headers=op), 201)
    show = Roadshow(event_id=event["id"], operator=world.operator, enterprises=enterprises, investors=investors)
    base = f"/api/v1/roadshow/events/{show.event_id}"
    ids = [str(e.org.id) for e in enterprises]
    await expect(await client.post(f"{base}/invitations", json={"enterprise_ids": ids}, headers=op))
    await expect(await client.post(f"{base}/open", headers=op))
    for inv in investors:
        signup = await expect(
            await client.post(f"{base}/signups", json={"max_meetings": max_meetings}, headers=inv.headers), 201
        )
        show.signups[str(inv.org.id)] = signup["id"]
    for ent in enterprises:
        answer = {"max_meetings": max_meetings}
        await expect(await client.post(f"{base}/invitations/{ent.org.id}/accept", json=answer, headers=ent.headers))
    return show
