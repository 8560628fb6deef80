"""The SAT search at the lower bound (`satsearch.py`): its clauses count breaks exactly (checked against brute force
on tiny problems), UNSAT answers raise the bound soundly, and a SAT call is interrupted at the deadline."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from roadshow.scheduling import Meeting, Participant, Problem, load_dzn, satsearch
from roadshow.scheduling.instance import to_instance
from roadshow.scheduling.satsearch import SatSearch
from roadshow.scheduling.windows import participant_windows
from tests.roadshow.test_scheduling_solver import brute_force_optimum, problems, squeezed_problem

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "b2b"


def _run(problem: Problem, target: int = 0, seconds: float = 5.0) -> SatSearch:
    inst = to_instance(problem)
    search = SatSearch(inst, participant_windows(inst), target=lambda: target, deadline=time.monotonic() + seconds)
    search.start()
    search.wait(seconds + 1)
    assert search.done()
    return search


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_sat_search_from_zero_finds_the_brute_force_optimum(problem: Problem) -> None:
    inst = to_instance(problem)
    if any(not dom for dom in inst.domains):
        return
    search = _run(problem)
    optimum = brute_force_optimum(problem)
    if search.best is not None:  # any schedule it returns is counted right and valid (the cap is never looser)
        assert optimum is not None and search.best[0] >= optimum
        assert search.lower_bound <= search.best[0]
    if search.proves_bound:  # the cap equals the fairness rule: walking K up from 0 stops exactly at the optimum
        assert (search.best[0] if search.best else None) == optimum
        if optimum is not None:
            assert search.lower_bound == optimum


def test_sat_search_meets_the_bound_where_one_participant_must_break() -> None:
    search = _run(squeezed_problem(), target=1)
    assert search.best is not None and search.best[0] == 1 and search.lower_bound == 0


@pytest.mark.parametrize("span", [0, 8])
def test_sat_search_raises_the_bound_on_unsat(span: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # as in test_prober_refutes_a_group_at_once_and_raises_the_bound: optimum 4, window bound 2; with span 0 the
    # totalizer is extended at every step
    monkeypatch.setattr(satsearch, "TOTALIZER_SPAN", span)
    people = [Participant(id=f"p{i}") for i in range(1, 7)]
    meetings = [Meeting(id=f"a{i}", participants=["p1", f"p{i}"]) for i in (2, 3, 4)]
    meetings += [Meeting(id=f"l{s}", participants=["p5", "p6"], slot=s) for s in (2, 4)]
    search = _run(Problem(slots=5, tables=1, fairness=2, participants=people, meetings=meetings), target=2)
    assert search.best is not None and search.best[0] == 4 and search.lower_bound == 4


@pytest.mark.b2b
@pytest.mark.skipif(not DATA.is_dir(), reason="public B2B instances not present")
def test_sat_search_ends_at_its_deadline() -> None:
    # at ticf-13crafb's bound 3 the SAT call runs far longer than a second: the deadline interrupts it
    problem = load_dzn(DATA / "ticf-13crafb.original.dzn", fairness=2)
    inst = to_instance(problem)
    started = time.monotonic()
    search = SatSearch(inst, participant_windows(inst), target=lambda: 3, deadline=started + 1.5)
    search.start()
    search.wait(5)
    assert search.done() and time.monotonic() - started < 2.0
    assert search.best is None
