"""The scheduler: every result passes the independent checker; optimality and infeasibility claims are
verified by brute force on tiny problems; locks, fairness, hints and the time limit are honoured."""

from __future__ import annotations

import functools
import itertools
import json
import time

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

from roadshow.scheduling import Meeting, Participant, Problem, Result, check_schedule, count_breaks, solve, solve_json
from roadshow.scheduling.bounder import CpSearch, stop_all
from roadshow.scheduling.instance import to_instance
from roadshow.scheduling.model import Cancelled, build_model, build_relaxed_model, build_window_model
from roadshow.scheduling.relax import Prober
from roadshow.scheduling.windows import participant_windows


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    slots = draw(st.integers(1, 5))
    morning = draw(st.one_of(st.none(), st.integers(1, slots - 1))) if slots > 1 else None
    n_people = draw(st.integers(2, 5))
    people = [
        Participant(id=f"p{i}", unavailable=draw(st.lists(st.integers(1, slots), max_size=2, unique=True)))
        for i in range(n_people)
    ]
    meetings = []
    for k in range(draw(st.integers(0, 6))):
        pair = draw(st.lists(st.integers(0, n_people - 1), min_size=2, max_size=2, unique=True))
        session = draw(st.sampled_from(["any", "am", "pm"])) if morning is not None else "any"
        meetings.append(Meeting(id=f"m{k}", participants=[f"p{i}" for i in pair], session=session))
    return Problem(
        slots=slots,
        morning_slots=morning,
        tables=draw(st.integers(1, 3)),
        fairness=draw(st.one_of(st.none(), st.integers(0, 2))),
        participants=people,
        meetings=meetings,
    )


def brute_force_optimum(problem: Problem) -> int | None:
    """The least total breaks over all valid schedules (None if there is none)."""
    morning = problem.morning_slots or problem.slots
    unavailable = {p.id: set(p.unavailable) for p in problem.participants}
    domains = []
    for m in problem.meetings:
        allowed = {"am": range(1, morning + 1), "pm": range(morning + 1, problem.slots + 1)}.get(
            m.session, range(1, problem.slots + 1)
        )
        domains.append([s for s in allowed if all(s not in unavailable[p] for p in m.participants)])
    best = None
    for combo in itertools.product(*domains):
        if any(combo.count(s) > problem.tables for s in set(combo)):
            continue
        busy: dict[str, list[int]] = {p.id: [] for p in problem.participants}
        for m, s in zip(problem.meetings, combo, strict=True):
            for p in m.participants:
                busy[p].append(s)
        if any(len(v) != len(set(v)) for v in busy.values()):
            continue
        breaks = [count_breaks(v) for v in busy.values()]
        if problem.fairness is not None and max(breaks) - min(breaks) > problem.fairness:
            continue
        if best is None or sum(breaks) < best:
            best = sum(breaks)
    return best


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_every_result_is_valid_and_claims_hold(problem: Problem) -> None:
    result = solve(problem, time_limit_s=3)
    assert check_schedule(problem, result) == []
    truth = brute_force_optimum(problem)
    if truth is None:
        assert result.status in ("infeasible", "unknown")
    else:
        assert result.status in ("optimal", "feasible") and result.breaks is not None
        assert result.lower_bound is not None and result.lower_bound <= truth <= result.breaks
        if result.status == "optimal":
            assert result.breaks == truth


def chain_problem(**extra: object) -> Problem:
    """Four participants in a ring of meetings; p1 cannot do slot 2."""
    people = [Participant(id="p1", unavailable=[2]), Participant(id="p2"), Participant(id="p3"), Participant(id="p4")]
    pairs = [("p1", "p2"), ("p2", "p3"), ("p3", "p4"), ("p4", "p1"), ("p1", "p3")]
    meetings = [Meeting(id=f"m{i}", participants=list(pair)) for i, pair in enumerate(pairs, 1)]
    fields: dict[str, object] = {"slots": 6, "tables": 2, "participants": people, "meetings": meetings}
    fields.update(extra)
    return msgspec.convert(fields, Problem, from_attributes=True)


def test_locked_meetings_keep_their_slot() -> None:
    problem = chain_problem()
    locked = msgspec.structs.replace(problem.meetings[0], slot=5)
    problem = msgspec.structs.replace(problem, meetings=[locked, *problem.meetings[1:]])
    result = solve(problem, time_limit_s=3)
    assert check_schedule(problem, result) == []
    assert next(m.slot for m in result.meetings if m.id == "m1") == 5


def test_fairness_is_respected_or_infeasibility_proved() -> None:
    # p1 meets p2 in slot 1 (locked) and p3 in slot 3 (locked): p1 has one break, so fairness 0 is impossible
    people = [Participant(id=p) for p in ("p1", "p2", "p3")]
    meetings = [
        Meeting(id="a", participants=["p1", "p2"], slot=1),
        Meeting(id="b", participants=["p1", "p3"], slot=3),
    ]
    strict = Problem(slots=3, tables=1, fairness=0, participants=people, meetings=meetings)
    assert solve(strict, time_limit_s=3).status == "infeasible"
    loose = msgspec.structs.replace(strict, fairness=1)
    result = solve(loose, time_limit_s=3)
    assert result.status == "optimal" and result.breaks == 1 and check_schedule(loose, result) == []


def test_time_limit_is_honoured_on_a_hard_problem() -> None:
    # 12 participants, everybody meets everybody: 66 meetings in 12 slots, 6 tables
    people = [Participant(id=f"p{i}") for i in range(12)]
    meetings = [
        Meeting(id=f"m{i}_{j}", participants=[f"p{i}", f"p{j}"]) for i, j in itertools.combinations(range(12), 2)
    ]
    problem = Problem(slots=12, tables=6, fairness=2, participants=people, meetings=meetings)
    for limit in (1.5, 0.6):  # the exact model is still being built or presolved at the short limit
        started = time.monotonic()
        result = solve(problem, time_limit_s=limit)
        assert time.monotonic() - started <= limit and result.solve_seconds <= limit
        assert check_schedule(problem, result) == []


def test_a_stopped_search_abandons_its_model_build() -> None:
    inst = to_instance(chain_problem(fairness=2))
    windows = participant_windows(inst)
    with pytest.raises(Cancelled):
        build_model(inst, windows, stop=lambda: True)
    search = CpSearch(
        functools.partial(build_model, inst, windows),
        workers=1,
        subsolvers=[],
        deadline=time.monotonic() + 30,
        proves_bound=True,
        name="test",
    )
    search.request_stop()  # before it starts: it never searches
    search.start()
    assert stop_all([search], time.monotonic() + 5)
    assert search.status == cp_model.UNKNOWN and search.best is None


def test_hint_keeps_a_published_schedule_that_is_already_optimal() -> None:
    problem = chain_problem(fairness=2)
    first = solve(problem, time_limit_s=3)
    assert first.status == "optimal"
    published = {m.id: m.slot for m in first.meetings}
    again = solve(problem, time_limit_s=3, hint=published, seed=7)
    assert again.breaks == first.breaks
    assert {m.id: m.slot for m in again.meetings} == published


def test_solve_json_round_trip() -> None:
    raw = json.dumps(
        {
            "slots": 4,
            "tables": 1,
            "fairness": 2,
            "participants": [{"id": "e1"}, {"id": "f1"}, {"id": "f2"}],
            "meetings": [{"id": "m1", "participants": ["e1", "f1"]}, {"id": "m2", "participants": ["e1", "f2"]}],
        }
    ).encode()
    result = msgspec.json.decode(solve_json(raw, time_limit_s=3), type=Result)
    assert result.status == "optimal" and result.breaks == 0 and len(result.meetings) == 2


def squeezed_problem() -> Problem:
    """p1 meets p2 and p3; one table and a locked p4-p5 meeting in slot 2 leave p1 only slots 1 and 3."""
    people = [Participant(id=f"p{i}") for i in range(1, 6)]
    meetings = [
        Meeting(id="a", participants=["p1", "p2"]),
        Meeting(id="b", participants=["p1", "p3"]),
        Meeting(id="c", participants=["p4", "p5"], slot=2),
    ]
    return Problem(slots=3, tables=1, fairness=2, participants=people, meetings=meetings)


def test_relaxed_window_model_gives_the_relaxed_participant_one_break() -> None:
    problem = squeezed_problem()
    inst = to_instance(problem)
    windows = participant_windows(inst)
    assert windows[0]  # p1 has windows on its own: only the table makes it break
    solver = cp_model.CpSolver()
    assert solver.solve(build_window_model(inst, windows).model) == cp_model.INFEASIBLE
    relaxed = build_relaxed_model(inst, windows, (0,))
    assert solver.solve(relaxed.model) == cp_model.OPTIMAL
    assert solver.objective_value == 1
    slots = [next(s for s, v in xs.items() if solver.boolean_value(v)) for xs in relaxed.x]
    assert sorted(slots[:2]) == [0, 2] and slots[2] == 1


def test_prober_finds_the_participant_that_must_break() -> None:
    problem = squeezed_problem()
    inst = to_instance(problem)
    prober = Prober(inst, participant_windows(inst), target=lambda: 1, deadline_s=5, evaluate=lambda s: (1, True))
    prober.start()
    prober.wait(6)
    assert prober.done()
    assert prober.best is not None and prober.best[0] == 1 and prober.probed == [((0,), "OPTIMAL")]
    assert not prober.exhausted
    result = solve(problem, time_limit_s=3)
    assert result.status == "optimal" and result.breaks == 1 and check_schedule(problem, result) == []


def test_prober_refutes_a_group_at_once_and_raises_the_bound() -> None:
    # p1 must meet p2..p4 in slots 1, 3 and 5 (locked p5-p6 meetings take slots 2 and 4 with one table): two
    # breaks, so no single relaxed participant (at most one break each) makes the window model feasible; p5 and
    # p6 (no window) break once each: optimum 4 = window bound 2 + 2
    people = [Participant(id=f"p{i}") for i in range(1, 7)]
    meetings = [Meeting(id=f"a{i}", participants=["p1", f"p{i}"]) for i in (2, 3, 4)]
    meetings += [Meeting(id=f"l{s}", participants=["p5", "p6"], slot=s) for s in (2, 4)]
    problem = Problem(slots=5, tables=1, fairness=2, participants=people, meetings=meetings)
    inst = to_instance(problem)
    windows = participant_windows(inst)
    prober = Prober(inst, windows, target=lambda: 1, deadline_s=5, evaluate=lambda s: (2, True))
    prober.start()
    prober.wait(6)
    assert prober.exhausted and prober.best is None
    result = solve(problem, time_limit_s=3)
    assert result.status == "optimal" and result.breaks == 4 and check_schedule(problem, result) == []
