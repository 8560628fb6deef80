"""An event end to end through the API: pair, schedule (a draft), lock, re-solve, publish, agendas, outcomes."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from icalendar import Calendar

import roadshow.scheduling
from tests.roadshow.helpers import Roadshow, build, expect

API = "/api/v1/roadshow"

pytestmark = pytest.mark.skipif(
    not hasattr(roadshow.scheduling, "solve"), reason="the scheduler core (roadshow.scheduling.solve) is not there yet"
)


def assert_valid(meetings: list[dict[str, Any]], tables: int) -> None:
    """Hard constraints recomputed from the API's own answer."""
    assert all(m["slot"] is not None and m["table"] is not None for m in meetings)
    by_slot_table = Counter((m["slot"], m["table"]) for m in meetings)
    assert max(by_slot_table.values()) == 1
    assert all(1 <= m["table"] <= tables for m in meetings)
    for side in ("enterprise_id", "signup_id"):
        busy = Counter((m[side], m["slot"]) for m in meetings)
        assert max(busy.values()) == 1, side


async def _scheduled(client: Any, db: Any, world: Any) -> tuple[Roadshow, str, list[dict[str, Any]]]:
    show = await build(client, db, world, n_enterprises=4, n_investors=3, max_meetings=3)
    base = f"{API}/events/{show.event_id}"
    await expect(await client.post(f"{base}/close", headers=show.op))
    await expect(await client.post(f"{base}/pair", headers=show.op))
    summary = await expect(await client.post(f"{base}/schedule", json={"time_limit_s": 5}, headers=show.op))
    assert summary["status"] == "scheduled" and summary["solver_status"] in ("optimal", "feasible")
    assert summary["lower_bound"] <= summary["breaks"]
    meetings = (await expect(await client.get(f"{base}/meetings", params={"limit": 500}, headers=show.op)))["items"]
    assert len(meetings) == summary["meetings"]
    assert_valid(meetings, tables=4)
    return show, base, meetings


async def test_schedule_lock_resolve_publish_and_agendas(client: Any, db: Any, world: Any) -> None:
    show, base, meetings = await _scheduled(client, db, world)
    # nothing is visible to participants before publication
    assert (await client.get(f"{base}/agenda", headers=world.fund.headers)).status_code == 409
    # lock one meeting into another slot and re-solve: it stays there
    target = meetings[0]
    new_slot = 8 if target["slot"] != 8 else 1
    locked = await expect(
        await client.patch(f"{base}/meetings/{target['id']}", json={"locked": True, "slot": new_slot}, headers=show.op)
    )
    assert locked["locked"] and locked["slot"] == new_slot and locked["table"] is None
    assert (await client.post(f"{base}/publish", headers=show.op)).status_code == 409  # needs a re-solve first
    await expect(await client.post(f"{base}/schedule", json={"time_limit_s": 5}, headers=show.op))
    after = {
        m["id"]: m
        for m in (await expect(await client.get(f"{base}/meetings", params={"limit": 500}, headers=show.op)))["items"]
    }
    assert after[target["id"]]["slot"] == new_slot
    assert_valid(list(after.values()), tables=4)
    # publish: one roadshow.agenda.published per participating bank/fund
    published = await expect(await client.post(f"{base}/publish", headers=show.op))
    assert published["version"] == 1 and published["organisations_notified"] == len(
        {m["organisation_id"] for m in after.values()}
    )
    events = await db.fetch(
        "SELECT organisation_id, payload FROM outbox_events WHERE event_type = 'roadshow.agenda.published'"
    )
    assert {str(e["organisation_id"]) for e in events} == {m["organisation_id"] for m in after.values()}
    assert all(e["payload"]["event_id"] == show.event_id and e["payload"]["version"] == 1 for e in events)
    # the fund's agenda: JSON, ICS, HTML — only its own meetings
    fund_id = str(world.fund.org.id)
    own = [m for m in after.values() if m["organisation_id"] == fund_id]
    agenda = await expect(await client.get(f"{base}/agenda", headers=world.fund.headers))
    assert agenda["role"] == "investor" and agenda["version"] == "published"
    assert sorted(i["meeting_id"] for i in agenda["items"]) == sorted(m["id"] for m in own)
    ics = await client.get(f"{base}/agenda.ics", headers=world.fund.headers)
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    vevents = Calendar.from_ical(ics.content).walk("VEVENT")
    assert len(vevents) == len(own)
    by_uid = {str(v["uid"]).split("@")[0]: v for v in vevents}
    for item in agenda["items"]:
        v = by_uid[item["meeting_id"]]
        assert item["counterpart_name"] in str(v["summary"]) and item["place"] in str(v["location"])
        assert v.decoded("dtstart").isoformat().replace("+00:00", "Z") != ""
    html = await client.get(f"{base}/agenda.html", headers=world.fund.headers)
    assert html.status_code == 200 and "一对一洽谈" in html.text and world.fund.org.name in html.text
    # an enterprise sees its own agenda; nobody else's
    ent_agenda = await expect(await client.get(f"{base}/agenda", headers=world.enterprise.headers))
    assert ent_agenda["role"] == "enterprise"
    assert {i["counterpart_id"] for i in ent_agenda["items"]} <= {str(a.org.id) for a in show.investors}
    other = {"organisation_id": str(world.bank.org.id)}
    assert (await client.get(f"{base}/agenda", params=other, headers=world.fund.headers)).status_code == 404
    assert (await client.get(f"{base}/agenda", params=other, headers=world.enterprise.headers)).status_code == 404
    op_view = await expect(await client.get(f"{base}/agenda", params=other, headers=show.op))
    assert op_view["version"] == "draft"
    mine = (await expect(await client.get(f"{base}/meetings", headers=world.enterprise.headers)))["items"]
    assert mine and {m["enterprise_id"] for m in mine} == {str(world.enterprise.org.id)}
    # outcomes: the fund records its own meetings only
    theirs = next(m for m in after.values() if m["organisation_id"] != fund_id)
    outcome = {"attended": True, "intention": "due_diligence", "amount": 5000000}
    assert (
        await client.put(f"{base}/meetings/{theirs['id']}/outcome", json=outcome, headers=world.fund.headers)
    ).status_code == 404
    if own:
        got = await expect(
            await client.put(f"{base}/meetings/{own[0]['id']}/outcome", json=outcome, headers=world.fund.headers)
        )
        assert got["intention"] == "due_diligence" and got["amount"] == 5000000
        # as in its own listing: not the pairing's score and fit (they reveal how the enterprise ranked it)
        fund_view = await expect(await client.get(f"{base}/meetings", headers=world.fund.headers))
        listed = next(m for m in fund_view["items"] if m["id"] == own[0]["id"])
        assert (got["score"], got["fit"]) == (listed["score"], listed["fit"]) == (0.0, None)
    bad = await client.put(
        f"{base}/meetings/{theirs['id']}/outcome", json={"attended": False, "amount": 1}, headers=show.op
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "amount"
    await expect(await client.put(f"{base}/meetings/{theirs['id']}/outcome", json={"attended": False}, headers=show.op))
    stats = await expect(await client.get(f"{base}/stats", headers=show.op))
    assert stats["recorded"] == (2 if own else 1) and stats["no_shows"] == 1 and stats["scheduled"] == len(after)
    assert stats["intended_amount"] == (5000000 if own else 0)
    completed = await expect(await client.post(f"{base}/complete", headers=show.op))
    assert completed["status"] == "completed"


async def test_resolve_after_publication_keeps_the_published_schedule(client: Any, db: Any, world: Any) -> None:
    show, base, meetings = await _scheduled(client, db, world)
    await expect(await client.post(f"{base}/publish", headers=show.op))
    # an edit after publication: unlock nothing, just restrict a session, then re-solve
    first = meetings[0]
    session = "am" if first["slot"] <= 4 else "pm"
    edited = await expect(
        await client.patch(
            f"{base}/meetings/{first['id']}", json={"locked": False, "session": session}, headers=show.op
        )
    )
    assert edited["session"] == session
    assert (await expect(await client.get(base, headers=show.op)))["status"] == "scheduled"
    # participants keep seeing the published agenda meanwhile
    assert (await expect(await client.get(f"{base}/agenda", headers=world.fund.headers)))["version"] == "published"
    again = await expect(await client.post(f"{base}/schedule", json={"time_limit_s": 5}, headers=show.op))
    assert again["published_kept"] + again["published_moved"] == len(meetings)
    assert again["published_kept"] >= len(meetings) // 2
    second = await expect(await client.post(f"{base}/publish", headers=show.op))
    assert second["version"] == 2
    count = await db.fetchval("SELECT count(*) FROM outbox_events WHERE event_type = 'roadshow.agenda.published'")
    assert count == 2 * second["organisations_notified"]


async def test_operator_edits_respect_no_thanks_and_the_institution_rule(client: Any, db: Any, world: Any) -> None:
    show = await build(client, db, world, n_enterprises=3, n_investors=2, max_meetings=3)
    base = f"{API}/events/{show.event_id}"
    ent = str(world.enterprise.org.id)
    fund_signup = show.signups[str(world.fund.org.id)]
    prefs = {"preferences": [{"enterprise_id": ent, "wish": "no_thanks"}]}
    await expect(await client.put(f"{base}/signups/{fund_signup}/preferences", json=prefs, headers=world.fund.headers))
    await expect(await client.post(f"{base}/close", headers=show.op))
    await expect(await client.post(f"{base}/pair", headers=show.op))
    meetings = (await expect(await client.get(f"{base}/meetings", headers=show.op)))["items"]
    assert (ent, fund_signup) not in {(m["enterprise_id"], m["signup_id"]) for m in meetings}
    refused = await client.post(
        f"{base}/meetings", json={"enterprise_id": ent, "signup_id": fund_signup}, headers=show.op
    )
    assert refused.status_code == 409
    existing = meetings[0]
    second = await expect(await client.get(base, headers=show.op))
    assert second["status"] == "paired"
    dup = await client.post(
        f"{base}/meetings",
        json={"enterprise_id": existing["enterprise_id"], "signup_id": existing["signup_id"]},
        headers=show.op,
    )
    assert dup.status_code == 409
    bad_slot = await client.post(
        f"{base}/meetings", json={"enterprise_id": ent, "signup_id": fund_signup, "slot": 30}, headers=show.op
    )
    assert bad_slot.status_code == 422 and bad_slot.json()["errors"][0]["field"] == "slot"
    wrong_session = await client.patch(
        f"{base}/meetings/{existing['id']}", json={"locked": True, "slot": 7, "session": "am"}, headers=show.op
    )
    assert wrong_session.status_code == 422 and wrong_session.json()["errors"][0]["field"] == "slot"
    assert (await client.delete(f"{base}/meetings/{existing['id']}", headers=world.fund.headers)).status_code == 403
    assert (await client.delete(f"{base}/meetings/{existing['id']}", headers=show.op)).status_code == 204
    assert (await client.delete(f"{base}/meetings/{existing['id']}", headers=show.op)).status_code == 404
