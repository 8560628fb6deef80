"""Roadshow events over HTTP: calendar, life cycle, invitations, sign-ups, preferences, pairing, tenancy."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.factories import make_actor
from tests.roadshow.helpers import build, event_body, expect

API = "/api/v1/roadshow"


async def test_calendar_maps_months_to_chains(client: Any, world: Any) -> None:
    op = world.operator.headers
    body = {"months": [{"month": 1, "chain": "ic"}, {"month": 2, "chain": "nev", "note": "春节后"}]}
    cal = await expect(await client.put(f"{API}/calendar/2031", json=body, headers=op))
    assert [(m["month"], m["chain"], m["chain_name"]) for m in cal["months"]] == [
        (1, "ic", "集成电路"),
        (2, "nev", "新能源汽车"),
    ]
    again = await expect(
        await client.put(f"{API}/calendar/2031", json={"months": [{"month": 1, "chain": "ai"}]}, headers=op)
    )
    assert [m["chain"] for m in again["months"]] == ["ai", "nev"]
    assert (await expect(await client.get(f"{API}/calendar/2031", headers=world.fund.headers)))["months"][1][
        "note"
    ] == "春节后"
    bad = await client.put(f"{API}/calendar/2031", json={"months": [{"month": 3, "chain": "nope"}]}, headers=op)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "months[0].chain"
    dup = await client.put(f"{API}/calendar/2031", json={"months": [{"month": 3, "chain": "ic"}] * 2}, headers=op)
    assert dup.status_code == 422 and dup.json()["errors"][0]["field"] == "months"
    assert (await client.put(f"{API}/calendar/2031", json=body, headers=world.fund.headers)).status_code == 403
    assert (await client.get(f"{API}/calendar/1999", headers=op)).status_code == 422


async def test_event_takes_its_chain_from_the_calendar(client: Any, world: Any) -> None:
    op = world.operator.headers
    await expect(
        await client.put(f"{API}/calendar/2031", json={"months": [{"month": 5, "chain": "robot"}]}, headers=op)
    )
    body = event_body(event_date="2031-05-20")
    del body["chain"]
    event = await expect(await client.post(f"{API}/events", json=body, headers=op), 201)
    assert event["chain"] == "robot" and "机器人" in event["title"]
    assert event["status"] == "draft" and event["slots"] == 8 and event["sessions"] == ["am", "pm"]
    assert event["morning_start"] == "09:48:00"  # right after 6 pitches of 8 minutes
    body["event_date"] = "2031-06-20"
    missing = await client.post(f"{API}/events", json=body, headers=op)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "chain"


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"slot_minutes": 25}, "slot_minutes"),
        ({"tables": "4"}, "tables"),
        ({"city": None}, "city"),
        ({"morning_start": "09:10:00"}, "morning_start"),
        ({"morning_slots": 20}, "morning_slots"),
        ({"sessions": ["am", "am"]}, "sessions"),
        ({"chain": "unknown_chain"}, "chain"),
        ({"surprise": 1}, "surprise"),
    ],
)
async def test_bad_events_are_refused_naming_the_field(
    client: Any, world: Any, override: dict[str, Any], field: str
) -> None:
    response = await client.post(f"{API}/events", json=event_body(**override), headers=world.operator.headers)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


async def test_life_cycle_is_checked(client: Any, world: Any) -> None:
    op = world.operator.headers
    event = await expect(await client.post(f"{API}/events", json=event_body(online=True, city=None), headers=op), 201)
    base = f"{API}/events/{event['id']}"
    # drafts are invisible to participants
    assert (await client.get(base, headers=world.fund.headers)).status_code == 404
    listed = await expect(await client.get(f"{API}/events", headers=world.fund.headers))
    assert event["id"] not in [e["id"] for e in listed["items"]]
    for action in ("close", "pair", "publish", "complete"):
        refused = await client.post(f"{base}/{action}", headers=op, json={} if action == "schedule" else None)
        assert refused.status_code == 409, (action, refused.text)
    opened = await expect(await client.post(f"{base}/open", headers=op))
    assert opened["status"] == "open" and opened["status_name"] == "报名中"
    # closing needs at least one pitching enterprise
    assert (await client.post(f"{base}/close", headers=op)).status_code == 409
    assert (await client.post(f"{base}/open", headers=world.fund.headers)).status_code == 403
    patched = await expect(await client.patch(base, json={"tables": 9, "pitch_count": 3}, headers=op))
    assert patched["tables"] == 9 and patched["pitch_count"] == 3
    bad = await client.patch(base, json={"morning_slots": 40}, headers=op)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "morning_slots"


async def test_invitations_rank_by_readiness_and_cap_pitches(client: Any, db: Any, world: Any) -> None:
    show = await build(client, db, world, n_enterprises=4, n_investors=2)
    base = f"{API}/events/{show.event_id}"
    invitations = await expect(await client.get(f"{base}/invitations", headers=show.op))
    assert [i["readiness_rank"] for i in invitations["items"]] == [1, 2, 3, 4]
    assert all(i["status"] == "accepted" for i in invitations["items"])
    # an enterprise sees only its own invitation; investors see the pitch list instead
    own = await expect(await client.get(f"{base}/invitations", headers=world.enterprise.headers))
    assert [i["enterprise_id"] for i in own["items"]] == [str(world.enterprise.org.id)]
    assert (await client.get(f"{base}/invitations", headers=world.fund.headers)).status_code == 403
    pitches = await expect(await client.get(f"{base}/pitches", headers=world.fund.headers))
    assert len(pitches) == 4 and pitches[0]["order"] == 1
    # one enterprise cannot answer for another
    other = f"{base}/invitations/{world.other_enterprise.org.id}/decline"
    assert (await client.post(other, headers=world.enterprise.headers)).status_code == 404
    # the pitch count caps acceptances
    await expect(await client.patch(base, json={"pitch_count": 4}, headers=show.op))
    late = await make_actor(db, "enterprise", "迟到的芯片企业有限公司")
    await expect(await client.post(f"{base}/invitations", json={"enterprise_ids": [str(late.org.id)]}, headers=show.op))
    full = await client.post(f"{base}/invitations/{late.org.id}/accept", json={"max_meetings": 3}, headers=late.headers)
    assert full.status_code == 409
    bad_slot = await client.post(
        f"{base}/invitations/{world.enterprise.org.id}/accept",
        json={"max_meetings": 3, "available_slots": [1, 99]},
        headers=world.enterprise.headers,
    )
    assert bad_slot.status_code == 422 and bad_slot.json()["errors"][0]["field"] == "available_slots[1]"
    range_slot = await client.post(
        f"{base}/invitations/{world.enterprise.org.id}/accept",
        json={"max_meetings": 3, "available_slots": [1, 9]},
        headers=world.enterprise.headers,
    )
    assert range_slot.status_code == 422 and range_slot.json()["errors"][0]["field"] == "available_slots[1]"


async def test_invite_from_the_pool_ranks_by_readiness(client: Any, db: Any, world: Any) -> None:
    from matching.public import pool_members

    op = world.operator.headers
    event = await expect(await client.post(f"{API}/events", json=event_body(pitch_count=2), headers=op), 201)
    ents = [await make_actor(db, "enterprise", f"池内芯片企业{i}有限公司") for i in range(3)]
    for i, ent in enumerate(ents):
        await db.execute(
            "UPDATE enterprises SET chain_code = 'ic', financing_need = $2 WHERE organisation_id = $1",
            ent.org.id,
            [1e5, 5e7, 1e7][i],
        )
    await _admit(db, [e.org.id for e in ents])
    assert set(await pool_members(db, chain="ic")) == {e.org.id for e in ents}
    result = await expect(await client.post(f"{API}/events/{event['id']}/invitations", json={}, headers=op))
    assert result["invited"] == 2  # capped at the pitch count
    page = await expect(await client.get(f"{API}/events/{event['id']}/invitations", headers=op))
    assert [i["enterprise_id"] for i in page["items"]] == [str(ents[1].org.id), str(ents[2].org.id)]


async def _admit(db: Any, ids: list[Any]) -> None:
    """Admit enterprises to the pool as matching records it (as matching's own tests do)."""
    for eid in ids:
        await db.execute(
            "INSERT INTO pool_entries (enterprise_id, province_code, state, policy_version, admitted_at)"
            " SELECT id, province_code, 'admitted', '2024.1', now() FROM organisations WHERE id = $1",
            eid,
        )


async def test_funds_see_only_their_own_signups_and_preferences(client: Any, db: Any, world: Any) -> None:
    show = await build(client, db, world, n_enterprises=3, n_investors=3)
    base = f"{API}/events/{show.event_id}"
    mine = await expect(await client.get(f"{base}/signups", headers=world.fund.headers))
    assert [g["organisation_id"] for g in mine["items"]] == [str(world.fund.org.id)]
    everyone = await expect(await client.get(f"{base}/signups", headers=show.op))
    assert len(everyone["items"]) == 3
    assert (await client.get(f"{base}/signups", headers=world.enterprise.headers)).status_code == 403
    bank_signup = show.signups[str(world.bank.org.id)]
    prefs = {"preferences": [{"enterprise_id": str(world.enterprise.org.id), "wish": "must_meet"}]}
    assert (
        await client.put(f"{base}/signups/{bank_signup}/preferences", json=prefs, headers=world.fund.headers)
    ).status_code == 404
    assert (
        await client.get(f"{base}/signups/{bank_signup}/preferences", headers=world.fund.headers)
    ).status_code == 404
    assert (await client.delete(f"{base}/signups/{bank_signup}", headers=world.fund.headers)).status_code == 404
    got = await expect(
        await client.put(f"{base}/signups/{bank_signup}/preferences", json=prefs, headers=world.bank.headers)
    )
    assert got["preferences"][0]["wish"] == "must_meet"
    stranger = {"preferences": [{"enterprise_id": str(world.operator.org.id), "wish": "meet"}]}
    bad = await client.put(f"{base}/signups/{bank_signup}/preferences", json=stranger, headers=world.bank.headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "preferences[0].enterprise_id"
    # enterprises see the institution list and may rank them; pending banks cannot sign up
    investors = await expect(await client.get(f"{base}/investors", headers=world.enterprise.headers))
    assert {i["organisation_id"] for i in investors} == {str(a.org.id) for a in show.investors}
    assert (
        await client.post(f"{base}/signups", json={"max_meetings": 2}, headers=world.pending_bank.headers)
    ).status_code == 403
    assert (
        await client.post(f"{base}/signups", json={"max_meetings": 2}, headers=world.enterprise.headers)
    ).status_code == 403


async def test_pairing_through_the_api_respects_wishes_and_rules(client: Any, db: Any, world: Any) -> None:
    show = await build(client, db, world, n_enterprises=5, n_investors=3, max_meetings=4)
    base = f"{API}/events/{show.event_id}"
    e0, e1 = (str(e.org.id) for e in show.enterprises[:2])
    fund_signup = show.signups[str(world.fund.org.id)]
    # a second person of the same fund
    second = await expect(
        await client.post(f"{base}/signups", json={"max_meetings": 4, "label": "投资总监"}, headers=world.fund.headers),
        201,
    )
    prefs = {"preferences": [{"enterprise_id": e0, "wish": "no_thanks"}, {"enterprise_id": e1, "wish": "must_meet"}]}
    await expect(await client.put(f"{base}/signups/{fund_signup}/preferences", json=prefs, headers=world.fund.headers))
    await expect(
        await client.put(
            f"{base}/signups/{second['id']}/preferences",
            json={"preferences": [{"enterprise_id": e1, "wish": "must_meet"}]},
            headers=world.fund.headers,
        )
    )
    ranking = {"max_meetings": 4, "investor_ranking": [str(world.bank.org.id)]}
    await expect(
        await client.post(f"{base}/invitations/{e1}/accept", json=ranking, headers=show.enterprises[1].headers)
    )
    await expect(await client.post(f"{base}/close", headers=show.op))
    summary = await expect(await client.post(f"{base}/pair", headers=show.op))
    assert summary["status"] == "paired" and summary["meetings"] > 0
    page = await expect(await client.get(f"{base}/meetings", headers=show.op, params={"limit": 500}))
    meetings = page["items"]
    assert len(meetings) == summary["meetings"]
    pairs = [(m["enterprise_id"], m["signup_id"]) for m in meetings]
    assert len(set(pairs)) == len(pairs)  # one meeting per pair
    assert (e0, fund_signup) not in pairs  # no-thanks never scheduled
    per_inst = Counter((m["enterprise_id"], m["organisation_id"]) for m in meetings)
    assert max(per_inst.values()) == 1  # no two investors of one institution at one enterprise
    assert sum(1 for m in meetings if m["enterprise_id"] == e1 and m["organisation_id"] == str(world.fund.org.id)) == 1
    per_ent = Counter(m["enterprise_id"] for m in meetings)
    per_signup = Counter(m["signup_id"] for m in meetings)
    assert max(per_ent.values()) <= 4 and max(per_signup.values()) <= 4
    # the floor: 4 sign-ups x 4 capacity over 5 enterprises allows k=2 each
    assert summary["below_floor"] == [] and min(per_ent[str(e.org.id)] for e in show.enterprises) >= 2
    # re-pairing replaces the draft; participants see nothing before publication
    again = await expect(await client.post(f"{base}/pair", headers=show.op))
    assert again["meetings"] == summary["meetings"]
    assert (await expect(await client.get(f"{base}/meetings", headers=world.fund.headers)))["items"] == []
    stats = await expect(await client.get(f"{base}/stats", headers=show.op))
    assert stats["meetings"] == summary["meetings"] and stats["wishes"]["no_thanks"] == 1 and stats["accepted"] == 5
    assert (await client.get(f"{base}/stats", headers=world.fund.headers)).status_code == 403
