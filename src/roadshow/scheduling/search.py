"""Simulated annealing over complete, hard-feasible schedules: the solver's fast source of good schedules.

The state is the slot of every meeting. Moves keep every hard constraint (domains, one meeting per
participant per slot, at most `tables` per slot): relocate one meeting, or swap two slots along a Kempe
chain (the connected meetings of two slots, as in edge-colouring timetables). The cost is
4 x breaks + idle slots inside a participant's day (a smooth guide towards closing gaps) + a heavy
penalty above the fairness cap + 1 per hinted meeting moved away from its hinted slot.
A participant's busy slots are a bitmask, so its break count is a popcount: runs of ones minus one; the cost
of a mask is memoised, and an index (participant, slot) -> meeting makes a Kempe chain one lookup per member.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Mapping

from roadshow.scheduling.instance import Instance

BREAK_WEIGHT = 4
FAIR_WEIGHT = 200
T_START = 2.4
T_END = 0.2
MEMO_LIMIT = 1 << 18  # mask costs cached at most (then the cache starts again; ~25 MB)

Move = tuple[dict[int, int], dict[int, int]]


def mask_breaks(mask: int) -> int:
    """Breaks of a busy-slot bitmask: number of runs of ones minus one (0 for an empty mask)."""
    return max((mask & ~(mask << 1)).bit_count() - 1, 0)


class Annealer:
    """Mutable schedule state, the move operators and the annealing loop.

    Args:
        inst: the instance.
        slots: a hard-feasible starting slot per meeting.
        fair_cap: the largest break count allowed per participant (None: no fairness).
        hint: meeting index -> preferred slot (moving away costs 1).
        seed: random seed (runs are reproducible for a given seed and time budget).
    """

    def __init__(
        self,
        inst: Instance,
        slots: list[int],
        *,
        fair_cap: int | None,
        hint: Mapping[int, int] | None = None,
        seed: int = 0,
    ) -> None:
        self.inst = inst
        self.rng = random.Random(seed)
        self.members = inst.meetings
        self.domains = inst.domains
        self.dom_mask = [sum(1 << s for s in dom) for dom in inst.domains]
        self.free = [k for k, dom in enumerate(inst.domains) if len(dom) > 1]
        self.fair_cap = fair_cap
        self.hint = dict(hint or {})
        self._costs: dict[int, int] = {}  # busy mask -> _pcost (masks recur: a dict hit beats recounting)
        self.reset(slots)

    def reset(self, slots: list[int]) -> None:
        """Load a schedule into the state."""
        self.slot = list(slots)
        self.mask = [0] * self.inst.n_participants
        self.load = [0] * self.inst.n_slots
        n_slots = self.inst.n_slots
        # at[p * n_slots + s]: the meeting participant p has in slot s (-1: none)
        self.at = [-1] * (self.inst.n_participants * n_slots)
        for k, s in enumerate(self.slot):
            self.load[s] += 1
            for p in self.members[k]:
                self.mask[p] |= 1 << s
                self.at[p * n_slots + s] = k
        self.brk = [mask_breaks(m) for m in self.mask]
        self.total = sum(self.brk)
        self.over = sum(1 for b in self.brk if self._over(b))
        self.moved = sum(1 for k, s in self.hint.items() if self.slot[k] != s)
        self.cost = sum(self._pcost(m) for m in self.mask) + self.moved

    def _over(self, b: int) -> bool:
        return self.fair_cap is not None and b > self.fair_cap

    def _pcost(self, mask: int) -> int:
        c = self._costs.get(mask)
        if c is None:
            if len(self._costs) >= MEMO_LIMIT:
                self._costs.clear()
            c = self._costs[mask] = self._pcost_of(mask)
        return c

    def _pcost_of(self, mask: int) -> int:
        b = mask_breaks(mask)
        if not b:
            return 0
        idle = mask.bit_length() - (mask & -mask).bit_length() + 1 - mask.bit_count()
        c = BREAK_WEIGHT * b + idle
        if self.fair_cap is not None and b > self.fair_cap:
            c += FAIR_WEIGHT * (b - self.fair_cap)
        return c

    def score(self) -> tuple[int, int, int]:
        """Lexicographic quality of the current state: (participants over the cap, breaks, hinted moved)."""
        return self.over, self.total, self.moved

    def _delta(self, moves: dict[int, int], new_masks: dict[int, int]) -> int:
        costs, mask, pcost = self._costs, self.mask, self._pcost
        d = 0
        for p, m in new_masks.items():
            c = costs.get(m)
            if c is None:
                c = pcost(m)
            c0 = costs.get(mask[p])
            if c0 is None:
                c0 = pcost(mask[p])
            d += c - c0
        if self.hint:
            for k, s in moves.items():
                want = self.hint.get(k)
                if want is not None:
                    d += (s != want) - (self.slot[k] != want)
        return d

    def _apply(self, moves: dict[int, int], new_masks: dict[int, int], delta: int) -> None:
        n_slots, at = self.inst.n_slots, self.at
        for k, s in moves.items():
            old = self.slot[k]
            want = self.hint.get(k)
            if want is not None:
                self.moved += (s != want) - (old != want)
            self.load[old] -= 1
            self.load[s] += 1
            self.slot[k] = s
            for p in self.members[k]:
                if at[p * n_slots + old] == k:  # a chain swap may already have put another meeting there
                    at[p * n_slots + old] = -1
        for k, s in moves.items():
            for p in self.members[k]:
                at[p * n_slots + s] = k
        for p, m in new_masks.items():
            b = mask_breaks(m)
            self.total += b - self.brk[p]
            self.over += self._over(b) - self._over(self.brk[p])
            self.mask[p] = m
            self.brk[p] = b
        self.cost += delta

    def propose_relocate(self, k: int) -> Move | None:
        """Move meeting k to a random other slot of its domain where all its participants are free."""
        s_old = self.slot[k]
        s_new = self.rng.choice(self.domains[k])
        if s_new == s_old or self.load[s_new] >= self.inst.tables:
            return None
        bit_new, bit_old = 1 << s_new, 1 << s_old
        new_masks = {}
        for p in self.members[k]:
            if self.mask[p] & bit_new:
                return None
            new_masks[p] = (self.mask[p] ^ bit_old) | bit_new
        return {k: s_new}, new_masks

    def propose_kempe(self, k: int) -> Move | None:
        """Swap slots s=slot[k] and a random t for the Kempe chain of meetings connected to k.

        The chain: the meetings of slots s and t connected to k through shared participants; it cannot swap when one
        of them may not take the other slot, or when the swap overfills a slot.
        """
        slot = self.slot
        s = slot[k]
        dom = self.domains[k]
        t = dom[self.rng.randrange(len(dom))]  # the stream of rng.choice, without its call
        if t == s:
            return None
        n_slots, at, dom_mask, members = self.inst.n_slots, self.at, self.dom_mask, self.members
        moves = {k: t}
        stack = [k]
        to_t = 0
        while stack:
            j = stack.pop()
            here = slot[j]
            other = t if here == s else s
            if not dom_mask[j] >> other & 1:
                return None
            to_t += here == s
            for p in members[j]:
                i = at[p * n_slots + other]
                if i >= 0 and i not in moves:
                    moves[i] = here
                    stack.append(i)
        to_s = len(moves) - to_t
        tables = self.inst.tables
        if self.load[t] + to_t - to_s > tables or self.load[s] + to_s - to_t > tables:
            return None
        pair = (1 << s) | (1 << t)
        mask = self.mask
        new_masks = {}
        for j in moves:
            for p in members[j]:
                if p not in new_masks:
                    m = mask[p]
                    new_masks[p] = m if m & pair == pair else m ^ pair  # busy in exactly one of the two: it swaps
        return moves, new_masks

    @staticmethod
    def _reached(score: tuple[int, int, int], lower_bound: Callable[[], int]) -> bool:
        over, total, moved = score
        return over == 0 and moved == 0 and total <= lower_bound()

    def run(
        self,
        deadline: float,
        *,
        lower_bound: Callable[[], int] = lambda: 0,
        stop: Callable[[], bool] = lambda: False,
    ) -> tuple[tuple[int, int, int], list[int]]:
        """Anneal from the current state until the deadline or until the best schedule is good enough.

        Good enough: fair, no hinted meeting moved, and no more breaks than `lower_bound()` (polled, since the
        bound can rise meanwhile). `stop()` is polled too (another search found an optimal schedule).

        Returns:
            The best (score, slots) seen, score as in `score()`.
        """
        best = (self.score(), list(self.slot))
        if not self.free or self._reached(best[0], lower_bound):
            return best
        rng, free = self.rng, self.free
        start = time.monotonic()
        span = max(deadline - start, 1e-3)
        temp, it = T_START, 0
        while True:
            it += 1
            if it & 255 == 0:
                now = time.monotonic()
                if now >= deadline or self._reached(best[0], lower_bound) or stop():
                    return best
                temp = T_START * (T_END / T_START) ** ((now - start) / span)
            k = free[rng.randrange(len(free))]
            prop = self.propose_kempe(k) if rng.random() < 0.5 else self.propose_relocate(k)
            if prop is None:
                continue
            delta = self._delta(*prop)
            if delta <= 0 or rng.random() < math.exp(-delta / temp):
                self._apply(*prop, delta)
                if self.score() < best[0]:
                    best = (self.score(), list(self.slot))
                    if self._reached(best[0], lower_bound):
                        return best
