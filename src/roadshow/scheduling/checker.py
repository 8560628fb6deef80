"""An independent checker of a Result against its Problem.

Written apart from the solver on purpose: it recomputes every hard constraint, every participant's
break count, the total and the fairness spread from the raw schedule, so tests and benchmarks can trust
a schedule without trusting the code that produced it.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise

from roadshow.scheduling.contract import Problem, Result


def count_breaks(slots: list[int]) -> int:
    """Breaks of one participant: maximal runs of idle slots strictly between two of its meetings."""
    ordered = sorted(set(slots))
    return sum(1 for a, b in pairwise(ordered) if b > a + 1)


def _in_session(problem: Problem, session: str, slot: int) -> bool:
    morning = problem.morning_slots if problem.morning_slots is not None else problem.slots
    if session == "am":
        return slot <= morning
    if session == "pm":
        return slot > morning
    return True


def _check_meetings(problem: Problem, result: Result, errors: list[str]) -> dict[str, list[int]]:
    """Check each placed meeting; return the slots of each participant."""
    placed = {m.id: m for m in result.meetings}
    if len(placed) != len(result.meetings):
        errors.append("a meeting is listed twice in the result")
    unavailable = {p.id: set(p.unavailable) for p in problem.participants}
    per_participant: dict[str, list[int]] = defaultdict(list)
    for meeting in problem.meetings:
        got = placed.pop(meeting.id, None)
        if got is None:
            errors.append(f"meeting {meeting.id} is not scheduled")
            continue
        if not 1 <= got.slot <= problem.slots:
            errors.append(f"meeting {meeting.id}: slot {got.slot} out of range")
        if not 1 <= got.table <= problem.tables:
            errors.append(f"meeting {meeting.id}: table {got.table} out of range")
        if not _in_session(problem, meeting.session, got.slot):
            errors.append(f"meeting {meeting.id}: slot {got.slot} outside session {meeting.session}")
        if meeting.slot is not None and got.slot != meeting.slot:
            errors.append(f"meeting {meeting.id}: locked to slot {meeting.slot} but placed in {got.slot}")
        for pid in meeting.participants:
            if got.slot in unavailable.get(pid, set()):
                errors.append(f"meeting {meeting.id}: {pid} is unavailable in slot {got.slot}")
            per_participant[pid].append(got.slot)
    errors.extend(f"meeting {mid} is not in the problem" for mid in placed)
    return per_participant


def _check_rooms(result: Result, per_participant: dict[str, list[int]], errors: list[str]) -> None:
    for pid, slots in per_participant.items():
        if len(set(slots)) != len(slots):
            errors.append(f"participant {pid} has two meetings in one slot")
    tables_used: set[tuple[int, int]] = set()
    for got in result.meetings:
        if (got.slot, got.table) in tables_used:
            errors.append(f"slot {got.slot}: table {got.table} is used twice")
        tables_used.add((got.slot, got.table))


def _check_breaks(problem: Problem, result: Result, per_participant: dict[str, list[int]], errors: list[str]) -> None:
    breaks = {p.id: count_breaks(per_participant.get(p.id, [])) for p in problem.participants}
    reported = {p.id: p.breaks for p in result.participants}
    if reported != breaks:
        wrong = sorted(pid for pid in breaks.keys() | reported.keys() if reported.get(pid) != breaks.get(pid))
        errors.append(f"reported participant breaks differ from the schedule for {wrong[:5]}")
    total = sum(breaks.values())
    if result.breaks != total:
        errors.append(f"reported total breaks {result.breaks} but the schedule has {total}")
    if result.lower_bound is not None and result.lower_bound > total:
        errors.append(f"lower bound {result.lower_bound} exceeds the schedule's breaks {total}")
    if result.status == "optimal" and result.lower_bound != total:
        errors.append(f"status optimal but lower bound {result.lower_bound} != breaks {total}")
    if problem.fairness is not None and breaks and max(breaks.values()) - min(breaks.values()) > problem.fairness:
        errors.append(f"fairness: break counts range {min(breaks.values())}..{max(breaks.values())}")


def check_schedule(problem: Problem, result: Result) -> list[str]:
    """List every violation of the problem's rules by the result (empty list = valid).

    A result without a schedule (`infeasible`/`unknown`) is valid only if it lists no meetings.

    Args:
        problem: the problem that was solved.
        result: the solver's result.

    Returns:
        Human-readable violation messages.
    """
    if result.status in ("infeasible", "unknown"):
        return ["no-schedule status but meetings listed"] if result.meetings else []
    errors: list[str] = []
    per_participant = _check_meetings(problem, result, errors)
    _check_rooms(result, per_participant, errors)
    _check_breaks(problem, result, per_participant, errors)
    return errors
