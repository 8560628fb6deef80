"""A SAT search at the lower bound: "is there a schedule with at most K breaks?", asked of a CDCL SAT solver.

The clauses (built in `encode`): x[k][s] (meeting k in slot s), exactly one slot per meeting (pairwise), at most
one meeting per participant per slot (pairwise), at most `tables` meetings per slot (sequential counter),
busy[p][s] = OR of p's meetings in s, "has a meeting at or after / at or before" chains (defined both ways),
break-start literals bk[p][t] = busy[p][t-1] AND NOT busy[p][t] AND has-a-meeting-after[p][t+1] (so the break
count of p is exactly the number of its true bk), the fairness cap as at most d breaks per participant
(sequential counter), and the window encoding as redundant clauses: "p has no break" <=> exactly one of p's
feasible windows is chosen, and p is busy exactly on it. The total of all bk literals is bounded by a totalizer,
so "at most K breaks" is one assumption and K can move between calls without re-encoding.

The search asks K = the current lower bound (polled from the solver: the window bound, raised when the window
model is refuted). A model is a schedule meeting the bound, hence optimal; an UNSAT answer proves K + 1
breaks (when the fairness cap is exactly the rule, see `SatSearch.proves_bound`) and the next call asks K + 1.
On the crafted instances whose window model is refuted this finds the optimum directly (python-sat's Glucose
3; solo, load 0.8: `forum-13crafc` 1 break in 1.7 s, `ticf-13crafc` 1 break in 2.6 s, build included), where
the relaxation probes need 3 s or (`ticf-13crafc`) luck.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable

from pysat.card import CardEnc, EncType, ITotalizer
from pysat.formula import IDPool
from pysat.solvers import Solver

from roadshow.scheduling.instance import Instance
from roadshow.scheduling.model import Cancelled

INTERRUPT_LEAD_S = 1.0
TOTALIZER_SPAN = 8  # totalizer outputs above the bound built at first
SAT_SOLVER = "g3"  # Glucose 3: 2-3x faster than CaDiCaL 1.9.5 on these models (ticf-13crafc: 2.6 s against 5.6 s)


class Encoding:
    """The clauses of the problem with the fairness rule as a per-participant cap, and the break literals."""

    def __init__(self, inst: Instance, windows: list[list[int]], *, stop: Callable[[], bool] | None = None) -> None:
        self.pool = IDPool()
        self.clauses: list[list[int]] = []
        new = self.pool.id
        clauses = self.clauses
        self.x: list[dict[int, int]] = [{s: new(("x", k, s)) for s in dom} for k, dom in enumerate(inst.domains)]
        for xs in self.x:
            lits = list(xs.values())
            clauses.append(lits)
            clauses.extend([-a, -b] for a, b in itertools.combinations(lits, 2))
        for s in range(inst.n_slots):
            lits = [xs[s] for xs in self.x if s in xs]
            if len(lits) > inst.tables:
                clauses.extend(CardEnc.atmost(lits, inst.tables, vpool=self.pool, encoding=EncType.seqcounter).clauses)
        self.breaks: list[int] = []
        for p, mine in enumerate(inst.meetings_of()):
            if stop is not None and stop():
                raise Cancelled
            busy = self._busy(inst, p, mine)
            if len(mine) >= 2:
                self._breaks(inst, p, len(mine), busy, windows[p])

    def _busy(self, inst: Instance, p: int, mine: list[int]) -> dict[int, int]:
        busy: dict[int, int] = {}
        for s in range(inst.n_slots):
            here = [self.x[k][s] for k in mine if s in self.x[k]]
            if not here:
                continue
            self.clauses.extend([-a, -b] for a, b in itertools.combinations(here, 2))
            if len(here) == 1:
                busy[s] = here[0]
                continue
            b = self.pool.id(("b", p, s))
            self.clauses.extend([-lit, b] for lit in here)
            self.clauses.append([-b, *here])
            busy[s] = b
        return busy

    def _chain(self, p: int, busy: dict[int, int], order: range, step: int, tag: str) -> dict[int, int]:
        """chain[t] <=> busy at t or chain[t - step]: "has a meeting at or after" (step -1 walking down) / "before"."""
        chain: dict[int, int] = {}
        for t in order:
            v = self.pool.id((tag, p, t))
            parts = [lit for lit in (busy.get(t), chain.get(t - step)) if lit is not None]
            self.clauses.extend([-lit, v] for lit in parts)
            self.clauses.append([-v, *parts])
            chain[t] = v
        return chain

    def _breaks(self, inst: Instance, p: int, n: int, busy: dict[int, int], windows: list[int]) -> None:
        lo, hi = min(busy), max(busy)
        after = self._chain(p, busy, range(hi, lo - 1, -1), -1, "ha")
        self._chain(p, busy, range(lo, hi + 1), 1, "hb")
        bks = []
        for t in range(lo + 1, hi):
            prev, cur = busy.get(t - 1), busy.get(t)
            if prev is None:
                continue
            bk = self.pool.id(("bk", p, t))
            self.clauses.append([-prev, -after[t + 1], bk] + ([cur] if cur is not None else []))
            self.clauses += [[-bk, prev], [-bk, after[t + 1]]] + ([[-bk, -cur]] if cur is not None else [])
            bks.append(bk)
        self.breaks.extend(bks)
        if inst.fairness is not None and len(bks) > inst.fairness:
            cap = CardEnc.atmost(bks, inst.fairness, vpool=self.pool, encoding=EncType.seqcounter)
            self.clauses.extend(cap.clauses)
        if not windows:
            return
        c = self.pool.id(("c", p))  # p has no break <=> one chosen window, busy exactly there
        self.clauses.extend([-c, -bk] for bk in bks)
        self.clauses.append([c, *bks])
        ys = {a: self.pool.id(("y", p, a)) for a in windows}
        self.clauses.append([-c, *ys.values()])
        self.clauses.extend([-a, -b] for a, b in itertools.combinations(ys.values(), 2))
        for a, y in ys.items():
            self.clauses.append([-y, c])
            for s in range(inst.n_slots):
                if a <= s < a + n:
                    self.clauses.append([-y, busy[s]] if s in busy else [-y])
                elif s in busy:
                    self.clauses.append([-y, -busy[s]])

    def slots(self, model: list[int]) -> list[int]:
        """The slot of every meeting in a model."""
        true = {lit for lit in model if lit > 0}
        return [next(s for s, v in xs.items() if v in true) for xs in self.x]


class SatSearch:
    """Ask a SAT solver, in a background thread, for a schedule with at most `target()` breaks; raise K on UNSAT.

    Args:
        inst: the instance.
        windows: the participants' feasible windows.
        target: the current proven lower bound (polled before each call).
        deadline: `time.monotonic()` time by which the search ends on its own.
    """

    def __init__(self, inst: Instance, windows: list[list[int]], *, target: Callable[[], int], deadline: float) -> None:
        self.inst = inst
        self.windows = windows
        self.target = target
        self.deadline = deadline
        self.best: tuple[int, list[int]] | None = None
        self.lower_bound = 0
        # the cap "at most d breaks each" equals the rule max - min <= d when someone has at most one meeting
        self.proves_bound = inst.fairness is None or any(len(m) < 2 for m in inst.meetings_of())
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._solver: Solver | None = None
        self._thread = threading.Thread(target=self._run, name="roadshow-sat", daemon=True)

    def start(self) -> None:
        """Start searching in the background."""
        self._thread.start()

    def _run(self) -> None:
        try:
            enc = Encoding(self.inst, self.windows, stop=self._stopped.is_set)
        except Cancelled:
            return
        solver = Solver(name=SAT_SOLVER, bootstrap_with=enc.clauses)
        n = len(enc.breaks)
        # the totalizer counts up to a few above the bound only (all n outputs: 0.5-1.1 M clauses on the public
        # instances); it is extended when the bound passes its top
        total = ITotalizer(lits=enc.breaks, ubound=min(n, self.target() + TOTALIZER_SPAN), top_id=enc.pool.top)
        solver.append_formula(total.cnf.clauses)
        with self._lock:
            if self._stopped.is_set():
                solver.delete()
                return
            self._solver = solver
        # Glucose notices an interrupt only between restarts: up to ~1 s late on the public instances, so the
        # search asks it to stop INTERRUPT_LEAD_S before its deadline
        timer = threading.Timer(max(self.deadline - INTERRUPT_LEAD_S - time.monotonic(), 0.0), self.request_stop)
        timer.daemon = True
        timer.start()
        try:
            while not self._stopped.is_set():
                k = max(self.target(), self.lower_bound)
                bounded = k < n  # else any schedule has at most k breaks
                if bounded and k >= len(total.rhs):
                    total.increase(ubound=min(n, k + TOTALIZER_SPAN))
                    solver.append_formula(total.cnf.clauses[len(total.cnf.clauses) - total.nof_new :])
                assumptions = [-total.rhs[k]] if bounded else []  # rhs[k]: more than k breaks
                answer = solver.solve_limited(assumptions=assumptions, expect_interrupt=True)
                if answer is None:  # interrupted
                    return
                if answer:
                    slots = enc.slots(solver.get_model())
                    self.best = (self._count(slots), slots)
                    return
                if not bounded or not self.proves_bound:
                    return  # no schedule under the cap at all, or the cap is stricter than the rule
                self.lower_bound = k + 1
        finally:
            timer.cancel()
            with self._lock:
                self._solver = None
            solver.delete()

    def _count(self, slots: list[int]) -> int:
        masks = [0] * self.inst.n_participants
        for k, s in enumerate(slots):
            for p in self.inst.meetings[k]:
                masks[p] |= 1 << s
        return sum(max((m & ~(m << 1)).bit_count() - 1, 0) for m in masks)

    def done(self) -> bool:
        """Whether the search has finished."""
        return not self._thread.is_alive()

    def wait(self, timeout: float) -> None:
        """Wait up to `timeout` seconds for the search to finish."""
        if self._thread.ident is not None:
            self._thread.join(max(timeout, 0.0))

    def request_stop(self) -> None:
        """Ask the search to stop without waiting (a build in progress is abandoned, a SAT call interrupted)."""
        self._stopped.set()
        with self._lock:
            if self._solver is not None:
                self._solver.interrupt()
