"""An agenda as an iCalendar file (RFC 5545): one VEVENT per meeting, built with the ``icalendar`` package."""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar, Event

from roadshow.schemas import Agenda


def agenda_ics(agenda: Agenda, *, now: datetime | None = None, host: str = "ipledge", english: bool = False) -> bytes:
    """Serialise an agenda as ICS; times are written in UTC.

    Args:
        agenda: The participant's agenda.
        now: The DTSTAMP (defaults to the current time).
        host: The domain part of each event's UID.
        english: English summaries and place names (``Accept-Language: en``); Chinese by default.

    Returns:
        The calendar as bytes (CRLF line endings, folded lines, as RFC 5545 wants).
    """
    stamp = (now or datetime.now(UTC)).astimezone(UTC)
    cal = Calendar()
    cal.add("prodid", "-//ipledge//roadshow agenda//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{agenda.title} · {agenda.organisation_name}")
    online, meeting = ("Online", "Roadshow meeting: ") if english else ("线上", "路演洽谈：")
    where = online if agenda.online else " ".join(x for x in (agenda.city or "", agenda.venue) if x)
    for item in agenda.items:
        event = Event()
        event.add("uid", f"{item.meeting_id}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", item.start.astimezone(UTC))
        event.add("dtend", item.end.astimezone(UTC))
        who = item.counterpart_name
        if agenda.role == "enterprise":
            who += f" ({item.investor_label})" if english else f"（{item.investor_label}）"
        event.add("summary", f"{meeting}{who}")
        event.add("location", f"{where} {item.place}".strip())
        event.add(
            "description",
            f"{agenda.title}\n洽谈对象 / counterpart: {who}\n桌号 / table: {item.place}\n时段 / slot: {item.slot}",
        )
        event.add("x-ipledge-table", str(item.table))
        event.add("x-ipledge-counterpart", str(item.counterpart_id))
        cal.add_component(event)
    data: bytes = cal.to_ical()
    return data
