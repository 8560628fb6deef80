"""The shell's use of the scheduler core: validate, solve (with a hint), check a placement, and the JSON contract."""

from __future__ import annotations

import importlib
from typing import Any

import msgspec

from ipledge.errors import AppError, Conflict, InvalidInput, msgspec_field_error
from roadshow.scheduling.checker import check_schedule, count_breaks
from roadshow.scheduling.contract import ParticipantBreaks, Problem, Result, ScheduledMeeting, decode_problem
from roadshow.scheduling.validate import ProblemError, validate


class SchedulerUnavailable(AppError):
    status = 503
    slug = "scheduler-unavailable"


def _core() -> Any:
    core = importlib.import_module("roadshow.scheduling")
    if not hasattr(core, "solve"):
        raise SchedulerUnavailable("排期求解器暂不可用 / the scheduler is not available")
    return core


def check(problem: Problem) -> None:
    """Refuse an event whose locks cannot hold (two locks of one participant in a slot, more than tables)."""
    try:
        validate(problem)
    except ProblemError as exc:
        raise Conflict(f"锁定的洽谈互相冲突 / the locked meetings conflict: {exc}") from None


def solve(problem: Problem, time_limit_s: float | None, hint: dict[str, int] | None = None) -> Result:
    """Run the scheduler core (blocking; call it in a thread)."""
    result: Result = _core().solve(problem, time_limit_s=time_limit_s, hint=hint or None)
    return result


def check_placement(problem: Problem, placed: list[tuple[str, int | None, int | None]]) -> list[str]:
    """Every hard constraint of the problem checked on a placement; unplaced meetings are errors."""
    errors = [f"meeting {mid} is not scheduled" for mid, slot, table in placed if slot is None or table is None]
    if errors:
        return errors
    slot_of = {mid: slot or 0 for mid, slot, _ in placed}
    per_participant: dict[str, list[int]] = {p.id: [] for p in problem.participants}
    for meeting in problem.meetings:
        for pid in meeting.participants:
            per_participant.setdefault(pid, []).append(slot_of.get(meeting.id, 0))
    breaks = [ParticipantBreaks(id=pid, breaks=count_breaks(slots)) for pid, slots in per_participant.items()]
    result = Result(
        status="feasible",
        breaks=sum(b.breaks for b in breaks),
        lower_bound=None,
        solve_seconds=0.0,
        meetings=[ScheduledMeeting(id=mid, slot=slot or 0, table=table or 0) for mid, slot, table in placed],
        participants=breaks,
    )
    found: list[str] = check_schedule(problem, result)
    return found


def decode_and_validate(data: bytes) -> Problem:
    """Decode a Problem strictly and validate it; raises InvalidInput naming the field."""
    try:
        problem = decode_problem(data)
    except msgspec.ValidationError as exc:
        err = msgspec_field_error(exc)
        raise InvalidInput(err.field, err.message) from None
    except msgspec.DecodeError as exc:
        raise InvalidInput("body", f"JSON 格式错误 / malformed JSON: {exc}") from None
    try:
        validate(problem)
    except ProblemError as exc:
        raise InvalidInput(exc.field, exc.message) from None
    return problem
