"""The hub model (a lower bound, checked against brute force) and the split model (valid schedules, exact counts)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from ortools.sat.python import cp_model

import roadshow.scheduling.solver as solver_module
from roadshow.scheduling import Meeting, Participant, Problem, check_schedule, solve
from roadshow.scheduling.bounder import CpSearch, stop_all
from roadshow.scheduling.checker import count_breaks
from roadshow.scheduling.initial import initial_schedule
from roadshow.scheduling.instance import to_instance
from roadshow.scheduling.model import BreakModel, Cancelled, build_model
from roadshow.scheduling.search import Annealer
from roadshow.scheduling.solver import _anneal
from roadshow.scheduling.split import build_split_model, hub_core
from roadshow.scheduling.windows import participant_windows, window_lower_bound
from tests.roadshow.test_scheduling_solver import brute_force_optimum, problems


def hub_problem() -> Problem:
    """Hubs h1 (three morning meetings, three morning slots) and h2 (the same in the afternoon) both meet a, b and c.

    a, b and c can each meet back to back only in slots 3 and 4 (h1 in 3, h2 in 4); two of them must break.
    """
    people = [Participant(id=p) for p in ("h1", "h2", "a", "b", "c")]
    meetings = [Meeting(id=f"{h}{p}", participants=[h, p], session=s) for h, s in (("h1", "am"), ("h2", "pm"))
                for p in ("a", "b", "c")]  # fmt: skip
    return Problem(slots=6, morning_slots=3, tables=3, fairness=2, participants=people, meetings=meetings)


def test_hub_model_finds_the_pigeonhole() -> None:
    problem = hub_problem()
    inst = to_instance(problem)
    found = hub_core(inst, participant_windows(inst), limit_s=5)
    index = {p.id: i for i, p in enumerate(problem.participants)}
    assert found.smallest == 2
    assert found.core == {index["a"], index["b"], index["c"]}
    assert brute_force_optimum(problem) == 2


def test_solver_uses_the_hub_bound_and_the_split_model() -> None:
    problem = hub_problem()
    result = solve(problem, time_limit_s=3)
    assert check_schedule(problem, result) == []
    assert result.status == "optimal" and result.breaks == 2 and result.lower_bound == 2


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_hub_bound_is_a_lower_bound(problem: Problem) -> None:
    inst = to_instance(problem)
    windows = participant_windows(inst)
    found = hub_core(inst, windows, limit_s=5)
    truth = brute_force_optimum(problem)
    if truth is not None and found.smallest:
        assert sum(window_lower_bound(inst, windows)) + found.smallest <= truth


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_split_model_schedules_are_valid_and_counted_exactly(problem: Problem) -> None:
    inst = to_instance(problem)
    if problem.morning_slots is None or any(not dom for dom in inst.domains):
        return  # the solver builds models only when every meeting has a slot
    windows = participant_windows(inst)
    bm = build_split_model(inst, windows, problem.morning_slots, range(inst.n_participants))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 5
    status = solver.solve(bm.model)
    truth = brute_force_optimum(problem)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return  # a restriction: it may have no schedule where the problem has one
    assert truth is not None and round(solver.objective_value) >= truth
    slots = [next(s for s, v in xs.items() if solver.boolean_value(v)) for xs in bm.x]
    busy: list[list[int]] = [[] for _ in range(inst.n_participants)]
    for k, s in enumerate(slots):
        assert s in inst.domains[k]
        for p in inst.meetings[k]:
            busy[p].append(s)
    assert all(len(b) == len(set(b)) for b in busy)
    assert all(slots.count(s) <= inst.tables for s in set(slots))
    breaks = [count_breaks(b) for b in busy]
    assert sum(breaks) == round(solver.objective_value)
    if problem.fairness is not None:
        assert max(breaks) - min(breaks) <= problem.fairness


def test_a_split_day_has_a_gap_at_noon() -> None:
    # a can meet only in slots 2 (morning) and 3 (afternoon): its only "split" would be two adjacent runs, no break
    people = [Participant(id="a", unavailable=[1, 4]), Participant(id="b"), Participant(id="c")]
    meetings = [
        Meeting(id="ab", participants=["a", "b"], session="am"),
        Meeting(id="ac", participants=["a", "c"], session="pm"),
    ]
    problem = Problem(slots=4, morning_slots=2, tables=1, fairness=2, participants=people, meetings=meetings)
    inst = to_instance(problem)
    bm = build_split_model(inst, participant_windows(inst), 2, [0])
    bm.model.add(bm.breaks[0] == 1)  # a splits
    solver = cp_model.CpSolver()
    assert solver.solve(bm.model) == cp_model.INFEASIBLE


def test_capped_split_search_drops_an_infeasible_cap() -> None:
    # two of a, b, c must break: the cap 1 is proved infeasible, the search goes on without it and finds the optimum
    problem = hub_problem()
    inst = to_instance(problem)
    windows = participant_windows(inst)
    allow = set(range(inst.n_participants))
    caps: list[int | None] = []

    def build(*, stop: Callable[[], bool], cap: int | None = None) -> BreakModel:
        caps.append(cap)
        return build_split_model(inst, windows, 3, allow, cap=cap)

    search = CpSearch(
        build, workers=1, subsolvers=[], deadline=time.monotonic() + 10, proves_bound=False, cap=1, name="t"
    )
    search.start()
    search.wait(10)
    assert search.done() and caps == [1, None]
    assert search.status == cp_model.OPTIMAL and search.best is not None and search.best[0] == 2


def test_capped_search_of_an_infeasible_model_ends() -> None:
    # the split model of this problem has no schedule at all: the capped search ends INFEASIBLE after the uncapped
    # attempt instead of refuting cap after cap until its deadline
    problem = hub_problem()
    inst = to_instance(problem)
    windows = participant_windows(inst)

    def build(*, stop: Callable[[], bool], cap: int | None = None) -> BreakModel:
        return build_split_model(inst, windows, 3, (), cap=cap)  # nobody may split: the pigeonhole has no answer

    started = time.monotonic()
    search = CpSearch(build, workers=1, subsolvers=[], deadline=started + 10, proves_bound=False, cap=0, name="t")
    search.start()
    search.wait(10)
    assert search.done() and search.status == cp_model.INFEASIBLE and search.best is None
    assert time.monotonic() - started < 5


def test_cap_keeps_the_split_model_optimum() -> None:
    problem = hub_problem()
    inst = to_instance(problem)
    windows = participant_windows(inst)
    values = []
    for cap in (None, 2, 5):
        bm = build_split_model(inst, windows, 3, range(inst.n_participants), cap=cap)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        assert solver.solve(bm.model) == cp_model.OPTIMAL
        values.append(round(solver.objective_value))
    assert values == [2, 2, 2]
    bm = build_split_model(inst, windows, 3, range(inst.n_participants), cap=1)
    assert cp_model.CpSolver().solve(bm.model) == cp_model.INFEASIBLE


def _stuck_search(deadline: float) -> CpSearch:
    """A search that finds nothing until it is stopped (a restricted model with no schedule and no quick proof)."""

    def build(*, stop: Callable[[], bool]) -> BreakModel:
        while not stop() and time.monotonic() < deadline:
            time.sleep(0.01)
        raise Cancelled

    return CpSearch(build, workers=1, subsolvers=[], deadline=deadline, proves_bound=False, name="stuck")


def test_annealer_runs_when_the_split_searches_find_nothing() -> None:
    problem = hub_problem()
    inst = to_instance(problem)
    windows = participant_windows(inst)
    start = initial_schedule(inst, time_limit_s=5)
    assert start is not None
    found = []
    for fallback in (0.3, None):
        deadline = time.monotonic() + 1.0
        stuck = _stuck_search(deadline)
        stuck.start()
        bounder = CpSearch(
            functools.partial(build_model, inst, windows), workers=1, subsolvers=[], deadline=deadline,
            proves_bound=True, name="bounder",
        )  # fmt: skip
        annealer = Annealer(inst, start, fair_cap=problem.fairness)
        best = _anneal(
            annealer, start, bounder, [stuck], deadline, 0, {}, waits=[stuck],
            fallback_at=time.monotonic() + fallback if fallback is not None else float("inf"),
        )  # fmt: skip
        stop_all([stuck, bounder], time.monotonic() + 2)
        found.append(best.slots)
    with_fallback, without = found
    assert with_fallback is not None and without is None


def test_a_window_search_still_running_is_retired_and_the_annealer_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(solver_module, "ROUND_S", 0.1)
    problem = hub_problem()  # two breaks at best: with a bound of 0 the annealer anneals until the deadline
    inst = to_instance(problem)
    start = initial_schedule(inst, time_limit_s=5)
    assert start is not None
    t0 = time.monotonic()
    seen: list[float] = []

    def build(*, stop: Callable[[], bool]) -> BreakModel:
        while not stop() and time.monotonic() < t0 + 10:
            time.sleep(0.01)
        seen.append(time.monotonic() - t0)
        raise Cancelled

    window = CpSearch(build, workers=1, subsolvers=[], deadline=t0 + 10, proves_bound=False, name="windows0")
    window.start()
    bounder = _stuck_search(t0 + 1.5)  # proves nothing, so only the deadline ends the solve
    best = _anneal(
        Annealer(inst, start, fair_cap=problem.fairness), start, bounder, [bounder, window], t0 + 1.5, 0, {},
        retire=[window], retire_at=t0 + 0.3,
    )  # fmt: skip
    stop_all([window, bounder], time.monotonic() + 2)
    assert seen and 0.3 <= seen[0] < 0.8  # stopped at the first round after retire_at, not at the deadline
    assert time.monotonic() - t0 >= 1.5 - 0.05  # the annealer went on to the deadline
    assert best.breaks == 2
