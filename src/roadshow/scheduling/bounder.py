"""CP-SAT models searched in background threads (CP-SAT releases the GIL, so they run beside the annealer).

Two searches use this: the exact model proving lower bounds (core-based search plus the default LP search;
it may also find or prove the optimum), and the restricted window model looking for schedules where every
participant that can meet back to back does so (see `model.py`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Protocol

from ortools.sat.python import cp_model

from roadshow.scheduling.model import BreakModel, Cancelled


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
        build: builds the model (called in the thread, so building overlaps the caller's work) given a `stop`
            keyword argument (polled; the build raises `model.Cancelled` once the search is stopped).
        workers: CP-SAT worker threads.
        subsolvers: CP-SAT subsolver names (empty: CP-SAT's default portfolio).
        deadline: `time.monotonic()` time by which the search ends on its own (CP-SAT's time limit is set from it
            when the search starts, after the model is built).
        proves_bound: whether the model is exact, so that its objective bound bounds the problem.
        linearization_level: CP-SAT's LP relaxation level (None: its default). 0, no LP, is what finds
            schedules of the window model fastest: its strength is propagation, the LP only slows it down.
        seed: CP-SAT's random seed.
        cap: when set, `build` first gets a `cap` keyword argument (a bound on the objective the model is built
            with); if the capped model is proved infeasible, the model is rebuilt without it and searched again. A
            restricted model searched just above a proven lower bound finds schedules there that the open objective
            search misses (see `solver.SPLIT_CAP_ABOVE`). One step, not a ladder: when the uncapped model is itself
            infeasible, every cap is refuted in turn until the deadline.
        name: the thread's name.
    """

    def __init__(
        self,
        build: Callable[..., BreakModel],
        *,
        workers: int,
        subsolvers: list[str],
        deadline: float,
        proves_bound: bool,
        linearization_level: int | None = None,
        seed: int = 0,
        cap: int | None = None,
        name: str,
    ) -> None:
        self.build = build
        self.workers = max(1, workers)
        self.subsolvers = subsolvers
        self.deadline = deadline
        self.proves_bound = proves_bound
        self.linearization_level = linearization_level
        self.seed = seed
        self.cap = cap
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
        while True:
            try:
                if self.cap is None:
                    bm = self.build(stop=self._stopped.is_set)
                else:
                    bm = self.build(stop=self._stopped.is_set, cap=self.cap)
            except Cancelled:
                return
            status = self._search(bm)
            if status != cp_model.INFEASIBLE or self.cap is None or self._stopped.is_set():
                return
            self.cap = None  # the cap was too low: search the model itself (whose infeasibility then means something)
            self._solver = cp_model.CpSolver()

    def _search(self, bm: BreakModel) -> cp_model.CpSolverStatus:
        params = self._solver.parameters
        params.num_workers = self.workers
        params.subsolvers.extend(self.subsolvers)
        params.random_seed = self.seed
        if self.linearization_level is not None:
            params.linearization_level = self.linearization_level
        self._solver.best_bound_callback = self._bound
        remaining = self.deadline - time.monotonic()
        if self._stopped.is_set() or remaining <= 0:
            return cp_model.UNKNOWN
        params.max_time_in_seconds = remaining
        status = self._solver.solve(bm.model, _Recorder(self, bm))
        self.status = status
        if status == cp_model.OPTIMAL:
            self._bound(self._solver.objective_value)
        elif status == cp_model.FEASIBLE:
            self._bound(self._solver.best_objective_bound)
        return status

    def done(self) -> bool:
        """Whether the search has finished (optimal, infeasible or out of time)."""
        return not self._thread.is_alive()

    def wait(self, timeout: float) -> None:
        """Wait up to `timeout` seconds for the search to finish."""
        if self._thread.ident is not None:
            self._thread.join(max(timeout, 0.0))

    def request_stop(self) -> None:
        """Ask the search to stop without waiting: a model being built is abandoned, CP-SAT is told to stop.

        Call it again until `done()`: a stop that lands just before CP-SAT starts searching is not remembered
        by CP-SAT (the search then still ends at its deadline).
        """
        self._stopped.set()
        if self._thread.ident is not None:
            self._solver.stop_search()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the search to stop and wait up to `timeout` seconds for the thread."""
        stop_all([self], time.monotonic() + timeout)


class Stoppable(Protocol):
    """A background search `stop_all` can stop."""

    def request_stop(self) -> None: ...

    def done(self) -> bool: ...

    def wait(self, timeout: float) -> None: ...


def stop_all(searches: Iterable[Stoppable], until: float) -> bool:
    """Ask every search to stop, then wait for them together until the `time.monotonic()` time `until`.

    The stop requests are repeated while waiting (see `CpSearch.request_stop`). Searches still running at `until`
    are left to end on their own (they have been told to stop, and end at their own deadline at the latest).

    Returns:
        Whether every search has ended.
    """
    pending = list(searches)
    while True:
        pending = [s for s in pending if not s.done()]
        if not pending:
            return True
        for search in pending:
            search.request_stop()
        left = until - time.monotonic()
        if left <= 0:
            return False
        pending[0].wait(min(0.005, left))
