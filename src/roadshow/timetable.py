"""An event's day as numbered slots: slot numbers ↔ local times, and the event as a scheduling Problem.

Slots are numbered over the whole day (ROADSHOW.md §4): the morning session's slots first
(1..morning_slots), then the afternoon's. Times are local to ``TIMEZONE`` and returned as aware
datetimes; the database and the ICS keep them in UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import msgspec

TIMEZONE = ZoneInfo("Asia/Shanghai")


class Day(msgspec.Struct, frozen=True, kw_only=True):
    """The timing facts of one event."""

    event_date: date
    pitch_start: time
    pitch_count: int
    pitch_minutes: int
    slot_minutes: int
    morning_start: time | None
    morning_slots: int
    afternoon_start: time | None
    afternoon_slots: int

    @property
    def slots(self) -> int:
        return self.morning_slots + self.afternoon_slots

    @property
    def split(self) -> int | None:
        """``morning_slots`` of the Problem when the day has two sessions, else None."""
        return self.morning_slots if self.morning_slots and self.afternoon_slots else None


def _at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=TIMEZONE)


def slot_start(day: Day, slot: int) -> datetime:
    """Local start time of a 1-based slot."""
    if not 1 <= slot <= day.slots:
        raise ValueError(f"slot {slot} out of range 1..{day.slots}")
    if slot <= day.morning_slots and day.morning_start is not None:
        return _at(day.event_date, day.morning_start) + timedelta(minutes=(slot - 1) * day.slot_minutes)
    assert day.afternoon_start is not None
    offset = slot - day.morning_slots - 1
    return _at(day.event_date, day.afternoon_start) + timedelta(minutes=offset * day.slot_minutes)


def slot_span(day: Day, slot: int) -> tuple[datetime, datetime]:
    """Local start and end of a slot."""
    start = slot_start(day, slot)
    return start, start + timedelta(minutes=day.slot_minutes)


def pitch_block(day: Day) -> tuple[datetime, datetime]:
    """Local start and end of the pitch block (N pitches of M minutes)."""
    start = _at(day.event_date, day.pitch_start)
    return start, start + timedelta(minutes=day.pitch_count * day.pitch_minutes)


def unavailable_from(available: Sequence[int] | None, slots: int) -> list[int]:
    """The slots a participant cannot attend, from the slots it can (None = the whole day)."""
    if available is None:
        return []
    free = set(available)
    return [s for s in range(1, slots + 1) if s not in free]


def available_from(unavailable: Sequence[int], slots: int) -> list[int] | None:
    """The inverse of :func:`unavailable_from` (None when nothing is unavailable)."""
    if not unavailable:
        return None
    busy = set(unavailable)
    return [s for s in range(1, slots + 1) if s not in busy]


def table_label(online: bool, table: int, english: bool = False) -> str:
    """How a table is named to participants."""
    if english:
        return f"Online room {table}" if online else f"Table {table}"
    return f"线上会议室 {table}" if online else f"第 {table} 桌"
