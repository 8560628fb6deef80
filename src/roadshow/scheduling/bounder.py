"""CP-SAT models searched in background threads (CP-SAT releases the GIL, so they run beside the annealer).

Two searches use this: the exact model proving lower bounds (core-based search plus the default LP search;
it may also find or prove the optimum), and the restricted window model looking for schedules where every
participant that can meet back to back does so (see `model.py`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ortools.sat.python import cp_model

from roadshow.scheduling.model import BreakModel


class _Recorder(cp_model.CpSolverSolutionCallback):
    def __init__(self, owner: CpSearch, bm: BreakModel) -> None:
        super().__init__()
        self.owner = owner
        self.bm = bm

    def on_solution_callback(self) -> None:
        slots = [next(s for s, v in xs.items() if self.boolean_value(v)) for xs in self.bm.x]
        self.owner.record(round(self.objective_value), slots)


class CpSearch:
    """One CP-SAT model searched in a thread; read `lower_bound`, `best` and `status` at any time.

    Args:
        build: builds the model (called in the thread, so building overlaps the caller's work).
        workers: CP-SAT worker threads.
        subsolvers: CP-SAT subsolver names (empty: CP-SAT's default portfolio).
        time_limit_s: the search's time limit.
        proves_bound: whether the model is exact, so that its objective bound bounds the problem.
        linearization_level: CP-SAT's LP relaxation level (None: its default). 0, no LP, is what finds
            schedules of the window model fastest: its strength is propagation, the LP only slows it down.
        seed: CP-SAT's random seed.
        name: the thread's name.
    """

    def __init__(
        self,
        build: Callable[[], BreakModel],
        *,
        workers: int,
        subsolvers: list[str],
        time_limit_s: float,
        proves_bound: bool,
        linearization_level: int | None = None,
        seed: int = 0,
        name: str,
    ) -> None:
        self.build = build
        self.workers = max(1, workers)
        self.subsolvers = subsolvers
        self.time_limit_s = time_limit_s
        self.proves_bound = proves_bound
        self.linearization_level = linearization_level
        self.seed = seed
        self.lower_bound = 0
        self.best: tuple[int, list[int]] | None = None
        self.status = cp_model.UNKNOWN
        self._lock = threading.Lock()
        self._solver = cp_model.CpSolver()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"roadshow-{name}", daemon=True)

    def start(self) -> None:
        """Start searching in the background."""
        self._thread.start()

    @property
    def started(self) -> bool:
        """Whether `start` was called."""
        return self._thread.ident is not None

    def record(self, value: int, slots: list[int]) -> None:
        """Keep a schedule found by CP-SAT if it is the best so far."""
        with self._lock:
            if self.best is None or value < self.best[0]:
                self.best = (value, slots)

    def _bound(self, value: float) -> None:
        if self.proves_bound:
            self.lower_bound = max(self.lower_bound, int(value + 1e-6 + 0.999))

    def _run(self) -> None:
        bm = self.build()
        params = self._solver.parameters
        params.max_time_in_seconds = max(self.time_limit_s, 0.01)
        params.num_workers = self.workers
        params.subsolvers.extend(self.subsolvers)
        params.random_seed = self.seed
        if self.linearization_level is not None:
            params.linearization_level = self.linearization_level
        self._solver.best_bound_callback = self._bound
        if self._stopped.is_set():
            return
        status = self._solver.solve(bm.model, _Recorder(self, bm))
        self.status = status
        if status == cp_model.OPTIMAL:
            self._bound(self._solver.objective_value)
        elif status == cp_model.FEASIBLE:
            self._bound(self._solver.best_objective_bound)

    def done(self) -> bool:
        """Whether the search has finished (optimal, infeasible or out of time)."""
        return not self._thread.is_alive()

    def wait(self, timeout: float) -> None:
        """Wait up to `timeout` seconds for the search to finish."""
        if self._thread.ident is not None:
            self._thread.join(max(timeout, 0.0))

    def stop(self, timeout: float = 5.0) -> None:
        """Ask CP-SAT to stop and wait for the thread."""
        self._stopped.set()
        if self._thread.ident is None:  # never started
            return
        end = time.monotonic() + timeout
        while self._thread.is_alive() and time.monotonic() < end:
            # repeated: a stop that lands before CP-SAT starts searching is not remembered by CP-SAT
            self._solver.stop_search()
            self._thread.join(0.01)
