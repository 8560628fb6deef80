"""The public B2B instances (../shared/data/b2b): the reader, and a few representative solves.

All 20 originals and the variants run in bench/bench_scheduling.py; the suite keeps a fast sample.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from roadshow.scheduling import ProblemError, check_schedule, load_dzn, solve

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
    [("tic-12", 0), ("tic-13crafb", 0), ("forumt-14", 5)],
)
def test_originals_reach_the_published_optimum(name: str, published: int) -> None:
    problem = load_dzn(DATA / f"{name}.original.dzn", fairness=2)
    result = solve(problem, time_limit_s=10)
    assert check_schedule(problem, result) == []
    assert result.breaks is not None and result.breaks <= published
    assert result.lower_bound is not None and result.lower_bound <= result.breaks


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
    assert time.monotonic() - started < 3 + 1.5  # the limit plus model building and encoding
    assert result.status in ("optimal", "feasible", "infeasible")
    assert check_schedule(problem, result) == []
