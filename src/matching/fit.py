"""Fit scoring: every enterprise x institution pair at once — hard gates, a 0-100 soft score, top N.

Usage::

    result = score_matrix(ents, insts, policy)          # arrays from matching.fit_inputs
    top = top_n(result, 200)                            # best 200 eligible per institution
    reasons = explain_top(ents, insts, result, top, vocab, policy, lang="zh")

``result.scores`` is ``(n_enterprises, n_institutions)`` float32: the soft score where every gate
passes and ``-inf`` elsewhere; ``result.eligible`` is the gate mask. The soft score is

    100 / sum(w) * (w_text * min(cos / full_at, 1) + w_amount * amount_fit + w_value * value/100
                    + w_growth * min(growth / growth_full_at, 1) + w_pool * pool + w_stage * stage)

computed block by block over enterprise rows (optionally on several threads: NumPy and SciPy
release the GIL in these kernels), with gates as row gathers from the institution tables.
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from matching.fit_inputs import EnterpriseArrays, InstitutionArrays
from matching.fit_policy import FitPolicy

COMPONENTS: Final[tuple[str, ...]] = ("text", "amount", "value", "growth", "pool", "stage")


@dataclass(frozen=True, slots=True)
class FitResult:
    """Scores of all pairs, the gate mask and the text similarity (all ``(E, I)``)."""

    scores: npt.NDArray[np.float32]
    eligible: npt.NDArray[np.bool_]
    similarity: npt.NDArray[np.float32]
    policy_version: str


@dataclass(frozen=True, slots=True)
class TopLists:
    """Per institution, the best eligible enterprises, best first; ``-1`` pads short lists."""

    enterprise: npt.NDArray[np.int32]  # (I, n)
    score: npt.NDArray[np.float32]  # (I, n), -inf where padded
    count: npt.NDArray[np.int32]  # (I,) eligible rows in each list


class _Plan:
    """Per-run constants shared by the blocks (weights folded into the tables)."""

    def __init__(self, ents: EnterpriseArrays, insts: InstitutionArrays, policy: FitPolicy) -> None:
        w = policy.weights
        scale = 100.0 / sum(w.as_tuple())
        used = np.flatnonzero(np.diff(insts.text.tocsc().indptr))  # n-grams some thesis contains
        self.ent_text = ents.text[:, used].tocsr()
        # (n-grams, institutions), C order: the transpose of a CSC matrix is CSR, which densifies row by row
        self.thesis = np.asarray(insts.text[:, used].tocsc().T.toarray(), dtype=np.float32, order="C")
        self.text_gain = np.float32(w.text * scale / policy.text.full_at)
        self.text_cap = np.float32(w.text * scale)
        self.amount_top = (insts.amount_top * np.float32(w.amount * scale)).astype(np.float32)
        self.amount_drop = (insts.amount_drop * np.float32(-w.amount * scale)).astype(np.float32)
        self.stage = (insts.stage_score * np.float32(w.stage * scale)).astype(np.float32)
        self.lo = np.where(np.isnan(insts.amount_min), -np.inf, insts.amount_min)
        self.hi = np.where(np.isnan(insts.amount_max), np.inf, insts.amount_max)
        self.unknown_need_ok = insts.range_open | policy.unknown_need_passes_range


class _Columns:
    """The institution-side tables restricted to some columns (``cols=None``: all of them).

    With ``cols`` the chain gate is already decided: they are exactly the institutions whose
    chains meet the (common) chain set of the rows scored against them.
    """

    def __init__(self, plan: _Plan, insts: InstitutionArrays, cols: npt.NDArray[np.intp] | None) -> None:
        pick: slice | npt.NDArray[np.intp] = slice(None) if cols is None else cols
        self.cols = cols
        self.thesis = plan.thesis if cols is None else np.take(plan.thesis, cols, axis=1)
        self.amount_center = insts.amount_center[pick]
        self.amount_inv_half = insts.amount_inv_half[pick]
        self.amount_top = plan.amount_top[pick]
        self.amount_drop = plan.amount_drop[pick]
        self.stage = plan.stage[:, pick]
        self.province_ok = insts.province_ok[:, pick]
        self.grade_ok = insts.grade_ok[:, pick]
        self.lo = plan.lo[pick]
        self.hi = plan.hi[pick]
        self.unknown_need_ok = plan.unknown_need_ok[pick]


def _score_block(
    rows: npt.NDArray[np.intp],
    ents: EnterpriseArrays,
    insts: InstitutionArrays,
    plan: _Plan,
    view: _Columns,
    out: FitResult,
) -> None:
    sim = plan.ent_text[rows] @ view.thesis
    score = np.multiply(sim, plan.text_gain)
    np.minimum(score, plan.text_cap, out=score)
    # amount fit, affine in |ln need - centre|; unknown need earns nothing
    dist = ents.log_need[rows, None] - view.amount_center[None, :]
    np.abs(dist, out=dist)
    dist *= view.amount_inv_half
    np.minimum(dist, 1.0, out=dist)
    dist *= view.amount_drop
    dist += view.amount_top
    unknown = np.isnan(ents.log_need[rows])
    dist[unknown] = 0.0
    score += dist
    score += ents.static[rows, None]
    score += view.stage[ents.stage[rows]]
    gate = view.province_ok[ents.province[rows]]
    gate &= view.grade_ok[ents.grade[rows]]
    if view.cols is None:
        if ents.chain_bits is not None and insts.chain_bits is not None:
            gate &= (ents.chain_bits[rows, None] & insts.chain_bits[None, :]) != 0
        else:
            gate &= (ents.chains[rows] @ insts.chain_ok) > 0
    need = ents.need[rows, None]
    in_range = (need >= view.lo) & (need <= view.hi)
    in_range[unknown] = view.unknown_need_ok
    gate &= in_range
    np.copyto(score, np.float32(-np.inf), where=~gate)
    if view.cols is None:
        out.similarity[rows] = sim
        out.eligible[rows] = gate
        out.scores[rows] = score
    else:  # flat positions: cheaper than an open-mesh (np.ix_) assignment, once for all three
        flat = (rows[:, None] * out.scores.shape[1] + view.cols[None, :]).reshape(-1)
        out.similarity.reshape(-1)[flat] = sim.reshape(-1)
        out.eligible.reshape(-1)[flat] = gate.reshape(-1)
        out.scores.reshape(-1)[flat] = score.reshape(-1)


def _groups(
    ents: EnterpriseArrays, insts: InstitutionArrays, min_rows: int
) -> list[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp] | None]]:
    """Enterprise rows that can pass some gate, grouped by chain, each with the institutions it can meet.

    Rows that fail a gate against every institution (no consent, a grade below every minimum) are
    left out: their pairs keep ``-inf``. A chain held by at least ``min_rows`` rows forms a group
    scored only against the institutions covering that chain or open to all; an enterprise in two
    chains is in both groups (the pairs the groups share get the same values twice). Enterprises
    without a chain form the group of the open institutions. The rest are scored against every
    institution with the chain gate checked pair by pair.
    """
    province_any = np.asarray(insts.province_ok.any(axis=1), dtype=bool)
    grade_any = np.asarray(insts.grade_ok.any(axis=1), dtype=bool)
    rows = np.flatnonzero(province_any[ents.province] & grade_any[ents.grade])
    if ents.chain_bits is None or insts.chain_bits is None:
        return [(rows, None)]
    n_chains = ents.chains.shape[1] - 1  # the last column is the "open" bit everyone has
    member = ents.chains[rows, :n_chains] > 0
    chainless = ~member.any(axis=1)
    out: list[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp] | None]] = []
    rest = np.zeros(rows.size, bool)
    for chain in range(n_chains + 1):
        in_group = member[:, chain] if chain < n_chains else chainless
        size = int(in_group.sum())
        if size == 0:
            continue
        if size < min_rows:
            rest |= in_group
            continue
        bits = (1 << chain) | (1 << n_chains)
        out.append((rows[in_group], np.flatnonzero(insts.chain_bits & insts.chain_bits.dtype.type(bits))))
    if rest.any():
        out.append((rows[rest], None))
    return out


def score_matrix(
    ents: EnterpriseArrays,
    insts: InstitutionArrays,
    policy: FitPolicy,
    workers: int = 1,
    block_rows: int = 1024,
    min_group_rows: int = 256,
) -> FitResult:
    """Score every enterprise x institution pair.

    Pairs that fail the consent or chain gate are not computed: enterprises are grouped by chain
    and each group is scored against the institutions covering that chain (see ``_groups``).

    Args:
        ents: Encoded enterprises (:func:`matching.fit_inputs.encode_enterprises`).
        insts: Encoded institutions, same vocabulary and text model.
        policy: Weights and settings (the same version used to encode).
        workers: Threads over row blocks (1 = the calling thread only).
        block_rows: Enterprises per block; blocks keep temporaries cache-sized.
        min_group_rows: Smallest chain group scored against its own institutions only.

    Returns:
        Scores (``-inf`` where a gate fails), the gate mask and the text similarity (computed for
        every pair that passes the consent and chain gates; 0 for the others).

    Raises:
        ValueError: If the arrays were encoded under another policy version.
    """
    if not ents.policy_version == insts.policy_version == policy.version:
        raise ValueError("enterprises, institutions and policy must share one policy version")
    n_e, n_i = len(ents.ids), len(insts.ids)
    out = FitResult(
        scores=np.full((n_e, n_i), -np.inf, np.float32),
        eligible=np.zeros((n_e, n_i), bool),
        similarity=np.zeros((n_e, n_i), np.float32),
        policy_version=policy.version,
    )
    if n_e == 0 or n_i == 0:
        return out
    plan = _Plan(ents, insts, policy)
    tasks = []
    for rows, cols in _groups(ents, insts, min_group_rows):
        view = _Columns(plan, insts, cols)
        tasks += [(rows[s : s + block_rows], view) for s in range(0, rows.size, block_rows)]
    if workers <= 1 or len(tasks) <= 1:
        for rows, view in tasks:
            _score_block(rows, ents, insts, plan, view, out)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda task: _score_block(task[0], ents, insts, plan, task[1], out), tasks))
    return out


def top_n(result: FitResult, n: int, block_cols: int = 256) -> TopLists:
    """Select the ``n`` best eligible enterprises of each institution.

    Only eligible (finite) scores are ranked, so the cost follows the number of eligible pairs.
    Ties are broken by enterprise index, so a re-run on the same data gives the same lists.

    Args:
        result: Output of :func:`score_matrix`.
        n: List length.
        block_cols: Institutions handled per block (each block is transposed once).

    Returns:
        Indices and scores, best first, padded with ``-1`` / ``-inf``.
    """
    if n < 0:
        raise ValueError(f"list length must be >= 0, got {n}")
    n_i = result.scores.shape[1]
    enterprise = np.full((n_i, n), -1, np.int32)
    score = np.full((n_i, n), -np.inf, np.float32)
    count = np.zeros(n_i, np.int32)
    for start in range(0, n_i, block_cols):
        block = _transposed(result.scores[:, start : start + block_cols])
        for offset, row in enumerate(block):
            picked = _best(row, n)
            i = start + offset
            count[i] = picked.size
            enterprise[i, : picked.size] = picked
            score[i, : picked.size] = row[picked]
    return TopLists(enterprise=enterprise, score=score, count=count)


def _transposed(columns: npt.NDArray[np.float32], tile: int = 128) -> npt.NDArray[np.float32]:
    """``columns.T`` as a C-contiguous array, copied in row tiles that stay in cache (~2.5x a plain copy)."""
    out = np.empty(columns.shape[::-1], np.float32)
    for start in range(0, columns.shape[0], tile):
        out[:, start : start + tile] = columns[start : start + tile].T
    return out


def _best(row: npt.NDArray[np.float32], n: int) -> npt.NDArray[np.intp]:
    """Indices of the ``n`` best finite values of ``row``, best first, ties by lower index."""
    idx = np.flatnonzero(row > -np.inf)
    vals = row[idx]
    if n == 0:
        return idx[:0]
    if idx.size > n:
        cut = np.partition(vals, idx.size - n)[idx.size - n]
        above = idx[vals > cut]
        at = idx[vals == cut][: n - above.size]  # keep the lowest indices among a tie at the cut
        idx = np.concatenate([above, at])
        vals = row[idx]
    return idx[np.lexsort((idx, -vals))]
