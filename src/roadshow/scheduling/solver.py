"""`solve(problem)`: the B2B meeting scheduler (ROADSHOW.md §4).

Pipeline: validate -> index form -> per-participant windows (a cheap lower bound) -> a hard-feasible
first schedule (small CP-SAT model) -> phase 1: the restricted window model (everyone who can meet back to
back does) searched by CP-SAT in two threads, which settles most instances -> phase 2: simulated annealing
in this thread, in rounds restarted from the best schedule, while the exact CP-SAT model runs in a
background thread proving lower bounds (and sometimes finding or proving the optimum) and a window search
continues; when phase 1 proved the window model infeasible, relaxation probes (`relax.py`) and a SAT search
for a schedule at the lower bound (`satsearch.py`) run first in place of the exact model, and when the hub
model (`split.py`) shows that two or more participants must break, the split model is searched instead of the
probes (this thread waits meanwhile). Stops at the time limit, or as soon as the best schedule meets the proven
lower bound. Tables are numbered per slot at the end (tables are identical).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping, Sequence
from typing import Protocol

import msgspec
from ortools.sat.python import cp_model

from roadshow.scheduling.bounder import CpSearch, stop_all
from roadshow.scheduling.contract import ParticipantBreaks, Problem, Result, ScheduledMeeting, decode_problem
from roadshow.scheduling.initial import Infeasible, initial_schedule
from roadshow.scheduling.instance import Instance, to_instance
from roadshow.scheduling.model import Cancelled, build_model, build_window_model
from roadshow.scheduling.relax import Prober
from roadshow.scheduling.satsearch import SatSearch
from roadshow.scheduling.search import Annealer, mask_breaks
from roadshow.scheduling.split import HUB_LIMIT_S, HubCore, build_split_model, hub_core
from roadshow.scheduling.validate import validate
from roadshow.scheduling.windows import participant_windows, window_lower_bound

DEFAULT_TIME_LIMIT_S = 10.0
# the searches are told to stop STOP_MARGIN_S before the limit (CP-SAT needs a moment to wind its workers down,
# more on a loaded machine); the result is encoded from what they found by RETURN_MARGIN_S before the limit,
# whether or not every background thread has ended by then (each has been told to stop and has the search
# deadline as its own time limit). Both are capped at a share of short limits.
STOP_MARGIN_S = 0.3
RETURN_MARGIN_S = 0.1
ROUND_S = 2.5
# the SAT search (outside the split path) ends this much before the others: Glucose notices its interrupt only at a
# restart, which came up to 1.3 s after it (`satsearch.INTERRUPT_LEAD_S` = 1 s before its deadline) on tic-13crafc in
# 2 of 5 solves, and the thread then ran on after solve() had returned
SAT_EARLY_S = 0.5
WINDOW_PHASE = 0.4  # share of the time limit the window search runs before the annealer starts
# when the split model is searched, the SAT search runs beside it only until this share of the time limit (it is
# interrupted `satsearch.INTERRUPT_LEAD_S` earlier); then a second split search with another seed (one worker, the
# same cap) takes its core
SPLIT_SAT_PHASE = 0.5
# the split searches are capped at "total breaks <= lower bound + SPLIT_CAP_ABOVE" (dropped when the capped model
# is proved infeasible). With the cap the searches reach the crafb optima (one above the hub bound) with every
# seed tried (0-7, solve() at load 1.4-1.7); uncapped, the objective search often stalls 1-4 breaks above them. A cap
# only cuts schedules worse than itself, so a capped search ending OPTIMAL has the split model's optimum
SPLIT_CAP_ABOVE = 1
# share of the limit after which a window search still running is stopped (at the next annealing round): on the public
# instances it settles by then or not at all (forumt-14crafe: neither solved nor refuted in 12 s), and the annealer then
# has its core
WINDOW_RETIRE = 0.6
SPLIT_FALLBACK = 0.8  # share of the limit after which the annealer runs beside split searches that found nothing


def _fair_cap(inst: Instance) -> int | None:
    """The per-participant break cap the annealer enforces for the fairness rule.

    A participant with at most one meeting always has 0 breaks, so max - min <= d becomes max <= d. When
    every participant has two or more meetings we still enforce max <= d: stricter, never invalid.
    """
    return inst.fairness


def _breaks_of(inst: Instance, slots: list[int]) -> list[int]:
    masks = [0] * inst.n_participants
    for k, s in enumerate(slots):
        for p in inst.meetings[k]:
            masks[p] |= 1 << s
    return [mask_breaks(m) for m in masks]


def _fair(inst: Instance, breaks: list[int]) -> bool:
    return inst.fairness is None or not breaks or max(breaks) - min(breaks) <= inst.fairness


def _evaluate(inst: Instance, slots: list[int]) -> tuple[int, bool]:
    breaks = _breaks_of(inst, slots)
    return sum(breaks), _fair(inst, breaks)


def _result(
    problem: Problem, inst: Instance, slots: list[int] | None, lower_bound: int | None, started: float, proved: bool
) -> Result:
    elapsed = round(time.monotonic() - started, 3)
    if slots is None:
        return Result(
            status="infeasible" if proved else "unknown",
            breaks=None,
            lower_bound=None if proved else lower_bound,
            solve_seconds=elapsed,
        )
    breaks = _breaks_of(inst, slots)
    total = sum(breaks)
    lb = min(lower_bound or 0, total)
    next_table = [0] * inst.n_slots
    placed = []
    for meeting, s in zip(problem.meetings, slots, strict=True):
        next_table[s] += 1
        placed.append(ScheduledMeeting(id=meeting.id, slot=s + 1, table=next_table[s]))
    return Result(
        status="optimal" if lb == total else "feasible",
        breaks=total,
        lower_bound=lb,
        solve_seconds=elapsed,
        meetings=placed,
        participants=[ParticipantBreaks(id=p.id, breaks=b) for p, b in zip(problem.participants, breaks, strict=True)],
    )


class _Best:
    """The best valid (fair) schedule seen so far, by (breaks, hinted meetings moved)."""

    def __init__(self) -> None:
        self.key: tuple[int, int] | None = None
        self.slots: list[int] | None = None

    def offer(self, key: tuple[int, int], slots: list[int]) -> None:
        if self.key is None or key < self.key:
            self.key, self.slots = key, list(slots)

    @property
    def breaks(self) -> int | None:
        return None if self.key is None else self.key[0]


class _Source(Protocol):
    @property
    def best(self) -> tuple[int, list[int]] | None: ...


def _hub_core(inst: Instance, windows: list[list[int]], deadline: float) -> HubCore:
    """The hub model's result (nothing when it is stopped at the deadline)."""
    try:
        return hub_core(
            inst,
            windows,
            limit_s=min(HUB_LIMIT_S, max(deadline - time.monotonic(), 0.0)),
            stop=lambda: time.monotonic() >= deadline,
        )
    except Cancelled:
        return HubCore(set(), set(), 0)


def _bound(floor: int, bounder: CpSearch) -> int:
    return max(floor, bounder.lower_bound)


def _found_optimum(bounder: CpSearch, searches: Sequence[_Source], lb: int, hint: Mapping[int, int]) -> bool:
    """Whether a search holds a schedule meeting the proven bound (and keeping every hinted slot)."""
    bound = max(lb, bounder.lower_bound)
    for search in searches:
        found = search.best
        if found is not None and found[0] <= bound and all(found[1][k] == s for k, s in hint.items()):
            return True
    return False


def _collect(best: _Best, searches: Sequence[_Source], hint: Mapping[int, int]) -> None:
    for search in searches:
        found = search.best
        if found is not None:
            best.offer((found[0], sum(1 for k, s in hint.items() if found[1][k] != s)), found[1])


def _anneal(
    annealer: Annealer,
    start: list[int],
    bounder: CpSearch,
    searches: Sequence[_Source],
    deadline: float,
    lb: int,
    hint: Mapping[int, int],
    *,
    waits: Sequence[CpSearch] = (),
    sat: SatSearch | None = None,
    relay: CpSearch | None = None,
    fallback_at: float = float("inf"),
    retire: Sequence[CpSearch] = (),
    retire_at: float = float("inf"),
) -> _Best:
    """Anneal in rounds from the best schedule of all searches until the deadline or an optimal schedule.

    While a search in `waits` runs, this thread does not anneal (it polls for an optimum), so that search has the
    core; the bounder starts when probing and the searches in `waits` have ended. `relay` (a second split search)
    starts when `sat` has ended, unless every search in `waits` has already ended with its model solved to
    optimality (then another seed would find the same); meanwhile it counts as running. The SAT search's proven
    bound ends the solve as soon as a schedule meets it. The searches in `retire` are told to stop at `retire_at`
    (between two annealing rounds, so up to `ROUND_S` later).
    """
    inst = annealer.inst
    best = _Best()
    restart = start
    while True:
        settled = all(w.done() and w.status in (cp_model.OPTIMAL, cp_model.INFEASIBLE) for w in waits)
        pending = relay is not None and not relay.started and not settled
        if pending and relay is not None and (sat is None or sat.done()) and time.monotonic() < deadline:
            relay.start()
            pending = False
        gates: list[CpSearch | Prober] = [*waits, *(s for s in searches if isinstance(s, Prober))]
        if relay is not None and relay.started:
            gates.append(relay)
        if not bounder.started and not pending and all(g.done() for g in gates):
            bounder.start()
        lb = max(lb, bounder.lower_bound)
        if sat is not None and sat.proves_bound:
            lb = max(lb, sat.lower_bound)
        _collect(best, searches, hint)
        if retire and time.monotonic() >= retire_at:
            retire = [r for r in retire if not r.done()]
            for search in retire:
                search.request_stop()  # repeated until it has ended (see CpSearch.request_stop)
        done = best.breaks is not None and best.breaks <= lb and not (hint and best.key and best.key[1])
        now = time.monotonic()
        if done or now >= deadline or (bounder.done() and bounder.status in (cp_model.OPTIMAL, cp_model.INFEASIBLE)):
            return best
        # the searches in `waits` keep the core while they run, unless none of them has found a schedule by
        # `fallback_at`: then the annealer runs beside them (else a split search stuck on a restricted model that has
        # no schedule, or no proof of that, would leave the solve without one)
        waiting = best.slots is not None or now < fallback_at
        running: list[CpSearch | SatSearch] = [w for w in waits if not w.done()]
        if relay is not None and relay.started and not relay.done():
            running.append(relay)
        if pending and sat is not None:
            running.append(sat)
        if running and waiting:
            running[0].wait(min(0.05, deadline - now))
            continue
        annealer.reset(best.slots if best.slots is not None else restart)
        (over, total, moved), slots = annealer.run(
            min(deadline, now + ROUND_S),
            lower_bound=functools.partial(_bound, lb, bounder),
            stop=functools.partial(_found_optimum, bounder, searches, lb, hint),
        )
        if over == 0 and _fair(inst, _breaks_of(inst, slots)):
            best.offer((total, moved), slots)
        restart = slots


def solve(
    problem: Problem,
    *,
    time_limit_s: float | None = None,
    workers: int = 2,
    hint: Mapping[str, int] | None = None,
    seed: int = 0,
    probe: bool = True,
) -> Result:
    """Schedule the meetings of a problem, minimising total breaks under the hard and fairness rules.

    Args:
        problem: the problem (validated here).
        time_limit_s: overrides `problem.time_limit_s`; default 10 s. The call returns within it: the searches
            are told to stop `STOP_MARGIN_S` before it and the result is encoded `RETURN_MARGIN_S` before it.
        workers: cores to use: up to two window searches in phase 1, then `workers - 1` CP-SAT workers for
            the exact model beside the annealer (the calling thread) and one window search.
        hint: meeting id -> slot of a previous (published) schedule; the re-solve keeps meetings there
            where that costs no extra breaks. Unknown ids and slots outside a meeting's domain are ignored.
        seed: random seed of the annealer.
        probe: when the window model is proved infeasible, probe relaxations of it (`relax.Prober`, `workers - 1`
            threads beside the annealer; the exact model starts when probing ends) and run the SAT search at the
            lower bound (`satsearch.SatSearch`, one thread); when the hub model (`split.hub_core`) proves that two or
            more participants with a window must break, search the split model (`split.build_split_model`, one
            thread, the annealer paused) instead of probing.

    Returns:
        The best schedule found, the proven lower bound and the status.

    Raises:
        ProblemError: the problem is malformed (names the field).
    """
    started = time.monotonic()
    validate(problem)
    limit = time_limit_s if time_limit_s is not None else problem.time_limit_s or DEFAULT_TIME_LIMIT_S
    deadline = started + limit - min(STOP_MARGIN_S, 0.1 * limit)
    cutoff = started + limit - min(RETURN_MARGIN_S, 0.05 * limit)
    inst = to_instance(problem)
    if any(not dom for dom in inst.domains):
        return _result(problem, inst, None, None, started, proved=True)
    windows = participant_windows(inst)
    window_floor = lb = sum(window_lower_bound(inst, windows))
    index = {m.id: k for k, m in enumerate(problem.meetings)}
    hint_idx = {
        index[mid]: s - 1 for mid, s in (hint or {}).items() if mid in index and s - 1 in inst.domains[index[mid]]
    }
    try:
        start = initial_schedule(inst, time_limit_s=max(deadline - time.monotonic(), 0.01), hint=hint_idx)
    except Infeasible:
        return _result(problem, inst, None, None, started, proved=True)
    if start is None:
        return _result(problem, inst, None, lb, started, proved=False)
    # phase 1: two window searches (different seeds: their run times vary) get the cores to themselves; they
    # settle most instances within seconds, and the annealer (a Python thread) would only slow them down
    window_searches = [
        CpSearch(
            functools.partial(build_window_model, inst, windows),
            workers=1,
            subsolvers=[],
            deadline=deadline,
            proves_bound=False,
            linearization_level=0,
            seed=seed + i,
            name=f"windows{i}",
        )
        for i in range(max(1, min(2, workers)))
    ]
    for search in window_searches:
        search.start()
    phase_end = min(deadline, started + WINDOW_PHASE * limit)
    while time.monotonic() < phase_end and not any(s.done() for s in window_searches):
        window_searches[0].wait(min(0.05, phase_end - time.monotonic()))
    # a second window search still building its model abandons it; one still searching stops within milliseconds
    stop_all(window_searches[1:], min(cutoff, time.monotonic() + 0.05))
    if any(s.status == cp_model.INFEASIBLE for s in window_searches):
        lb = max(lb, window_floor + 1)  # some participant that has a window must break
    if _found_optimum(window_searches[0], window_searches, lb, hint_idx):
        stop_all(window_searches, cutoff)
        best = _Best()
        _collect(best, window_searches, hint_idx)
        return _result(problem, inst, best.slots, lb, started, proved=False)
    # phase 2: the exact model (bounds) and the annealer join the window search if it is still running
    bounder = CpSearch(
        functools.partial(build_model, inst, windows),
        workers=max(1, workers - 1),
        subsolvers=["core", "default_lp"][: max(1, workers - 1)],
        deadline=deadline,
        proves_bound=True,
        name="bounder",
    )
    annealer = Annealer(inst, start, fair_cap=_fair_cap(inst), hint=hint_idx, seed=seed)
    searches: list[CpSearch | Prober | SatSearch] = [bounder, *window_searches]
    sat: SatSearch | None = None
    split: CpSearch | None = None
    relay: CpSearch | None = None
    if probe and any(s.status == cp_model.INFEASIBLE for s in window_searches) and not hint_idx:
        # someone with a window must break. The hub model tells whether two or more must (then no single
        # relaxation works, and the split model searches instead of the probes); a SAT solver asks for a schedule
        # with breaks at the bound (raising the bound on each UNSAT answer), and the probes look for which single
        # participant's break makes the window model feasible (two window tasks for it)
        hubs = _hub_core(inst, windows, deadline)
        if hubs.smallest >= 2:
            lb = max(lb, window_floor + hubs.smallest)
        splitting = hubs.smallest >= 2 and problem.morning_slots is not None
        sat = SatSearch(
            inst,
            windows,
            target=functools.partial(_bound, lb, bounder),
            deadline=(
                min(deadline, started + SPLIT_SAT_PHASE * limit)
                if splitting
                else deadline - min(SAT_EARLY_S, 0.05 * limit)
            ),
        )
        searches.append(sat)
        if splitting and problem.morning_slots is not None:
            split, relay = (
                CpSearch(
                    functools.partial(build_split_model, inst, windows, problem.morning_slots, hubs.hubs | hubs.core),
                    workers=1,
                    subsolvers=[],
                    deadline=deadline,
                    proves_bound=False,
                    linearization_level=0,
                    seed=seed + i,
                    cap=lb + SPLIT_CAP_ABOVE,
                    name=f"split{i}",
                )
                for i in range(2)
            )
            searches.append(split)
        elif hubs.smallest < 2:
            searches.append(
                Prober(
                    inst,
                    windows,
                    target=functools.partial(_bound, lb, bounder),
                    deadline_s=max(deadline - time.monotonic(), 0.01),
                    evaluate=functools.partial(_evaluate, inst),
                    threads=max(1, workers - 1),
                    seed=seed,
                )
            )
    try:
        for source in searches[len(window_searches) + 1 :]:
            source.start()
        if relay is not None:
            searches.append(relay)  # started by `_anneal` when the SAT search ends
        if not any(isinstance(s, Prober) for s in searches) and split is None:
            bounder.start()  # else when probing or the split search ends
        best = _anneal(
            annealer,
            start,
            bounder,
            searches,
            deadline,
            lb,
            hint_idx,
            waits=[split] if split else [],
            sat=sat,
            relay=relay,
            fallback_at=started + SPLIT_FALLBACK * limit,
            retire=window_searches,
            retire_at=started + WINDOW_RETIRE * limit,
        )
    finally:
        stop_all(searches, cutoff)
    _collect(best, searches, hint_idx)
    if bounder.status == cp_model.INFEASIBLE and best.slots is None:
        return _result(problem, inst, None, None, started, proved=True)
    lb = max(lb, bounder.lower_bound)
    if any(s.status == cp_model.INFEASIBLE for s in window_searches):
        lb = max(lb, window_floor + 1)
    if sat is not None and sat.proves_bound:
        lb = max(lb, sat.lower_bound)
    if any(isinstance(s, Prober) and s.exhausted for s in searches):
        lb = max(lb, window_floor + 2)  # nobody with a window can be the only one to break
    return _result(problem, inst, best.slots, lb, started, proved=False)


def solve_json(data: bytes, *, time_limit_s: float | None = None) -> bytes:
    """Decode a Problem strictly from JSON, validate and solve it, and encode the Result as JSON.

    Raises:
        msgspec.ValidationError: wrong types or field constraints (message names the path).
        msgspec.DecodeError: not JSON.
        ProblemError: a cross-field rule is broken (names the field).
    """
    problem = decode_problem(data)
    return msgspec.json.encode(solve(problem, time_limit_s=time_limit_s))
