"""Relaxation probes: when the window model is infeasible, which participant with a window should break?

When the restricted window model (everyone who has a window meets back to back) is proved infeasible, some
participant with a window must break. A probe relaxes a set R of them: each participant in R becomes *two*
window tasks (busy exactly on the union of two runs, so at most one break: `model.build_relaxed_model`)
instead of being freed entirely, and the model is solved with CP-SAT's presolve on (which is what refutes the
window model in a fraction of a second; with presolve off, as assumption-based cores need, no refutation
comes within 20 s on `forum-13crafc`).

Group testing: relaxing more participants only adds schedules, so a probe of a group proved infeasible rules out
every member at once as "the only one with a window that breaks". Candidates, most constrained first (fewest
windows, then most meetings), are probed in groups of `GROUP` (a refutation costs ~0.07 deterministic seconds on
the crafted instances); a group neither refuted nor solved to the bound is then probed member by member, next, each
on its own model with only that member relaxed. Every probe minimises the total breaks, so a group probe can also
return a good schedule (`tic-13crafc`: the optimum, 4). If every candidate is refuted, the window bound rises by
two. Limits are in CP-SAT deterministic time, so that the probing order does not depend on the machine's load.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from ortools.sat.python import cp_model

from roadshow.scheduling.bounder import stop_all
from roadshow.scheduling.instance import Instance
from roadshow.scheduling.model import Cancelled, build_relaxed_model

GROUP = 8  # candidates relaxed together in a first probe: a group proved infeasible rules them all out at once
# CP-SAT deterministic time limits (load-independent): refuting a group of 8 takes ~0.07 on the crafted
# instances, a single probe 0.04 when infeasible and 0.6-1.0 when it finds the schedule
GROUP_DET = 0.12  # a group probe neither refuted nor solved by then is split into its members
PROBE_DET = 1.5  # a single-participant probe neither refuted nor solved by then is dropped


def _breakers(inst: Instance, slots: list[int]) -> list[int]:
    """The participants with at least one break in a schedule."""
    masks = [0] * inst.n_participants
    for k, s in enumerate(slots):
        for p in inst.meetings[k]:
            masks[p] |= 1 << s
    return [p for p, m in enumerate(masks) if (m & ~(m << 1)).bit_count() > 1]


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
        target: Callable[[], int],
        deadline_s: float,
        evaluate: Callable[[list[int]], tuple[int, bool]],
        threads: int = 1,
        seed: int = 0,
    ) -> None:
        self.inst = inst
        self.windows = windows
        self.target = target
        self.deadline_s = deadline_s
        self.evaluate = evaluate
        self.seed = seed
        counts = [len(m) for m in inst.meetings_of()]
        # most constrained first: fewest feasible windows, then most meetings (the likeliest to have to break)
        self.candidates = sorted(
            (p for p in range(inst.n_participants) if windows[p] and counts[p] >= 2),
            key=lambda p: (len(windows[p]), -counts[p]),
        )
        self.best: tuple[int, list[int]] | None = None
        self.probed: list[tuple[tuple[int, ...], str]] = []  # (relaxed group, CP-SAT status name), diagnostics
        self.refuted: set[int] = set()
        # a probe: the relaxed group, and whether it is a member of a split group (longer limit)
        self._queue: deque[tuple[tuple[int, ...], bool]] = deque(
            (tuple(self.candidates[i : i + GROUP]), False) for i in range(0, len(self.candidates), GROUP)
        )
        self._busy = 0
        self._end = 0.0
        self._lock = threading.Condition()
        self._stopped = threading.Event()
        self._solvers: set[cp_model.CpSolver] = set()
        self._threads = [
            threading.Thread(target=self._run, args=(i,), name=f"roadshow-prober{i}", daemon=True)
            for i in range(max(1, threads))
        ]

    @property
    def exhausted(self) -> bool:
        """Whether every candidate was proved unable to be the only participant with a window that breaks."""
        return len(self.refuted) == len(self.candidates)

    def start(self) -> None:
        """Start probing in the background."""
        self._end = time.monotonic() + self.deadline_s
        for thread in self._threads:
            thread.start()

    def _next(self) -> tuple[tuple[int, ...], bool] | None:
        with self._lock:
            while not self._queue:
                if not self._busy or self._stopped.is_set():
                    return None
                self._lock.wait(0.05)
            self._busy += 1
            return self._queue.popleft()

    def _probe(self, group: tuple[int, ...], split: bool, index: int) -> None:
        # a member of a split group gets its own model: on a copy of the group's model with the other members
        # held back to back, forum-13crafc's one working relaxation took 4-7 deterministic s instead of 0.6
        try:
            bm = build_relaxed_model(self.inst, self.windows, group, stop=self._stopped.is_set)
        except Cancelled:
            return
        model = bm.model
        solver = cp_model.CpSolver()
        params = solver.parameters
        params.num_workers = 1
        params.linearization_level = 0
        params.random_seed = self.seed + index
        params.max_deterministic_time = PROBE_DET if split else GROUP_DET
        params.max_time_in_seconds = max(self._end - time.monotonic(), 0.01)
        with self._lock:
            if self._stopped.is_set():
                return
            self._solvers.add(solver)
        status = solver.solve(model)
        with self._lock:
            self._solvers.discard(solver)
        self.probed.append((group, solver.status_name(status)))
        if status == cp_model.INFEASIBLE:
            with self._lock:
                self.refuted.update(group)
            return
        members = list(group)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            slots = [next(s for s, v in xs.items() if solver.boolean_value(v)) for xs in bm.x]
            total, fair = self.evaluate(slots)
            if fair:
                with self._lock:
                    if self.best is None or total < self.best[0]:
                        self.best = (total, slots)
                if total <= self.target() or (status == cp_model.OPTIMAL and len(group) == 1):
                    self._stopped.set()  # optimal, or the best this method gives
                    return
            # the members that break in the group's schedule are the likeliest to break alone: probe them first
            breaking = set(_breakers(self.inst, slots))
            members.sort(key=lambda p: p not in breaking)
        if not split and len(group) > 1:  # a breaker may hide in this group: probe its members one by one, next
            with self._lock:
                self._queue.extendleft(((q,), True) for q in reversed(members))

    def _run(self, index: int) -> None:
        while not self._stopped.is_set() and time.monotonic() < self._end - 0.05:
            item = self._next()
            if item is None:
                return
            try:
                self._probe(*item, index)
            finally:
                with self._lock:
                    self._busy -= 1
                    self._lock.notify_all()

    def done(self) -> bool:
        """Whether probing has finished."""
        return not any(thread.is_alive() for thread in self._threads)

    def wait(self, timeout: float) -> None:
        """Wait up to `timeout` seconds for probing to finish."""
        end = time.monotonic() + max(timeout, 0.0)
        for thread in self._threads:
            if thread.ident is not None:
                thread.join(max(end - time.monotonic(), 0.0))

    def request_stop(self) -> None:
        """Ask probing to stop without waiting: a model being built is abandoned, running searches told to stop.

        Call it again until `done()`: a stop that lands just before CP-SAT starts searching is not remembered by
        CP-SAT (the probe then still ends at the prober's deadline).
        """
        self._stopped.set()
        with self._lock:
            for solver in self._solvers:
                solver.stop_search()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop probing and wait up to `timeout` seconds for the threads."""
        stop_all([self], time.monotonic() + timeout)
