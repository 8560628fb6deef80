"""Pure parts of the roadshow shell: life cycle, readiness, the day's timetable and the ICS writer."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar

from roadshow.ics import agenda_ics
from roadshow.lifecycle import MOVES, STATUSES, TransitionError, transition
from roadshow.readiness import ReadinessFacts, ReadinessPolicy, rank_readiness, readiness_score
from roadshow.schemas import Agenda, AgendaItem
from roadshow.timetable import TIMEZONE, Day, available_from, pitch_block, slot_span, slot_start, unavailable_from


def test_life_cycle_walks_forward_and_refuses_skips() -> None:
    path = ["open", "close", "pair", "schedule", "publish", "complete"]
    status = "draft"
    for action in path:
        status = transition(status, action)  # type: ignore[arg-type]
    assert status == "completed"
    with pytest.raises(TransitionError, match="cannot publish"):
        transition("paired", "publish")
    assert transition("published", "edit_meetings") == "scheduled"  # an edit un-publishes until re-published
    assert transition("paired", "edit_meetings") == "paired"
    assert transition("scheduled", "schedule") == "scheduled"  # re-solve


@pytest.mark.parametrize("status", STATUSES)
def test_every_move_from_every_status_is_allowed_or_refused(status: str) -> None:
    for action, (allowed, _) in MOVES.items():
        if status in allowed:
            assert transition(status, action) in STATUSES
        else:
            with pytest.raises(TransitionError):
                transition(status, action)
    if status == "completed":
        assert not any(status in allowed for allowed, _ in MOVES.values())


def test_readiness_orders_by_value_growth_and_need() -> None:
    facts = [
        ReadinessFacts(enterprise_id="low", value_degree=0.2, growth=0.0, financing_need=1e5),
        ReadinessFacts(enterprise_id="high", value_degree=0.9, growth=0.6, financing_need=5e7),
        ReadinessFacts(enterprise_id="unknown"),
    ]
    ranked = rank_readiness(facts)
    assert [r.enterprise_id for r in ranked] == ["high", "unknown", "low"]
    assert [r.rank for r in ranked] == [1, 2, 3]
    assert readiness_score(ReadinessFacts(enterprise_id="x")) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="sum to 1"):
        ReadinessPolicy(value_degree=0.9)


@given(
    st.floats(0, 1),
    st.floats(-1, 2),
    st.floats(0, 1e9),
    st.floats(0, 0.5),
)
def test_readiness_is_bounded_and_monotone_in_value(value: float, growth: float, need: float, more: float) -> None:
    low = readiness_score(ReadinessFacts(enterprise_id="a", value_degree=value, growth=growth, financing_need=need))
    high = readiness_score(
        ReadinessFacts(enterprise_id="a", value_degree=min(value + more, 1.0), growth=growth, financing_need=need)
    )
    assert 0.0 <= low <= high <= 1.0 + 1e-12


DAY = Day(
    event_date=date(2031, 3, 18),
    pitch_start=time(9, 0),
    pitch_count=6,
    pitch_minutes=8,
    slot_minutes=20,
    morning_start=time(10, 0),
    morning_slots=6,
    afternoon_start=time(14, 0),
    afternoon_slots=5,
)


def test_slots_are_numbered_over_the_whole_day() -> None:
    assert DAY.slots == 11 and DAY.split == 6
    assert slot_start(DAY, 1) == datetime(2031, 3, 18, 10, 0, tzinfo=TIMEZONE)
    assert slot_start(DAY, 6) == datetime(2031, 3, 18, 11, 40, tzinfo=TIMEZONE)
    assert slot_span(DAY, 7) == (
        datetime(2031, 3, 18, 14, 0, tzinfo=TIMEZONE),
        datetime(2031, 3, 18, 14, 20, tzinfo=TIMEZONE),
    )
    assert pitch_block(DAY)[1] == datetime(2031, 3, 18, 9, 48, tzinfo=TIMEZONE)
    with pytest.raises(ValueError, match="out of range"):
        slot_start(DAY, 12)
    assert unavailable_from([1, 2, 11], 11) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert available_from(unavailable_from([1, 2], 11), 11) == [1, 2]
    assert unavailable_from(None, 11) == [] and available_from([], 11) is None


def test_agenda_ics_parses_back_with_one_event_per_meeting() -> None:
    ids = [uuid.uuid4(), uuid.uuid4()]
    items = [
        AgendaItem(
            meeting_id=ids[i],
            slot=slot,
            table=table,
            place=f"第 {table} 桌",
            start=slot_span(DAY, slot)[0],
            end=slot_span(DAY, slot)[1],
            counterpart_id=uuid.uuid4(),
            counterpart_name=name,
            investor_label="主联系人",
        )
        for i, (slot, table, name) in enumerate([(1, 3, "深创测试投资基金"), (7, 1, "招商测试银行")])
    ]
    agenda = Agenda(
        event_id=uuid.uuid4(),
        title="2031年3月“一月一链”集成电路产业链路演",
        event_date=DAY.event_date,
        city="深圳",
        online=False,
        venue="会展中心",
        organisation_id=uuid.uuid4(),
        organisation_name="深圳芯测科技有限公司",
        role="enterprise",
        version="published",
        pitch_start=pitch_block(DAY)[0],
        pitch_end=pitch_block(DAY)[1],
        items=items,
    )
    cal = Calendar.from_ical(agenda_ics(agenda, now=datetime(2031, 3, 1, tzinfo=UTC)))
    events = cal.walk("VEVENT")
    assert len(events) == 2
    first = events[0]
    assert str(first["uid"]) == f"{ids[0]}@ipledge"
    assert first.decoded("dtstart") == datetime(2031, 3, 18, 2, 0, tzinfo=UTC)  # 10:00 Beijing time
    assert first.decoded("dtend") == datetime(2031, 3, 18, 2, 20, tzinfo=UTC)
    assert "深创测试投资基金" in str(first["summary"]) and "第 3 桌" in str(first["location"])
    assert "第 3 桌" in str(first["description"]) and str(first["x-ipledge-table"]) == "3"
