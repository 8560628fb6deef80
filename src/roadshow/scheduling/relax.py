"""Relaxation probes: when the window model is infeasible, which single participant's break makes it feasible?

When the restricted window model (everyone who has a window meets back to back) is proved infeasible, some
participant with a window must break. On the public instances whose optimum is one break above the window
bound, exactly one such participant breaks once. The probe for participant q is the window model with q
relaxed to *two* window tasks (busy exactly on the union of two runs, so at most one break: see
`model.build_relaxed_model`) instead of freed entirely. Solved with CP-SAT's presolve on, a probe is settled
in well under a second on those instances (infeasible: q is the wrong guess; feasible: an optimal schedule),
whereas an assumption-based core over all participants needs presolve off and is not found in 20 s.

Candidates are probed one at a time in a background thread (one CP-SAT worker), the participants that break
in the annealer's current schedule first (a cheap but good guess: on `forum-13crafc` the annealer's breakers
include the participants whose probes succeed), then the others by decreasing number of meetings.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ortools.sat.python import cp_model

from roadshow.scheduling.instance import Instance
from roadshow.scheduling.model import build_relaxed_model

PROBE_S = 1.0  # a probe that is neither proved infeasible nor solved by then is dropped


class Prober:
    """Probe single-participant relaxations of the window model in a background thread.

    Args:
        inst: the instance.
        windows: the participants' feasible windows.
        priority: returns the current per-participant break counts of the annealer (or None), polled before each
            probe; participants that break there are probed first.
        deadline_s: seconds the prober may run in total.
        evaluate: turns a schedule into its (total breaks, fair) pair; only fair schedules are kept.
        seed: CP-SAT's random seed.
    """

    def __init__(
        self,
        inst: Instance,
        windows: list[list[int]],
        *,
        priority: Callable[[], list[int] | None],
        deadline_s: float,
        evaluate: Callable[[list[int]], tuple[int, bool]],
        seed: int = 0,
    ) -> None:
        self.inst = inst
        self.windows = windows
        self.priority = priority
        self.deadline_s = deadline_s
        self.evaluate = evaluate
        self.seed = seed
        counts = [len(m) for m in inst.meetings_of()]
        self.candidates = sorted(
            (p for p in range(inst.n_participants) if windows[p] and counts[p] >= 2), key=lambda p: counts[p]
        )
        self.best: tuple[int, list[int]] | None = None
        self.probed: list[tuple[int, str]] = []  # (participant, CP-SAT status name), for diagnostics
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._solver: cp_model.CpSolver | None = None
        self._thread = threading.Thread(target=self._run, name="roadshow-prober", daemon=True)

    def start(self) -> None:
        """Start probing in the background."""
        self._thread.start()

    def _next(self, left: list[int]) -> int:
        brk = self.priority()
        if brk is not None:
            breaking = [p for p in left if brk[p] > 0]
            if breaking:
                return breaking[0]
        return left[0]

    def _run(self) -> None:
        end = time.monotonic() + self.deadline_s
        left = list(self.candidates)
        while left and not self._stopped.is_set():
            remaining = end - time.monotonic()
            if remaining <= 0.05:
                return
            q = self._next(left)
            left.remove(q)
            bm = build_relaxed_model(self.inst, self.windows, (q,))
            solver = cp_model.CpSolver()
            params = solver.parameters
            params.num_workers = 1
            params.linearization_level = 0
            params.random_seed = self.seed
            params.max_time_in_seconds = min(PROBE_S, remaining)
            with self._lock:
                if self._stopped.is_set():
                    return
                self._solver = solver
            status = solver.solve(bm.model)
            with self._lock:
                self._solver = None
            self.probed.append((q, solver.status_name(status)))
            if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                slots = [next(s for s, v in xs.items() if solver.boolean_value(v)) for xs in bm.x]
                total, fair = self.evaluate(slots)
                if fair:
                    with self._lock:
                        if self.best is None or total < self.best[0]:
                            self.best = (total, slots)
                    if status == cp_model.OPTIMAL:
                        return  # one relaxed participant, optimal for that relaxation: the method's best

    def done(self) -> bool:
        """Whether probing has finished."""
        return not self._thread.is_alive()

    def wait(self, timeout: float) -> None:
        """Wait up to `timeout` seconds for probing to finish."""
        if self._thread.ident is not None:
            self._thread.join(max(timeout, 0.0))

    def stop(self, timeout: float = 5.0) -> None:
        """Stop probing and wait for the thread."""
        self._stopped.set()
        if self._thread.ident is None:  # never started
            return
        end = time.monotonic() + timeout
        while self._thread.is_alive() and time.monotonic() < end:
            # repeated: a stop that lands before CP-SAT starts searching is not remembered by CP-SAT
            with self._lock:
                if self._solver is not None:
                    self._solver.stop_search()
            self._thread.join(0.01)
