"""The CP-SAT model of B2B scheduling.

Variables: x[k][s] (meeting k in slot s), busy[p][s] (participant p meets in s), hb/ha (p has a meeting
at or before / at or after s) and bk[p][s] (a break of p starts at s: busy at s-1, idle at s, busy
later). breaks_p = sum_s bk[p][s], exactly. The hb/ha chains make convexity propagate: once p is busy at
s1 and s2, every idle slot between them is a break.

The strong part is the window encoding: c_p says "p has no break"; then exactly one feasible window
y[p][a] (see `windows.py`) is chosen and p is busy exactly on it. Core-based search assumes c_p and
learns which participants must break, which is what makes lower bounds come fast.

Two redundant constraints on the chosen windows make both models much tighter: each window is a task of
length n_p on a cumulative resource of capacity 2 x tables (a one-to-one meeting occupies two participants), and
the windows of two participants who meet must overlap.

`build_window_model` is the restricted model the solver searches for schedules: every participant that has
a feasible window must use one (no break); only participants without a window may break. Its optimum can
exceed the true one, but when it meets the lower bound the schedule is optimal, and on the public instances
it finds zero-break schedules that neither the annealer nor the exact model finds in time.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection
from dataclasses import dataclass

from ortools.sat.python import cp_model

from roadshow.scheduling.instance import Instance

Expr = cp_model.LinearExprT


@dataclass
class BreakModel:
    """A built CP-SAT model and the handles needed to hint it and read a schedule back."""

    model: cp_model.CpModel
    x: list[dict[int, cp_model.IntVar]]
    breaks: list[Expr]
    total: Expr
    relaxed: tuple[int, ...] = ()


class Cancelled(Exception):
    """A model build was abandoned because its search was stopped (see the builders' `stop` argument)."""


def _check(stop: Callable[[], bool] | None) -> None:
    if stop is not None and stop():
        raise Cancelled


# a participant's window as a task: start variable, length, presence literal (None: always present)
Task = tuple[cp_model.IntVar, int, cp_model.IntVar | None]


def _slot_vars(model: cp_model.CpModel, inst: Instance) -> list[dict[int, cp_model.IntVar]]:
    x = []
    for k, dom in enumerate(inst.domains):
        vars_k = {s: model.new_bool_var(f"x{k}_{s}") for s in dom}
        model.add_exactly_one(vars_k.values())
        x.append(vars_k)
    for s in range(inst.n_slots):
        in_slot = [v[s] for v in x if s in v]
        if len(in_slot) > inst.tables:
            model.add(sum(in_slot) <= inst.tables)
    return x


def _busy(
    model: cp_model.CpModel, inst: Instance, p: int, mine: list[int], x: list[dict[int, cp_model.IntVar]]
) -> dict[int, cp_model.IntVar]:
    """busy[s] = participant p meets in slot s (at most one of its meetings there)."""
    busy: dict[int, cp_model.IntVar] = {}
    for s in range(inst.n_slots):
        here = [x[k][s] for k in mine if s in x[k]]
        if here:
            v = model.new_bool_var(f"b{p}_{s}")
            model.add(sum(here) == v)
            busy[s] = v
    return busy


def _exact_breaks(model: cp_model.CpModel, p: int, busy: dict[int, cp_model.IntVar]) -> Expr:
    """The exact break count of p: break-start literals bk[t] (busy at t-1, idle at t, busy later)."""
    lo, hi = min(busy), max(busy)
    zero = model.new_constant(0)
    ha: dict[int, cp_model.IntVar] = {}  # has a meeting at or after t
    nxt = zero
    for t in range(hi, lo - 1, -1):
        v = model.new_bool_var(f"ha{p}_{t}")
        b = busy.get(t, zero)
        model.add(v >= b)
        model.add(v >= nxt)
        model.add(v <= b + nxt)
        ha[t] = v
        nxt = v
    bks = []
    for t in range(lo + 1, hi):
        prev, cur = busy.get(t - 1, zero), busy.get(t, zero)
        v = model.new_bool_var(f"bk{p}_{t}")
        model.add(v >= prev - cur + ha[t + 1] - 1)
        model.add(v <= prev)
        model.add(v <= 1 - cur)
        model.add(v <= ha[t + 1])
        bks.append(v)
    return cp_model.LinearExpr.sum(bks)


def _window_choice(
    model: cp_model.CpModel,
    inst: Instance,
    p: int,
    n: int,
    busy: dict[int, cp_model.IntVar],
    win: list[int],
    c: cp_model.IntVar | None,
) -> Task:
    """Participant p uses exactly one window when c holds (always when c is None), busy exactly on it."""
    y = {a: model.new_bool_var(f"y{p}_{a}") for a in win}
    if c is None:
        model.add_exactly_one(y.values())
    else:
        model.add(sum(y.values()) == c)
    for s in range(inst.n_slots):
        cover = [y[a] for a in win if a <= s < a + n]
        b = busy.get(s)
        if b is None:
            for v in cover:
                model.add(v == 0)
            continue
        if cover:
            model.add(b >= sum(cover))
        model.add(b <= sum(cover) + (1 - c if c is not None else 0))
    start = model.new_int_var_from_domain(cp_model.Domain.from_values(win), f"w{p}")
    link = model.add(start == sum(a * v for a, v in y.items()))
    if c is not None:
        link.only_enforce_if(c)
    return start, n, c


def _single(model: cp_model.CpModel, p: int, busy: dict[int, cp_model.IntVar]) -> Task:
    """The one-slot task of a participant with a single meeting."""
    start = model.new_int_var_from_domain(cp_model.Domain.from_values(sorted(busy)), f"w{p}")
    model.add(start == sum(s * v for s, v in busy.items()))
    return start, 1, None


def _link_windows(model: cp_model.CpModel, inst: Instance, tasks: dict[int, Task]) -> None:
    """Redundant: windows load 2 x tables per slot at most, and the windows of two who meet overlap."""
    intervals = []
    for p, (start, n, c) in tasks.items():
        if c is None:
            intervals.append(model.new_fixed_size_interval_var(start, n, f"i{p}"))
        else:
            intervals.append(model.new_optional_fixed_size_interval_var(start, n, c, f"i{p}"))
    if intervals:
        width = max(len(members) for members in inst.meetings)  # 2 for the usual one-to-one meetings
        model.add_cumulative(intervals, [1] * len(intervals), width * inst.tables)
    for members in inst.meetings:
        for a, b in itertools.combinations(members, 2):
            if a in tasks and b in tasks:
                (sa, na, ca), (sb, nb, cb) = tasks[a], tasks[b]
                lits = [lit for lit in (ca, cb) if lit is not None]
                model.add(sb <= sa + na - 1).only_enforce_if(lits)
                model.add(sa <= sb + nb - 1).only_enforce_if(lits)


def _finish(
    model: cp_model.CpModel, inst: Instance, x: list[dict[int, cp_model.IntVar]], breaks: list[Expr]
) -> BreakModel:
    if inst.fairness is not None:
        floor = model.new_int_var(0, inst.n_slots, "floor")
        for brk in breaks:
            model.add(brk >= floor)
            model.add(brk <= floor + inst.fairness)
    total = cp_model.LinearExpr.sum(breaks)
    model.minimize(total)
    return BreakModel(model=model, x=x, breaks=breaks, total=total)


def build_model(inst: Instance, windows: list[list[int]], *, stop: Callable[[], bool] | None = None) -> BreakModel:
    """Build the exact CP-SAT model: hard constraints, exact break counts, fairness, objective (total breaks).

    `stop` (every builder): polled per participant; when it returns True the build raises `Cancelled`, so a search
    stopped while its model is still being built (0.1-0.2 CPU-s, more under load) ends at once.
    """
    model = cp_model.CpModel()
    x = _slot_vars(model, inst)
    breaks: list[Expr] = []
    tasks: dict[int, Task] = {}
    for p, mine in enumerate(inst.meetings_of()):
        _check(stop)
        n = len(mine)
        if n == 0:
            breaks.append(0)
            continue
        busy = _busy(model, inst, p, mine, x)
        if n == 1:
            tasks[p] = _single(model, p, busy)
            breaks.append(0)
            continue
        model.add(sum(busy.values()) == n)
        brk = _exact_breaks(model, p, busy)
        breaks.append(brk)
        c = model.new_bool_var(f"c{p}")
        model.add(brk >= 1).only_enforce_if(~c)
        model.add(brk == 0).only_enforce_if(c)
        if not windows[p]:
            model.add(c == 0)
            continue
        tasks[p] = _window_choice(model, inst, p, n, busy, windows[p], c)
    _link_windows(model, inst, tasks)
    return _finish(model, inst, x, breaks)


def build_window_model(
    inst: Instance, windows: list[list[int]], free: Collection[int] = (), *, stop: Callable[[], bool] | None = None
) -> BreakModel:
    """Build the restricted model: participants with a feasible window meet back to back in one of them.

    Participants in `free` (and those without a window) may break; their breaks are counted exactly.
    """
    model = cp_model.CpModel()
    x = _slot_vars(model, inst)
    breaks: list[Expr] = []
    tasks: dict[int, Task] = {}
    for p, mine in enumerate(inst.meetings_of()):
        _check(stop)
        n = len(mine)
        if n == 0:
            breaks.append(0)
            continue
        busy = _busy(model, inst, p, mine, x)
        if n == 1:
            tasks[p] = _single(model, p, busy)
            breaks.append(0)
        elif windows[p] and p not in free:
            tasks[p] = _window_choice(model, inst, p, n, busy, windows[p], None)
            breaks.append(0)
        else:
            model.add(sum(busy.values()) == n)
            breaks.append(_exact_breaks(model, p, busy))
    _link_windows(model, inst, tasks)
    return _finish(model, inst, x, breaks)


def _in_task(model: cp_model.CpModel, start: cp_model.IntVar, end: cp_model.IntVar, s: int) -> cp_model.IntVar:
    """A literal that holds exactly when start <= s < end."""
    after_start = model.new_bool_var("")
    model.add(start <= s).only_enforce_if(after_start)
    model.add(start > s).only_enforce_if(~after_start)
    before_end = model.new_bool_var("")
    model.add(end > s).only_enforce_if(before_end)
    model.add(end <= s).only_enforce_if(~before_end)
    inside = model.new_bool_var("")
    model.add_bool_and([after_start, before_end]).only_enforce_if(inside)
    model.add_bool_or([~after_start, ~before_end, inside])
    return inside


def _two_tasks(
    model: cp_model.CpModel, inst: Instance, p: int, n: int, busy: dict[int, cp_model.IntVar]
) -> tuple[list[cp_model.IntervalVar], cp_model.IntVar, cp_model.IntVar]:
    """Participant p is busy exactly on two runs [s1, e1) and [s2, e2), s2 >= e1: at most one break.

    Returns the two runs as intervals (for the cumulative) and the start and end of p's day (for the overlaps).
    """
    t = inst.n_slots
    l1 = model.new_int_var(1, n - 1, f"l{p}")
    s1 = model.new_int_var(0, t - 1, f"s1_{p}")
    e1 = model.new_int_var(1, t, f"e1_{p}")
    s2 = model.new_int_var(0, t - 1, f"s2_{p}")
    e2 = model.new_int_var(1, t, f"e2_{p}")
    l2 = model.new_int_var(1, n - 1, f"m{p}")
    model.add(l2 == n - l1)
    model.add(s2 >= e1)
    runs = [model.new_interval_var(s1, l1, e1, f"r1_{p}"), model.new_interval_var(s2, l2, e2, f"r2_{p}")]
    zero = model.new_constant(0)
    for s in range(t):
        model.add(busy.get(s, zero) == _in_task(model, s1, e1, s) + _in_task(model, s2, e2, s))
    return runs, s1, e2


def build_relaxed_model(
    inst: Instance, windows: list[list[int]], relaxed: Collection[int], *, stop: Callable[[], bool] | None = None
) -> BreakModel:
    """The window model with the participants in `relaxed` allowed one break each, as two window tasks.

    Everyone else who has a window meets back to back in one of them; participants without a window may break
    (counted exactly). A relaxed participant's two runs go on the same cumulative (2 x tables) as the windows,
    and its whole day must overlap the window of everyone it meets: the redundant reasoning that makes the
    window model tight carries over, unlike freeing the participant's breaks entirely.
    """
    model = cp_model.CpModel()
    x = _slot_vars(model, inst)
    breaks: list[Expr] = []
    intervals: list[cp_model.IntervalVar] = []
    spans: dict[int, tuple[Expr, Expr]] = {}
    for p, mine in enumerate(inst.meetings_of()):
        _check(stop)
        n = len(mine)
        if n == 0:
            breaks.append(0)
            continue
        busy = _busy(model, inst, p, mine, x)
        if n == 1:
            start, _, _ = _single(model, p, busy)
            intervals.append(model.new_fixed_size_interval_var(start, 1, f"i{p}"))
            spans[p] = (start, start + 1)
            breaks.append(0)
        elif windows[p] and p not in relaxed:
            start, _, _ = _window_choice(model, inst, p, n, busy, windows[p], None)
            intervals.append(model.new_fixed_size_interval_var(start, n, f"i{p}"))
            spans[p] = (start, start + n)
            breaks.append(0)
        else:
            model.add(sum(busy.values()) == n)
            breaks.append(_exact_breaks(model, p, busy))
            if windows[p]:
                runs, first, last = _two_tasks(model, inst, p, n, busy)
                intervals.extend(runs)
                spans[p] = (first, last)
    _share_tables_and_overlap(model, inst, intervals, spans)
    bm = _finish(model, inst, x, breaks)
    bm.relaxed = tuple(relaxed)
    return bm


def _share_tables_and_overlap(
    model: cp_model.CpModel,
    inst: Instance,
    intervals: list[cp_model.IntervalVar],
    spans: dict[int, tuple[Expr, Expr]],
) -> None:
    """Add the redundant constraints on the participants' runs.

    All runs share one cumulative of capacity (meeting width) x tables, and the [first, last) spans of two
    participants who meet overlap.
    """
    if intervals:
        width = max(len(members) for members in inst.meetings)
        model.add_cumulative(intervals, [1] * len(intervals), width * inst.tables)
    for members in inst.meetings:
        for a, b in itertools.combinations(members, 2):
            if a in spans and b in spans:
                (sa, ea), (sb, eb) = spans[a], spans[b]
                model.add(sb <= ea - 1)
                model.add(sa <= eb - 1)
