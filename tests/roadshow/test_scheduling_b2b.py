"""The public B2B instances (../shared/data/b2b): the reader, and a few representative solves.

All 20 originals and the variants run in bench/bench_scheduling.py; the suite keeps a fast sample.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from ortools.sat.python import cp_model

from roadshow.scheduling import (
    ParticipantBreaks,
    ProblemError,
    Result,
    ScheduledMeeting,
    check_schedule,
    count_breaks,
    load_dzn,
    solve,
)
from roadshow.scheduling.instance import to_instance
from roadshow.scheduling.model import build_window_model
from roadshow.scheduling.windows import participant_windows

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "b2b"

pytestmark = [pytest.mark.b2b, pytest.mark.skipif(not DATA.is_dir(), reason="public B2B instances not present")]


def test_reader_maps_the_format() -> None:
    problem = load_dzn(DATA / "forum-13.fixed020-Forb.dzn")
    assert (problem.slots, problem.morning_slots, problem.tables, problem.fairness) == (21, 13, 14, 2)
    assert len(problem.participants) == 70 and len(problem.meetings) == 154
    first = problem.meetings[0]
    assert first.id == "m1" and first.participants == ["p1", "p2"] and first.session == "am"
    assert sum(m.slot is not None for m in problem.meetings) == 30  # fixed 0 = free
    tic = load_dzn(DATA / "tic-12.original.dzn", fairness=None)
    assert tic.morning_slots is None and tic.fairness is None
    assert all(p.unavailable == [] for p in tic.participants)  # {0} = none


@pytest.mark.parametrize(
    ("name", "published"),
    # tic-12crafc and tic-14crafc are settled by the window search (the annealer alone stayed at 1-2 breaks)
    [("tic-12", 0), ("tic-13crafb", 0), ("forumt-14", 5), ("tic-12crafc", 0), ("tic-14crafc", 0)],
)
def test_originals_reach_the_published_optimum(name: str, published: int) -> None:
    problem = load_dzn(DATA / f"{name}.original.dzn", fairness=2)
    result = solve(problem, time_limit_s=10)
    assert check_schedule(problem, result) == []
    assert result.breaks is not None and result.breaks <= published
    assert result.lower_bound is not None and result.lower_bound <= result.breaks
    assert result.status == "optimal" and result.lower_bound == published  # proved, not just reached


def test_an_instance_whose_lock_contradicts_its_session_is_rejected() -> None:
    # meeting 96 is afternoon-only but fixed to slot 12, the last morning slot: no valid schedule exists
    with pytest.raises(ProblemError) as err:
        solve(load_dzn(DATA / "forum-13crafb.fixed040-Forb.dzn"), time_limit_s=3)
    assert err.value.field == "meetings[95].slot" and "outside session 'pm'" in err.value.message


@pytest.mark.parametrize("name", ["forum-13crafb.fixed020-Forb", "tic-14crafd.forb0007"])
def test_variants_get_a_valid_schedule_within_the_limit(name: str) -> None:
    problem = load_dzn(DATA / f"{name}.dzn", fairness=2)
    started = time.monotonic()
    result = solve(problem, time_limit_s=3)
    assert time.monotonic() - started <= 3 and result.solve_seconds <= 3
    assert result.status in ("optimal", "feasible", "infeasible")
    assert check_schedule(problem, result) == []


def test_window_model_schedules_are_valid_and_break_free() -> None:
    """The restricted window model alone: a valid schedule where everyone with a window meets back to back."""
    problem = load_dzn(DATA / "tic-12.original.dzn", fairness=2)
    inst = to_instance(problem)
    bm = build_window_model(inst, participant_windows(inst))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.linearization_level = 0
    solver.parameters.max_time_in_seconds = 10
    assert solver.solve(bm.model) == cp_model.OPTIMAL
    slots = [next(s for s, v in xs.items() if solver.boolean_value(v)) + 1 for xs in bm.x]
    tables: dict[int, int] = {}
    placed = []
    busy: dict[str, list[int]] = {p.id: [] for p in problem.participants}
    for meeting, slot in zip(problem.meetings, slots, strict=True):
        tables[slot] = tables.get(slot, 0) + 1
        placed.append(ScheduledMeeting(id=meeting.id, slot=slot, table=tables[slot]))
        for pid in meeting.participants:
            busy[pid].append(slot)
    breaks = [ParticipantBreaks(id=pid, breaks=count_breaks(v)) for pid, v in busy.items()]
    result = Result(status="feasible", breaks=0, lower_bound=0, solve_seconds=0.0, meetings=placed, participants=breaks)
    assert check_schedule(problem, result) == []
    assert round(solver.objective_value) == 0
