"""Per-participant windows: where a participant's meetings could sit back to back.

A participant with n meetings has zero breaks exactly when its meetings fill n consecutive slots. A
window [a, a+n) is possible only if its meetings can be matched one-to-one to the window's slots
within their domains (bipartite matching). A participant with no possible window has at least one
break whatever the others do, which gives a cheap, sound lower bound.
"""

from __future__ import annotations

from roadshow.scheduling.instance import Instance


def _perfect_matching(domains: list[list[int]], lo: int, hi: int) -> bool:
    """Whether every meeting (given by its slot domain) gets its own slot in [lo, hi)."""
    owner: dict[int, int] = {}

    def augment(k: int, seen: set[int]) -> bool:
        for s in domains[k]:
            if lo <= s < hi and s not in seen:
                seen.add(s)
                if s not in owner or augment(owner[s], seen):
                    owner[s] = k
                    return True
        return False

    return all(augment(k, set()) for k in range(len(domains)))


def participant_windows(inst: Instance) -> list[list[int]]:
    """For each participant, the 0-based start slots of its feasible zero-break windows.

    Participants with fewer than two meetings get an empty list (they never have breaks).
    """
    out: list[list[int]] = []
    for mine in inst.meetings_of():
        n = len(mine)
        if n < 2:
            out.append([])
            continue
        doms = [inst.domains[k] for k in mine]
        out.append([a for a in range(inst.n_slots - n + 1) if _perfect_matching(doms, a, a + n)])
    return out


def window_lower_bound(inst: Instance, windows: list[list[int]]) -> list[int]:
    """Per participant, 1 if it has two or more meetings but no feasible window, else 0."""
    counts = [len(m) for m in inst.meetings_of()]
    return [1 if counts[p] >= 2 and not windows[p] else 0 for p in range(inst.n_participants)]
