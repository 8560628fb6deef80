"""The roadshow demo: the year's calendar and next month's open event, loaded once."""

from __future__ import annotations

from datetime import date
from typing import Any

from ipledge.demo import load_demo
from roadshow.demo import load_roadshow_demo


async def test_roadshow_demo_loads_once_with_signups(db: Any) -> None:
    await load_demo(db, 7)
    assert await load_roadshow_demo(db, today=date(2031, 12, 5)) is True
    assert await load_roadshow_demo(db, today=date(2031, 12, 5)) is False
    months = await db.fetch("SELECT year, count(*) FROM roadshow_calendar GROUP BY year ORDER BY year")
    assert [tuple(r) for r in months] == [(2031, 12), (2032, 12)]
    event = await db.fetchrow("SELECT id, status, event_date, chain_code FROM roadshow_events")
    assert event["status"] == "open" and event["event_date"] == date(2032, 1, 18)
    accepted = await db.fetchval(
        "SELECT count(*) FROM roadshow_invitations WHERE event_id = $1 AND status = 'accepted'", event["id"]
    )
    signups = await db.fetchval("SELECT count(*) FROM roadshow_signups WHERE event_id = $1", event["id"])
    assert 1 <= accepted <= 12 and signups >= 8
