"""A first schedule that meets every hard constraint (fairness and breaks ignored), from a small CP-SAT model.

With a hint (meeting index -> previous 0-based slot), the model maximises the number of meetings kept
where they were, which is how a re-solve keeps published meetings where possible.
"""

from __future__ import annotations

from collections.abc import Mapping

from ortools.sat.python import cp_model

from roadshow.scheduling.instance import Instance


class Infeasible(Exception):
    """The hard constraints alone admit no schedule (proved)."""


def initial_schedule(inst: Instance, *, time_limit_s: float, hint: Mapping[int, int] | None = None) -> list[int] | None:
    """Return a hard-feasible slot per meeting, or None if none was found in time.

    Raises:
        Infeasible: the hard constraints are proved unsatisfiable.
    """
    model = cp_model.CpModel()
    x = [{s: model.new_bool_var(f"x{k}_{s}") for s in dom} for k, dom in enumerate(inst.domains)]
    for vars_k in x:
        model.add_exactly_one(vars_k.values())
    by_slot: list[list[cp_model.IntVar]] = [[] for _ in range(inst.n_slots)]
    for vars_k in x:
        for s, v in vars_k.items():
            by_slot[s].append(v)
    for lits in by_slot:
        if len(lits) > inst.tables:
            model.add(sum(lits) <= inst.tables)
    for mine in inst.meetings_of():
        for s in range(inst.n_slots):
            lits = [x[k][s] for k in mine if s in x[k]]
            if len(lits) > 1:
                model.add_at_most_one(lits)
    if hint:
        kept = [x[k][s] for k, s in hint.items() if s in x[k]]
        for v in kept:
            model.add_hint(v, True)
        model.maximize(sum(kept))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    # presolving costs more than it saves on this small model (public instances: 0.1-1.2 s without it, 1-5 s
    # with it); the LP stays, it is what proves the infeasible variants in a fraction of a second
    solver.parameters.cp_model_presolve = False
    solver.parameters.max_time_in_seconds = max(time_limit_s, 0.01)
    status = solver.solve(model)
    if status == cp_model.INFEASIBLE:
        raise Infeasible
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return [next(s for s, v in vars_k.items() if solver.boolean_value(v)) for vars_k in x]
