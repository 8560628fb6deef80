"""Roadshow pairing: who meets whom, as a capacitated bipartite selection solved by min-cost flow.

Usage::

    result = pair(enterprises, investors, candidates, DEFAULT_PAIRING_POLICY)
    for m in result.meetings: ...   # enterprise_id, investor_id, score

The network (costs are negated, scaled values; capacities in brackets)::

    source -> investor [max_meetings]
    investor -> (institution, enterprise) [1], cost -value(pair)    one meeting per pair
    (institution, enterprise) -> enterprise [1]                       one investor per institution
    enterprise -> sink: first k units [k], cost -floor_bonus; rest [max - k], cost 0
    source -> sink bypass [all]                                       meetings are optional

``floor_bonus`` exceeds the value of any whole solution, so the optimum first maximises the
number of floor units (every pitching enterprise gets ``k`` meetings whenever the sign-ups allow
it), then the total value. A pair's value is its investor's wish (must meet >> meet), plus the
enterprise's rank of the investor (a little less than a "meet"), plus the fit score; the weights
are :class:`PairingPolicy` data. "No thanks" pairs and pairs not listed are never chosen.
The flow polytope is integral, so the optimum is a set of whole meetings.
"""

from collections.abc import Sequence
from typing import Literal

import msgspec
import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

InvestorWish = Literal["must_meet", "meet", "no_thanks", "none"]
I64 = npt.NDArray[np.int64]


class PairingPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """Versioned weights of the pairing objective (values in points)."""

    version: str = "2024.1"
    must_meet: float = 100.0
    meet: float = 40.0
    no_wish: float = 0.0
    #: Value of the enterprise's first-ranked investor; slightly below ``meet`` on purpose.
    rank_top: float = 35.0
    #: Rank at which the enterprise's ranking stops adding value (linear decay).
    rank_horizon: int = 10
    #: Points per fit-score point (fit is 0-100).
    fit_per_point: float = 0.2
    #: Meetings every pitching enterprise should get when sign-ups allow.
    floor_k: int = 3
    #: Values are scaled to integers with this factor for the flow solver.
    resolution: int = 100

    def __post_init__(self) -> None:
        if self.floor_k < 0 or self.resolution < 1 or self.rank_horizon < 1:
            raise ValueError("pairing policy needs floor_k >= 0, resolution >= 1 and rank_horizon >= 1")


DEFAULT_PAIRING_POLICY = PairingPolicy()


class PairingEnterprise(msgspec.Struct, frozen=True, kw_only=True):
    """A pitching enterprise and the most meetings it wants."""

    id: str
    max_meetings: int


class PairingInvestor(msgspec.Struct, frozen=True, kw_only=True):
    """An investor sign-up (a person of an institution) and its most meetings."""

    id: str
    institution_id: str
    max_meetings: int


class PairCandidate(msgspec.Struct, frozen=True, kw_only=True):
    """A pair that may meet, with both sides' wishes and the fit score."""

    enterprise_id: str
    investor_id: str
    investor_wish: InvestorWish = "none"
    #: The enterprise's rank of this investor, 1 = most wanted.
    enterprise_rank: int | None = None
    #: Fit score 0-100 from matching.
    fit: float = 0.0


class Meeting(msgspec.Struct, frozen=True, kw_only=True):
    """A chosen meeting and the value it contributes."""

    enterprise_id: str
    investor_id: str
    score: float


class PairingResult(msgspec.Struct, frozen=True, kw_only=True):
    """Chosen meetings, their total value, and the enterprises left below the floor."""

    meetings: list[Meeting]
    total_score: float
    #: Enterprise ids with fewer than min(k, their maximum) meetings.
    below_floor: list[str]
    policy_version: str


class PairingInputError(ValueError):
    """Malformed pairing input (unknown id, duplicate pair, negative maximum)."""


def pair_value(candidate: PairCandidate, policy: PairingPolicy) -> float:
    """Value of one meeting: investor wish + enterprise rank + fit (no-thanks is never valued)."""
    wish = {"must_meet": policy.must_meet, "meet": policy.meet, "none": policy.no_wish, "no_thanks": 0.0}
    rank = 0.0
    if candidate.enterprise_rank is not None and candidate.enterprise_rank >= 1:
        rank = policy.rank_top * max(0.0, 1.0 - (candidate.enterprise_rank - 1) / policy.rank_horizon)
    return wish[candidate.investor_wish] + rank + policy.fit_per_point * candidate.fit


def _validate(
    enterprises: Sequence[PairingEnterprise], investors: Sequence[PairingInvestor], candidates: Sequence[PairCandidate]
) -> None:
    for kind, items in (("enterprise", enterprises), ("investor", investors)):
        ids = [x.id for x in items]
        if len(set(ids)) != len(ids):
            raise PairingInputError(f"duplicate {kind} id")
        if any(x.max_meetings < 0 for x in items):
            raise PairingInputError(f"{kind} max_meetings must be >= 0")
    e_ids, v_ids = {e.id for e in enterprises}, {v.id for v in investors}
    seen: set[tuple[str, str]] = set()
    for c in candidates:
        if c.enterprise_id not in e_ids or c.investor_id not in v_ids:
            raise PairingInputError(f"candidate names an unknown participant: {c.enterprise_id}/{c.investor_id}")
        key = (c.enterprise_id, c.investor_id)
        if key in seen:
            raise PairingInputError(f"pair listed twice: {key[0]}/{key[1]}")
        seen.add(key)


class _Pairs(msgspec.Struct, frozen=True):
    """Candidate pairs as parallel arrays (no-thanks removed)."""

    enterprise: npt.NDArray[np.int32]
    investor: npt.NDArray[np.int32]
    value: npt.NDArray[np.float64]


def _arrays(
    enterprises: Sequence[PairingEnterprise],
    investors: Sequence[PairingInvestor],
    candidates: Sequence[PairCandidate],
    policy: PairingPolicy,
) -> _Pairs:
    e_index = {e.id: i for i, e in enumerate(enterprises)}
    v_index = {v.id: i for i, v in enumerate(investors)}
    kept = [c for c in candidates if c.investor_wish != "no_thanks"]
    return _Pairs(
        enterprise=np.array([e_index[c.enterprise_id] for c in kept], dtype=np.int32),
        investor=np.array([v_index[c.investor_id] for c in kept], dtype=np.int32),
        value=np.array([pair_value(c, policy) for c in kept], dtype=np.float64),
    )


def _solve_flow(
    e_cap: I64, v_cap: I64, v_inst: npt.NDArray[np.int32], pairs: _Pairs, policy: PairingPolicy
) -> npt.NDArray[np.bool_]:
    """Build and solve the network; return which candidate pairs are chosen."""
    n_e, n_v = e_cap.size, v_cap.size
    source, sink, first_v, first_e = 0, 1, 2, 2 + n_v
    cost = -np.round(pairs.value * policy.resolution).astype(np.int64)
    # institution-enterprise nodes, only where two investors of one institution compete
    key = v_inst[pairs.investor].astype(np.int64) * n_e + pairs.enterprise
    uniq, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    shared = counts >= 2
    mid_node = np.full(uniq.size, -1, np.int64)
    mid_node[shared] = first_e + n_e + np.arange(int(shared.sum()))
    pair_head = np.where(shared[inverse], mid_node[inverse], first_e + pairs.enterprise)
    mid_e = (uniq[shared] % n_e).astype(np.int64)
    # floor: the first k units into an enterprise carry a bonus worth more than any whole solution
    floor = np.minimum(e_cap, policy.floor_k)
    best_per_investor = np.zeros(n_v, np.int64)
    np.maximum.at(best_per_investor, pairs.investor, -cost)
    bonus = 1 + int(min((best_per_investor * v_cap).sum(), np.clip(-cost, 0, None).sum()))
    supply = int(v_cap.sum())
    e_nodes = first_e + np.arange(n_e, dtype=np.int64)
    tails = np.concatenate(
        [np.full(n_v, source), first_v + pairs.investor, mid_node[shared], e_nodes, e_nodes, [source]]
    )
    heads = np.concatenate([first_v + np.arange(n_v), pair_head, first_e + mid_e, np.full(2 * n_e, sink), [sink]])
    caps = np.concatenate([v_cap, np.ones(pairs.value.size + mid_e.size, np.int64), floor, e_cap - floor, [supply]])
    costs = np.concatenate(
        [
            np.zeros(n_v, np.int64),
            cost,
            np.zeros(mid_e.size, np.int64),
            np.full(n_e, -bonus),
            np.zeros(n_e + 1, np.int64),
        ]
    )
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps.astype(np.int64), costs.astype(np.int64)
    )
    flow.set_nodes_supplies(np.array([source, sink], np.int32), np.array([supply, -supply], np.int64))
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow did not solve: status {status}")
    chosen: npt.NDArray[np.bool_] = np.asarray(flow.flows(arcs[n_v : n_v + pairs.value.size])) > 0
    return chosen


def pair(
    enterprises: Sequence[PairingEnterprise],
    investors: Sequence[PairingInvestor],
    candidates: Sequence[PairCandidate],
    policy: PairingPolicy = DEFAULT_PAIRING_POLICY,
) -> PairingResult:
    """Choose the meetings of one roadshow event.

    Args:
        enterprises: Pitching enterprises with their maximum number of meetings.
        investors: Investor sign-ups with institution and maximum number of meetings.
        candidates: Pairs that may meet, with wishes, ranks and fit; unlisted pairs never meet.
        policy: Objective weights and the floor ``k``.

    Returns:
        The chosen meetings (sorted by enterprise, then investor input order), their total
        value and the enterprises that could not reach the floor.

    Raises:
        PairingInputError: On unknown ids, duplicate pairs or negative maxima.
    """
    _validate(enterprises, investors, candidates)
    pairs = _arrays(enterprises, investors, candidates, policy)
    e_cap = np.array([e.max_meetings for e in enterprises], dtype=np.int64)
    v_cap = np.array([v.max_meetings for v in investors], dtype=np.int64)
    inst_index: dict[str, int] = {}
    v_inst = np.array([inst_index.setdefault(v.institution_id, len(inst_index)) for v in investors], dtype=np.int32)
    if pairs.value.size and e_cap.size and v_cap.size:
        chosen = _solve_flow(e_cap, v_cap, v_inst, pairs, policy)
    else:
        chosen = np.zeros(pairs.value.size, bool)
    order = np.lexsort((pairs.investor[chosen], pairs.enterprise[chosen]))
    e_sel, v_sel, val_sel = (pairs.enterprise[chosen][order], pairs.investor[chosen][order], pairs.value[chosen][order])
    meetings = [
        Meeting(enterprise_id=enterprises[e].id, investor_id=investors[v].id, score=round(s, 6))
        for e, v, s in zip(e_sel.tolist(), v_sel.tolist(), val_sel.tolist(), strict=True)
    ]
    got = np.bincount(e_sel, minlength=len(enterprises))
    short = got < np.minimum(e_cap, policy.floor_k)
    return PairingResult(
        meetings=meetings,
        total_score=float(val_sel.sum()),
        below_floor=[enterprises[i].id for i in np.flatnonzero(short).tolist()],
        policy_version=policy.version,
    )
