"""Scheduling contract: strict decoding, every malformed-problem rejection, and the independent checker."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from roadshow.scheduling import ProblemError, Result, check_schedule, count_breaks, decode_problem, validate
from roadshow.scheduling.contract import ParticipantBreaks, ScheduledMeeting


def body(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "slots": 6,
        "morning_slots": 3,
        "tables": 2,
        "fairness": 2,
        "time_limit_s": 5,
        "participants": [{"id": "p1", "unavailable": [6]}, {"id": "p2"}, {"id": "p3"}, {"id": "p4"}],
        "meetings": [
            {"id": "m1", "participants": ["p1", "p2"], "session": "am", "slot": None},
            {"id": "m2", "participants": ["p1", "p3"], "session": "any", "slot": 2},
            {"id": "m3", "participants": ["p2", "p4"], "session": "pm"},
        ],
    }
    base.update(overrides)
    return base


def decode(data: dict[str, Any]) -> Any:
    return decode_problem(json.dumps(data).encode())


def test_the_documented_example_decodes() -> None:
    problem = decode(body())
    assert problem.slots == 6 and problem.morning_slots == 3 and problem.meetings[1].slot == 2
    assert problem.participants[1].unavailable == [] and problem.meetings[2].session == "pm"
    validate(problem)


@pytest.mark.parametrize(
    ("override", "path"),
    [
        ({"slots": "6"}, "$.slots"),
        ({"slots": 0}, "$.slots"),
        ({"tables": 1.5}, "$.tables"),
        ({"time_limit_s": 0}, "$.time_limit_s"),
        ({"fairness": -1}, "$.fairness"),
        ({"colour": "red"}, "colour"),
        ({"participants": [{"id": "bad id"}]}, "$.participants[0].id"),
        ({"meetings": [{"id": "m1", "participants": ["p1"]}]}, "$.meetings[0].participants"),
        ({"meetings": [{"id": "m1", "participants": ["p1", "p2"], "session": "night"}]}, "$.meetings[0].session"),
        ({"meetings": [{"id": "m1", "participants": ["p1", "p2"], "slot": 0}]}, "$.meetings[0].slot"),
    ],
)
def test_strict_decoding_rejects_wrong_types_and_ranges(override: dict[str, Any], path: str) -> None:
    raw = json.dumps(body(**override)).encode()
    with pytest.raises(msgspec.ValidationError) as err:
        decode_problem(raw)
    assert path in str(err.value)


LOCK2 = [{"id": "m1", "participants": ["p1", "p2"], "slot": 2}, {"id": "m2", "participants": ["p3", "p4"], "slot": 2}]


@pytest.mark.parametrize(
    ("override", "field", "text"),
    [
        ({"morning_slots": 7}, "morning_slots", "exceeds slots"),
        ({"participants": [{"id": "p1"}, {"id": "p1"}], "meetings": []}, "participants[1].id", "duplicate"),
        (
            {"participants": [{"id": "p1", "unavailable": [9]}], "meetings": []},
            "participants[0].unavailable[0]",
            "range",
        ),
        (
            {"meetings": [{"id": "m1", "participants": ["p1", "p9"]}]},
            "meetings[0].participants[1]",
            "unknown participant 'p9'",
        ),
        ({"meetings": [{"id": "m1", "participants": ["p2", "p2"]}]}, "meetings[0].participants[1]", "twice"),
        (
            {"meetings": [{"id": "m1", "participants": ["p1", "p2"]}, {"id": "m1", "participants": ["p3", "p4"]}]},
            "meetings[1].id",
            "duplicate meeting id",
        ),
        ({"meetings": [{"id": "m1", "participants": ["p1", "p2"], "slot": 7}]}, "meetings[0].slot", "out of range"),
        ({"morning_slots": None}, "meetings[0].session", "morning_slots"),
        ({"morning_slots": 6}, "meetings[2].session", "no slots"),
        (
            {"meetings": [{"id": "m1", "participants": ["p1", "p2"], "session": "pm", "slot": 2}]},
            "meetings[0].slot",
            "outside session",
        ),
        ({"meetings": [{"id": "m1", "participants": ["p1", "p2"], "slot": 6}]}, "meetings[0].slot", "unavailable"),
        ({"tables": 1, "meetings": LOCK2}, "meetings[1].slot", "tables"),
        (
            {"meetings": [LOCK2[0], {"id": "m2", "participants": ["p1", "p3"], "slot": 2}]},
            "meetings[1].slot",
            "'p1' has locked meetings",
        ),
    ],
)
def test_validate_names_the_field(override: dict[str, Any], field: str, text: str) -> None:
    with pytest.raises(ProblemError) as err:
        validate(decode(body(**override)))
    assert err.value.field == field
    assert text in err.value.message
    assert str(err.value).startswith(field + ": ")


def test_non_json_numbers_are_rejected() -> None:
    with pytest.raises(msgspec.DecodeError):
        decode_problem(json.dumps(body(time_limit_s=float("nan"))).encode())


def test_count_breaks() -> None:
    assert count_breaks([]) == 0 and count_breaks([4]) == 0 and count_breaks([3, 1, 2]) == 0
    assert count_breaks([1, 3]) == 1 and count_breaks([1, 4, 5, 8]) == 2


def good_result() -> tuple[Any, Result]:
    problem = decode(body(fairness=0))
    result = Result(
        status="feasible",
        breaks=0,
        lower_bound=0,
        solve_seconds=0.1,
        meetings=[
            ScheduledMeeting(id="m1", slot=3, table=1),
            ScheduledMeeting(id="m2", slot=2, table=1),
            ScheduledMeeting(id="m3", slot=4, table=1),
        ],
        participants=[ParticipantBreaks(id=p, breaks=0) for p in ("p1", "p2", "p3", "p4")],
    )
    return problem, result


def test_checker_accepts_a_valid_schedule_and_flags_each_violation() -> None:
    problem, good = good_result()
    assert check_schedule(problem, good) == []
    assert any("lower bound" in e for e in check_schedule(problem, msgspec.structs.replace(good, lower_bound=1)))

    def place(m1: int = 3, m2: int = 2, m3: int = 4, table: int = 1) -> Result:
        meetings = [
            ScheduledMeeting(id="m1", slot=m1, table=1),
            ScheduledMeeting(id="m2", slot=m2, table=table),
            ScheduledMeeting(id="m3", slot=m3, table=1),
        ]
        return msgspec.structs.replace(good, meetings=meetings)

    assert any("session" in e for e in check_schedule(problem, place(m3=2)))  # m3 is pm-only
    assert any("locked" in e for e in check_schedule(problem, place(m2=1)))
    assert any("two meetings in one slot" in e for e in check_schedule(problem, place(m1=2)))
    assert any("table 3 out of range" in e for e in check_schedule(problem, place(table=3)))
    # p2 meets at 1 and 4: one break, which the result does not report
    assert any("differ" in e for e in check_schedule(problem, place(m1=1)))
    missing = msgspec.structs.replace(good, meetings=good.meetings[:2])
    assert any("not scheduled" in e for e in check_schedule(problem, missing))
    wrong_total = msgspec.structs.replace(good, breaks=3)
    assert any("total breaks" in e for e in check_schedule(problem, wrong_total))


def test_checker_flags_unavailability_capacity_and_fairness() -> None:
    problem = decode(
        body(
            tables=1,
            fairness=0,
            morning_slots=None,
            meetings=[
                {"id": "m1", "participants": ["p1", "p2"]},
                {"id": "m2", "participants": ["p3", "p4"]},
                {"id": "m3", "participants": ["p1", "p3"]},
            ],
        )
    )
    result = Result(
        status="feasible",
        breaks=1,
        lower_bound=0,
        solve_seconds=0.0,
        meetings=[
            ScheduledMeeting(id="m1", slot=6, table=1),
            ScheduledMeeting(id="m2", slot=6, table=1),
            ScheduledMeeting(id="m3", slot=4, table=1),
        ],
        participants=[ParticipantBreaks(id="p1", breaks=1)]
        + [ParticipantBreaks(id=p, breaks=0) for p in ("p2", "p3", "p4")],
    )
    errors = check_schedule(problem, result)
    assert any("unavailable in slot 6" in e for e in errors)
    assert any("table 1 is used twice" in e for e in errors)
    assert any("fairness" in e for e in errors)
