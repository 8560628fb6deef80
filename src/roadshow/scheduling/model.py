"""The CP-SAT model of B2B scheduling.

Variables: x[k][s] (meeting k in slot s), busy[p][s] (participant p meets in s), hb/ha (p has a meeting
at or before / at or after s) and bk[p][s] (a break of p starts at s: busy at s-1, idle at s, busy
later). breaks_p = sum_s bk[p][s], exactly. The hb/ha chains make convexity propagate: once p is busy at
s1 and s2, every idle slot between them is a break.

The strong part is the window encoding: c_p says "p has no break"; then exactly one feasible window
y[p][a] (see `windows.py`) is chosen and p is busy exactly on it. Core-based search assumes c_p and
learns which participants must break, which is what makes lower bounds come fast.
"""

from __future__ import annotations

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


def _chains(
    model: cp_model.CpModel, p: int, busy: dict[int, cp_model.IntVar], lo: int, hi: int, zero: cp_model.IntVar
) -> dict[int, cp_model.IntVar]:
    """has-a-meeting-at-or-after chain ha[t] for t in [lo, hi] (exact); returns it."""
    ha: dict[int, cp_model.IntVar] = {}
    nxt = zero
    for t in range(hi, lo - 1, -1):
        v = model.new_bool_var(f"ha{p}_{t}")
        b = busy.get(t, zero)
        model.add(v >= b)
        model.add(v >= nxt)
        model.add(v <= b + nxt)
        ha[t] = v
        nxt = v
    return ha


def _participant(
    model: cp_model.CpModel,
    inst: Instance,
    p: int,
    mine: list[int],
    x: list[dict[int, cp_model.IntVar]],
    win: list[int],
) -> tuple[Expr, cp_model.IntVar | None]:
    """Busy, break and window variables of one participant; returns (breaks, no-break literal)."""
    busy: dict[int, cp_model.IntVar] = {}
    for s in range(inst.n_slots):
        here = [x[k][s] for k in mine if s in x[k]]
        if here:
            v = model.new_bool_var(f"b{p}_{s}")
            model.add(sum(here) == v)
            busy[s] = v
    n = len(mine)
    if n < 2:
        return 0, None
    lo, hi = min(busy), max(busy)
    model.add(sum(busy.values()) == n)
    zero = model.new_constant(0)
    ha = _chains(model, p, busy, lo, hi, zero)
    bks = []
    for t in range(lo + 1, hi):
        prev, cur = busy.get(t - 1, zero), busy.get(t, zero)
        v = model.new_bool_var(f"bk{p}_{t}")
        model.add(v >= prev - cur + ha[t + 1] - 1)
        model.add(v <= prev)
        model.add(v <= 1 - cur)
        model.add(v <= ha[t + 1])
        bks.append(v)
    brk: Expr = cp_model.LinearExpr.sum(bks)
    c = model.new_bool_var(f"c{p}")
    model.add(brk >= 1).only_enforce_if(~c)
    model.add(brk == 0).only_enforce_if(c)
    if not win:
        model.add(c == 0)
        return brk, c
    y = {a: model.new_bool_var(f"y{p}_{a}") for a in win}
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
        model.add(b <= sum(cover) + 1 - c)
    return brk, c


def build_model(inst: Instance, windows: list[list[int]]) -> BreakModel:
    """Build the CP-SAT model: hard constraints, exact break counts, fairness, objective (total breaks)."""
    model = cp_model.CpModel()
    x = _slot_vars(model, inst)
    breaks: list[Expr] = []
    for p, mine in enumerate(inst.meetings_of()):
        brk, _ = _participant(model, inst, p, mine, x, windows[p])
        breaks.append(brk)
    if inst.fairness is not None:
        floor = model.new_int_var(0, inst.n_slots, "floor")
        for brk in breaks:
            model.add(brk >= floor)
            model.add(brk <= floor + inst.fairness)
    total = sum(breaks)
    model.minimize(total)
    return BreakModel(model=model, x=x, breaks=breaks, total=total)
