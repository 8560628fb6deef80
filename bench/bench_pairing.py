"""Pairing benchmark: 300 enterprises x 500 investor sign-ups, about 5,000 meetings.

Target (QUALITY.md): <= 2 s. Baseline in the same run: the same problem as a linear programme
solved by SciPy/HiGHS (the alternative the architecture names); its optimum must agree.
"""

import random
import time

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from roadshow.pairing import (
    DEFAULT_PAIRING_POLICY,
    PairCandidate,
    PairingEnterprise,
    PairingInvestor,
    PairingPolicy,
    pair,
    pair_value,
)


def make_event(
    n_ent: int = 300, n_inv: int = 500, seed: int = 7
) -> tuple[list[PairingEnterprise], list[PairingInvestor], list[PairCandidate]]:
    """A dense event: every pair is a candidate; wishes and ranks as a busy roadshow has them."""
    rng = random.Random(seed)
    enterprises = [PairingEnterprise(id=f"e{i}", max_meetings=rng.randint(12, 24)) for i in range(n_ent)]
    investors = [
        PairingInvestor(id=f"v{j}", institution_id=f"inst{rng.randrange(220)}", max_meetings=rng.randint(8, 12))
        for j in range(n_inv)
    ]
    popularity = [rng.random() ** 2 for _ in range(n_ent)]  # a few enterprises everybody wants
    candidates = []
    for v in investors:
        wishes = {}
        for e in rng.sample(range(n_ent), 60):
            wishes[e] = rng.choices(["must_meet", "meet", "no_thanks"], weights=[1 + 4 * popularity[e], 3, 2])[0]
        for e in range(n_ent):
            candidates.append(
                PairCandidate(
                    enterprise_id=f"e{e}",
                    investor_id=v.id,
                    investor_wish=wishes.get(e, "none"),  # type: ignore[arg-type]
                    enterprise_rank=rng.randint(1, 15) if rng.random() < 0.05 else None,
                    fit=round(rng.uniform(0, 100) * (0.5 + popularity[e] / 2), 1),
                )
            )
    return enterprises, investors, candidates


def lp_objective(
    enterprises: list[PairingEnterprise],
    investors: list[PairingInvestor],
    candidates: list[PairCandidate],
    policy: PairingPolicy,
) -> tuple[float, float]:
    """Solve the same selection as an LP with HiGHS; return (floor units, scaled value) and seconds."""
    t0 = time.perf_counter()
    e_index = {e.id: i for i, e in enumerate(enterprises)}
    v_index = {v.id: i for i, v in enumerate(investors)}
    kept = [c for c in candidates if c.investor_wish != "no_thanks"]
    pe = np.array([e_index[c.enterprise_id] for c in kept])
    pv = np.array([v_index[c.investor_id] for c in kept])
    value = np.round(np.array([pair_value(c, policy) for c in kept]) * policy.resolution)
    inst = {}
    v_inst = np.array([inst.setdefault(v.institution_id, len(inst)) for v in investors])
    n_p, n_e, n_v = len(kept), len(enterprises), len(investors)
    e_cap = np.array([e.max_meetings for e in enterprises])
    floor = np.minimum(e_cap, policy.floor_k)
    bonus = 1 + value.clip(0).sum()
    cols = np.arange(n_p)
    key = v_inst[pv] * n_e + pe
    _, key_row = np.unique(key, return_inverse=True)
    blocks = [
        sp.csr_matrix((np.ones(n_p), (pv, cols)), shape=(n_v, n_p + n_e)),  # investor caps
        sp.csr_matrix((np.ones(n_p), (pe, cols)), shape=(n_e, n_p + n_e)),  # enterprise caps
        sp.csr_matrix((np.ones(n_p), (key_row, cols)), shape=(key_row.max() + 1, n_p + n_e)),  # institution rule
        sp.hstack([-sp.csr_matrix((np.ones(n_p), (pe, cols)), shape=(n_e, n_p)), sp.identity(n_e)]),  # f_e <= meetings
    ]
    a_ub = sp.vstack(blocks).tocsr()
    b_ub = np.concatenate([[v.max_meetings for v in investors], e_cap, np.ones(key_row.max() + 1), np.zeros(n_e)])
    c = -np.concatenate([value, np.full(n_e, bonus)])
    bounds = np.column_stack([np.zeros(n_p + n_e), np.concatenate([np.ones(n_p), floor])])
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    assert res.status == 0, res.message
    x = res.x
    return float(x[n_p:].sum()), float(value @ x[:n_p]), time.perf_counter() - t0


def main() -> None:
    policy = DEFAULT_PAIRING_POLICY
    enterprises, investors, candidates = make_event()
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        result = pair(enterprises, investors, candidates, policy)
        times.append(time.perf_counter() - t0)
    t_flow = sorted(times)[1]
    meetings = result.meetings
    floor_units = sum(
        min(n, policy.floor_k)
        for n in np.bincount([int(m.enterprise_id[1:]) for m in meetings], minlength=len(enterprises))
    )
    scaled = sum(round(m.score * policy.resolution) for m in meetings)
    lp_floor, lp_value, t_lp = lp_objective(enterprises, investors, candidates, policy)
    print(
        f"pairing {len(enterprises)} enterprises x {len(investors)} investor sign-ups, {len(candidates):,} candidate"
        f" pairs: {len(meetings):,} meetings in {t_flow:.2f} s (median of 3, min-cost flow incl. input"
        f" conversion; target <= 2 s) | baseline HiGHS LP {t_lp:.2f} s, ratio {t_flow / t_lp:.2f}x"
    )
    print(
        f"  objective: floor units {floor_units} (LP {lp_floor:.0f}), value {scaled:,} (LP {lp_value:,.0f});"
        f" enterprises below the floor of {policy.floor_k}: {len(result.below_floor)}"
    )


if __name__ == "__main__":
    main()
