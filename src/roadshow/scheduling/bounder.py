"""The exact CP-SAT model searched in a background thread, for lower bounds.

It proves lower bounds (core-based search) and may find or prove optimal schedules, while the annealer
(in the calling thread) looks for good schedules.

CP-SAT releases the GIL while it searches, so the two really run side by side on two cores.
"""

from __future__ import annotations

import threading

from ortools.sat.python import cp_model

from roadshow.scheduling.instance import Instance
from roadshow.scheduling.model import BreakModel, build_model


class _Recorder(cp_model.CpSolverSolutionCallback):
    def __init__(self, owner: Bounder, bm: BreakModel) -> None:
        super().__init__()
        self.owner = owner
        self.bm = bm

    def on_solution_callback(self) -> None:
        slots = [next(s for s, v in xs.items() if self.boolean_value(v)) for xs in self.bm.x]
        self.owner.record(round(self.objective_value), slots)


class Bounder:
    """The exact model searched in a thread; read `lower_bound`, `best` and `status` at any time."""

    def __init__(self, inst: Instance, windows: list[list[int]], *, workers: int, time_limit_s: float) -> None:
        self.inst = inst
        self.windows = windows
        self.workers = max(1, workers)
        self.time_limit_s = time_limit_s
        self.lower_bound = 0
        self.best: tuple[int, list[int]] | None = None
        self.status = cp_model.UNKNOWN
        self._lock = threading.Lock()
        self._solver = cp_model.CpSolver()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="roadshow-bounder", daemon=True)

    def start(self) -> None:
        """Start searching in the background."""
        self._thread.start()

    def record(self, value: int, slots: list[int]) -> None:
        """Keep a schedule found by CP-SAT if it is the best so far."""
        with self._lock:
            if self.best is None or value < self.best[0]:
                self.best = (value, slots)

    def _bound(self, value: float) -> None:
        self.lower_bound = max(self.lower_bound, int(value + 1e-6 + 0.999))

    def _run(self) -> None:
        bm = build_model(self.inst, self.windows)
        params = self._solver.parameters
        params.max_time_in_seconds = max(self.time_limit_s, 0.01)
        params.num_workers = max(2, self.workers)
        # core-based search for the bound, plus the default LP search; we skip CP-SAT's own LNS because
        # the annealer is far better at finding schedules for this problem.
        params.subsolvers.extend(["core", "default_lp"][: max(2, self.workers)])
        self._solver.best_bound_callback = self._bound
        if self._stopped.is_set():
            return
        status = self._solver.solve(bm.model, _Recorder(self, bm))
        self.status = status
        if status == cp_model.OPTIMAL:
            self._bound(self._solver.objective_value)
        elif status in (cp_model.FEASIBLE,):
            self._bound(self._solver.best_objective_bound)

    def done(self) -> bool:
        """Whether the search has finished (optimal, infeasible or out of time)."""
        return not self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask CP-SAT to stop and wait for the thread."""
        self._stopped.set()
        self._solver.stop_search()
        self._thread.join(timeout)
