"""B2B meeting scheduling for roadshows (ROADSHOW.md §4): a pure core, no I/O.

Usage::

    from roadshow.scheduling import decode_problem, validate, solve, check_schedule

    problem = decode_problem(body)          # strict JSON -> Problem (msgspec.ValidationError on bad types)
    result = solve(problem, time_limit_s=10) # validates (ProblemError naming the field), then solves
    assert check_schedule(problem, result) == []

or, in one call, `solve_json(body) -> bytes`. `solve(..., hint={"m1": 3, ...})` re-solves keeping a
previously published schedule where that costs no extra breaks. `load_dzn(path)` reads the public
benchmark instances.
"""

from roadshow.scheduling.checker import check_schedule, count_breaks
from roadshow.scheduling.contract import (
    Meeting,
    Participant,
    ParticipantBreaks,
    Problem,
    Result,
    ScheduledMeeting,
    decode_problem,
)
from roadshow.scheduling.dzn import load_dzn, read_dzn
from roadshow.scheduling.solver import solve, solve_json
from roadshow.scheduling.validate import ProblemError, validate

__all__ = [
    "Meeting",
    "Participant",
    "ParticipantBreaks",
    "Problem",
    "ProblemError",
    "Result",
    "ScheduledMeeting",
    "check_schedule",
    "count_breaks",
    "decode_problem",
    "load_dzn",
    "read_dzn",
    "solve",
    "solve_json",
    "validate",
]
