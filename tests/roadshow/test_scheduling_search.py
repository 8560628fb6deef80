"""The annealer's incremental state: after any sequence of accepted moves it equals the state computed afresh."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import roadshow.scheduling.search as search_module
from roadshow.scheduling import Meeting, Participant, Problem
from roadshow.scheduling.initial import Infeasible, initial_schedule
from roadshow.scheduling.instance import Instance, to_instance
from roadshow.scheduling.search import Annealer, mask_breaks


@st.composite
def dense_problems(draw: st.DrawFn) -> Problem:
    """Crowded problems (few slots and tables, meetings of two or three) so that Kempe chains are long."""
    slots = draw(st.integers(3, 8))
    n_people = draw(st.integers(3, 8))
    people = [
        Participant(id=f"p{i}", unavailable=draw(st.lists(st.integers(1, slots), max_size=1, unique=True)))
        for i in range(n_people)
    ]
    meetings = []
    for k in range(draw(st.integers(2, 16))):
        size = draw(st.integers(2, 3))
        group = draw(st.lists(st.integers(0, n_people - 1), min_size=size, max_size=size, unique=True))
        meetings.append(Meeting(id=f"m{k}", participants=[f"p{i}" for i in group]))
    return Problem(
        slots=slots,
        tables=draw(st.integers(1, 4)),
        fairness=draw(st.one_of(st.none(), st.integers(0, 2))),
        participants=people,
        meetings=meetings,
    )


def assert_consistent(inst: Instance, a: Annealer) -> None:
    """Hard rules hold and every incremental field equals a fresh Annealer's on the same slots."""
    busy = set()
    for k, s in enumerate(a.slot):
        assert s in inst.domains[k]
        for p in inst.meetings[k]:
            assert (p, s) not in busy
            busy.add((p, s))
    assert max(a.load) <= inst.tables and sum(a.load) == len(inst.meetings)
    fresh = Annealer(inst, a.slot, fair_cap=a.fair_cap, hint=a.hint)
    assert (a.mask, a.at, a.load) == (fresh.mask, fresh.at, fresh.load)
    assert (a.cost, a.score(), a.brk) == (fresh.cost, fresh.score(), fresh.brk)
    assert a.total == sum(mask_breaks(m) for m in a.mask)


def random_moves(a: Annealer, steps: int, *, temp: float, after: Callable[[], None]) -> None:
    """Propose `steps` random moves, accept them as the annealer does at temperature `temp` (inf: every one), check
    that the cost moved by the proposed delta and call `after()` after each accepted move."""
    for _ in range(steps):
        if not a.free:
            return
        k = a.free[a.rng.randrange(len(a.free))]
        prop = a.propose_kempe(k) if a.rng.random() < 0.5 else a.propose_relocate(k)
        if prop is None:
            continue
        delta, cost = a._delta(*prop), a.cost
        if delta <= 0 or a.rng.random() < math.exp(-delta / temp):
            a._apply(*prop, delta)
            assert a.cost == cost + delta
            after()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=dense_problems(), seed=st.integers(0, 1000), hinted=st.booleans())
def test_moves_keep_the_incremental_state_exact(problem: Problem, seed: int, hinted: bool) -> None:
    inst = to_instance(problem)
    try:
        start = initial_schedule(inst, time_limit_s=5)
    except Infeasible:
        return
    if start is None:
        return
    hint = {k: (s + 1) % inst.n_slots for k, s in enumerate(start) if k % 3 == 0} if hinted else None
    a = Annealer(inst, start, fair_cap=problem.fairness, hint=hint, seed=seed)
    random_moves(a, 400, temp=3.0, after=lambda: assert_consistent(inst, a))
    assert_consistent(inst, a)


def test_a_full_cost_cache_starts_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_module, "MEMO_LIMIT", 3)
    people = [Participant(id=f"p{i}") for i in range(6)]
    meetings = [Meeting(id=f"m{i}{j}", participants=[f"p{i}", f"p{j}"]) for i in range(6) for j in range(i + 1, 6)]
    problem = Problem(slots=8, tables=3, participants=people, meetings=meetings)
    inst = to_instance(problem)
    start = initial_schedule(inst, time_limit_s=5)
    assert start is not None
    a = Annealer(inst, start, fair_cap=None, seed=1)

    def bounded() -> None:
        assert len(a._costs) <= 3

    random_moves(a, 300, temp=math.inf, after=bounded)
    assert_consistent(inst, a)
