"""Cross-field validation of a decoded Problem.

msgspec checks each field alone (types, ranges, id patterns); `validate` checks what needs the whole
problem and raises `ProblemError(field, message)` naming the JSON path, e.g.
`meetings[3].participants[1]: unknown participant 'p9'`, so an HTTP shell can answer 422.
"""

from __future__ import annotations

from collections import Counter

from roadshow.scheduling.contract import Meeting, Problem


class ProblemError(ValueError):
    """A malformed problem: `field` is the JSON path of the offending value."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def session_slots(problem: Problem, session: str) -> range:
    """The 1-based slots a meeting of the given session may use."""
    morning = problem.morning_slots if problem.morning_slots is not None else problem.slots
    if session == "am":
        return range(1, morning + 1)
    if session == "pm":
        return range(morning + 1, problem.slots + 1)
    return range(1, problem.slots + 1)


def _check_day(problem: Problem) -> None:
    if problem.morning_slots is not None and problem.morning_slots > problem.slots:
        raise ProblemError("morning_slots", f"{problem.morning_slots} exceeds slots ({problem.slots})")


def _check_participants(problem: Problem) -> dict[str, frozenset[int]]:
    unavailable: dict[str, frozenset[int]] = {}
    for i, part in enumerate(problem.participants):
        if part.id in unavailable:
            raise ProblemError(f"participants[{i}].id", f"duplicate participant id '{part.id}'")
        for j, slot in enumerate(part.unavailable):
            if slot > problem.slots:
                raise ProblemError(
                    f"participants[{i}].unavailable[{j}]", f"slot {slot} out of range 1..{problem.slots}"
                )
        unavailable[part.id] = frozenset(part.unavailable)
    return unavailable


def _check_meeting(problem: Problem, i: int, meeting: Meeting, unavailable: dict[str, frozenset[int]]) -> None:
    path = f"meetings[{i}]"
    seen: set[str] = set()
    for j, pid in enumerate(meeting.participants):
        if pid not in unavailable:
            raise ProblemError(f"{path}.participants[{j}]", f"unknown participant '{pid}'")
        if pid in seen:
            raise ProblemError(f"{path}.participants[{j}]", f"participant '{pid}' appears twice in the meeting")
        seen.add(pid)
    if meeting.session != "any" and problem.morning_slots is None:
        raise ProblemError(f"{path}.session", f"session '{meeting.session}' needs morning_slots to split the day")
    allowed = session_slots(problem, meeting.session)
    if not allowed:
        raise ProblemError(f"{path}.session", f"session '{meeting.session}' has no slots")
    if meeting.slot is None:
        return
    if meeting.slot > problem.slots:
        raise ProblemError(f"{path}.slot", f"slot {meeting.slot} out of range 1..{problem.slots}")
    if meeting.slot not in allowed:
        raise ProblemError(f"{path}.slot", f"locked slot {meeting.slot} is outside session '{meeting.session}'")
    for pid in meeting.participants:
        if meeting.slot in unavailable[pid]:
            raise ProblemError(f"{path}.slot", f"participant '{pid}' is unavailable in locked slot {meeting.slot}")


def _check_locked(problem: Problem) -> None:
    per_slot: Counter[int] = Counter()
    busy: dict[tuple[str, int], str] = {}
    for i, meeting in enumerate(problem.meetings):
        if meeting.slot is None:
            continue
        per_slot[meeting.slot] += 1
        if per_slot[meeting.slot] > problem.tables:
            raise ProblemError(
                f"meetings[{i}].slot", f"more than {problem.tables} locked meetings (tables) in slot {meeting.slot}"
            )
        for pid in meeting.participants:
            other = busy.setdefault((pid, meeting.slot), meeting.id)
            if other != meeting.id:
                raise ProblemError(
                    f"meetings[{i}].slot",
                    f"participant '{pid}' has locked meetings '{other}' and '{meeting.id}' in slot {meeting.slot}",
                )


def validate(problem: Problem) -> None:
    """Reject a malformed problem.

    Args:
        problem: a Problem decoded strictly from JSON (or built in code).

    Raises:
        ProblemError: naming the offending field path and what is wrong with it.
    """
    _check_day(problem)
    unavailable = _check_participants(problem)
    meeting_ids: set[str] = set()
    for i, meeting in enumerate(problem.meetings):
        if meeting.id in meeting_ids:
            raise ProblemError(f"meetings[{i}].id", f"duplicate meeting id '{meeting.id}'")
        meeting_ids.add(meeting.id)
        _check_meeting(problem, i, meeting, unavailable)
    _check_locked(problem)
