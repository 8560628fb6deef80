"""Hubs and the split model: when several participants must break at once (method step 5b).

Some instances have *hubs*: participants with exactly one feasible window, so their busy slots are fixed (a
participant with ten afternoon meetings and ten afternoon slots). Every partner that meets a hub back to back must
meet it inside its own window, and a hub meets one partner per slot: a pigeonhole. `hub_core` states just that
as a small CP-SAT model (for every partner of a hub that has a window: a window start or a break; each hub's
meetings in distinct slots, inside the window of every partner that does not break), finds the least number of
breakers it needs (a lower bound: the model is a relaxation) and the union of the sets of that size, the *hub
core*. When two or more must break, no single relaxation of the window model can work, so the relaxation probes
(`relax.py`) are pointless there.

In the optimal schedules known for such instances (`ticf-13crafb`, 3 breaks) each breaker splits its day at noon:
one run of meetings in the morning and one in the afternoon, with the hub meetings at the far ends.
`build_split_model` is the window model in which chosen participants (the hubs and the core) may instead *split*
that way: a participant either uses one of its windows, or has one run ending in the morning and one run starting
in the afternoon, not adjacent (exactly one break). Both are chosen among precomputed patterns (literals, busy
exactly on the chosen pattern), so CP-SAT propagates them as strongly as windows; participants without a window
(they break at least once) get two runs anywhere in the day, so exactly one break, and both runs join the redundant
constraints. Its schedules are valid schedules of the problem with their breaks counted
exactly; it is a restriction, so it proves nothing.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Collection
from typing import NamedTuple

from ortools.sat.python import cp_model

from roadshow.scheduling.instance import Instance
from roadshow.scheduling.model import (
    BreakModel,
    Expr,
    _busy,
    _check,
    _finish,
    _share_tables_and_overlap,
    _slot_vars,
    _two_tasks,
)
from roadshow.scheduling.windows import _perfect_matching

HUB_LIMIT_S = 1.0  # time for enumerating the hub model's minimal breaker sets


class HubCore(NamedTuple):
    hubs: set[int]  # participants with exactly one feasible window (and two or more meetings)
    core: set[int]  # union of the hub model's smallest breaker sets (partial if time ran out)
    smallest: int  # proven least number of participants with a window that break (0 if unknown)


def hub_core(
    inst: Instance, windows: list[list[int]], *, limit_s: float = HUB_LIMIT_S, stop: Callable[[], bool] | None = None
) -> HubCore:
    """The hubs (participants with exactly one feasible window) and the union of the hub model's smallest breaker sets.

    The hub model is a relaxation of the problem (every schedule gives it a solution: its breakers, their windows,
    the hubs' slots), so `smallest` participants with a window break in every schedule: with the participants
    without a window (disjoint from these), a lower bound of window_floor + smallest.

    After the smallest size m is found, each further solve asks for a set of at most m breakers containing someone not
    yet in the union, until there is none (or `limit_s` has passed): at most |union| + 1 solves.
    """
    mine = inst.meetings_of()
    counts = [len(m) for m in mine]
    hubs = {p for p in range(inst.n_participants) if len(windows[p]) == 1 and counts[p] >= 2}
    model = cp_model.CpModel()
    breaks: dict[int, cp_model.IntVar] = {}
    start: dict[int, cp_model.IntVar] = {}
    for h in sorted(hubs):
        for k in mine[h]:
            for q in inst.meetings[k]:
                if q not in breaks and windows[q] and counts[q] >= 2:
                    breaks[q] = model.new_bool_var(f"b{q}")
                    start[q] = model.new_int_var_from_domain(cp_model.Domain.from_values(windows[q]), f"a{q}")
    for h in sorted(hubs):
        slots = []
        for k in mine[h]:
            t = model.new_int_var_from_domain(cp_model.Domain.from_values(inst.domains[k]), f"t{k}")
            slots.append(t)
            for q in inst.meetings[k]:
                if q in start:
                    model.add(t >= start[q]).only_enforce_if(~breaks[q])
                    model.add(t <= start[q] + counts[q] - 1).only_enforce_if(~breaks[q])
        model.add_all_different(slots)
    core: set[int] = set()
    smallest = 0
    end = time.monotonic() + limit_s
    # the first solve (on a copy with the objective; variable indices are shared) finds the smallest size, the later
    # ones (on the model itself) ask for a set of at most that size with someone not yet in the core
    first = model.clone()
    first.minimize(sum(breaks.values()))
    current = first
    while breaks:
        _check(stop)
        left = end - time.monotonic()
        if left <= 0:
            break
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.cp_model_presolve = False  # a tiny model: presolving costs more than it saves
        solver.parameters.max_time_in_seconds = left
        status = solver.solve(current)
        if status != cp_model.OPTIMAL and (current is first or status != cp_model.FEASIBLE):
            break
        found = [q for q, b in breaks.items() if solver.boolean_value(b)]
        if not found:
            break
        if current is first:
            smallest = len(found)
            model.add(sum(breaks.values()) <= smallest)
            current = model
        core.update(found)
        rest = [b for q, b in breaks.items() if q not in core]
        if not rest:
            break
        model.add_bool_or(rest)
    return HubCore(hubs, core, smallest)


Pattern = tuple[str, int, int]  # ("w", start, n) a window, ("am"/"pm", start, length) a run of a split day


def _patterns(inst: Instance, doms: list[list[int]], n: int, win: list[int], cut: int) -> dict[Pattern, range]:
    """A participant's patterns: its windows ("w", start, n) and its feasible noon runs ("am"/"pm", start, length)."""
    pats: dict[Pattern, range] = {("w", a, n): range(a, a + n) for a in win}
    am = [d for d in doms if max(d) < cut]
    pm = [d for d in doms if min(d) >= cut]
    either = len(doms) - len(am) - len(pm)
    for length in range(max(len(am), 1), min(len(am) + either, n - 1) + 1):
        for a in range(cut - length + 1):
            if _perfect_matching(am, a, a + length):
                pats[("am", a, length)] = range(a, a + length)
        for b in range(cut, inst.n_slots - (n - length) + 1):
            if _perfect_matching(pm, b, b + n - length):
                pats[("pm", b, n - length)] = range(b, b + n - length)
    return pats


def build_split_model(
    inst: Instance,
    windows: list[list[int]],
    cut: int,
    allow: Collection[int],
    *,
    cap: int | None = None,
    stop: Callable[[], bool] | None = None,
) -> BreakModel:
    """The window model in which the participants in `allow` may split their day at `cut` (0-based first pm slot).

    A splitting participant is busy exactly on one run within [0, cut) and one within [cut, slots), not adjacent:
    one break. Redundant constraints as in the window model: every run on the cumulative of capacity 2 x tables,
    and the days of two participants who meet overlap.
    """
    model = cp_model.CpModel()
    x = _slot_vars(model, inst)
    breaks: list[Expr] = []
    intervals: list[cp_model.IntervalVar] = []
    spans: dict[int, tuple[Expr, Expr]] = {}
    t = inst.n_slots
    for p, mine in enumerate(inst.meetings_of()):
        _check(stop)
        n = len(mine)
        if n == 0:
            breaks.append(0)
            continue
        busy = _busy(model, inst, p, mine, x)
        if n == 1:
            first = model.new_int_var_from_domain(cp_model.Domain.from_values(sorted(busy)), f"w{p}")
            model.add(first == sum(s * v for s, v in busy.items()))
            intervals.append(model.new_fixed_size_interval_var(first, 1, f"i{p}"))
            spans[p] = (first, first + 1)
            breaks.append(0)
            continue
        if not windows[p]:
            # no window: at least one break; two runs: at most one. So exactly one, and both runs go on the
            # cumulative and the day's span in the overlap constraints, like everyone else's patterns
            model.add(sum(busy.values()) == n)
            two_runs, first_slot, end_slot = _two_tasks(model, inst, p, n, busy)
            intervals.extend(two_runs)
            spans[p] = (first_slot, end_slot)
            breaks.append(1)
            continue
        doms = [inst.domains[k] for k in mine]
        pats = (
            _patterns(inst, doms, n, windows[p], cut)
            if p in allow
            else {("w", a, n): range(a, a + n) for a in windows[p]}
        )
        y = {key: model.new_bool_var(f"y{p}{key}") for key in pats}
        by_kind: dict[str, list[tuple[Pattern, cp_model.IntVar]]] = {"w": [], "am": [], "pm": []}
        for key, v in y.items():
            by_kind[key[0]].append((key, v))
        split = model.new_bool_var(f"split{p}")
        model.add(sum(v for _, v in by_kind["w"]) + split == 1)
        if by_kind["am"] and by_kind["pm"]:
            model.add(sum(v for _, v in by_kind["am"]) == split)
            model.add(sum(v for _, v in by_kind["pm"]) == split)
            model.add(sum(key[2] * v for key, v in by_kind["am"] + by_kind["pm"]) == n * split)
            for (ka, va), (kb, vb) in itertools.product(by_kind["am"], by_kind["pm"]):
                if ka[1] + ka[2] == cut and kb[1] == cut:
                    model.add_bool_or([~va, ~vb])  # adjacent runs would be no break
        else:
            model.add(split == 0)
        for s in range(t):
            cover = [v for key, v in y.items() if s in pats[key]]
            b = busy.get(s)
            if b is None:
                for v in cover:
                    model.add(v == 0)
            else:
                model.add(b == sum(cover))
        breaks.append(split)
        first = model.new_int_var(0, t, f"f{p}")
        last = model.new_int_var(0, t, f"l{p}")
        wstart = model.new_int_var(0, t, f"w{p}")
        model.add(wstart == sum(key[1] * v for key, v in by_kind["w"])).only_enforce_if(~split)
        model.add(first == wstart).only_enforce_if(~split)
        model.add(last == wstart + n).only_enforce_if(~split)
        intervals.append(model.new_optional_fixed_size_interval_var(wstart, n, ~split, f"i{p}"))
        if by_kind["am"] and by_kind["pm"]:
            runs = []
            for kind in ("am", "pm"):
                s0 = model.new_int_var(0, t, f"{kind}s{p}")
                ln = model.new_int_var(0, n, f"{kind}l{p}")
                e0 = model.new_int_var(0, t, f"{kind}e{p}")
                model.add(s0 == sum(key[1] * v for key, v in by_kind[kind])).only_enforce_if(split)
                model.add(ln == sum(key[2] * v for key, v in by_kind[kind])).only_enforce_if(split)
                intervals.append(model.new_optional_interval_var(s0, ln, e0, split, f"{kind}{p}"))
                runs.append((s0, e0))
            model.add(first == runs[0][0]).only_enforce_if(split)
            model.add(last == runs[1][1]).only_enforce_if(split)
        spans[p] = (first, last)
    _share_tables_and_overlap(model, inst, intervals, spans)
    bm = _finish(model, inst, x, breaks)
    if cap is not None:
        model.add(bm.total <= cap)
    bm.relaxed = tuple(sorted(allow))
    return bm
