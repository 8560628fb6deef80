"""A compact, index-based view of a validated Problem that the solver works on.

Participants and slots become 0-based integers; each meeting gets the slots it may use (its session,
minus the slots any of its participants is unavailable, or just its locked slot).
"""

from __future__ import annotations

import msgspec

from roadshow.scheduling.contract import Problem
from roadshow.scheduling.validate import session_slots


class Instance(msgspec.Struct, frozen=True):
    """Index form of a problem: `meetings[k]` lists participant indices, `domains[k]` 0-based slots."""

    n_slots: int
    tables: int
    fairness: int | None
    n_participants: int
    meetings: list[tuple[int, ...]]
    domains: list[list[int]]
    locked: list[int | None]

    def meetings_of(self) -> list[list[int]]:
        """For each participant, the indices of its meetings."""
        out: list[list[int]] = [[] for _ in range(self.n_participants)]
        for k, members in enumerate(self.meetings):
            for p in members:
                out[p].append(k)
        return out


def to_instance(problem: Problem) -> Instance:
    """Build the index form of a (validated) problem."""
    index = {p.id: i for i, p in enumerate(problem.participants)}
    unavailable = [set(p.unavailable) for p in problem.participants]
    meetings: list[tuple[int, ...]] = []
    domains: list[list[int]] = []
    locked: list[int | None] = []
    for meeting in problem.meetings:
        members = tuple(index[pid] for pid in meeting.participants)
        blocked = set().union(*(unavailable[p] for p in members))
        if meeting.slot is not None:
            slots = [meeting.slot] if meeting.slot not in blocked else []
        else:
            slots = [s for s in session_slots(problem, meeting.session) if s not in blocked]
        meetings.append(members)
        domains.append([s - 1 for s in slots])
        locked.append(None if meeting.slot is None else meeting.slot - 1)
    return Instance(
        n_slots=problem.slots,
        tables=problem.tables,
        fairness=problem.fairness,
        n_participants=len(problem.participants),
        meetings=meetings,
        domains=domains,
        locked=locked,
    )
