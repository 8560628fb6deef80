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
        self.thesis = np.ascontiguousarray(insts.text[:, used].toarray().T, dtype=np.float32)
        self.text_gain = np.float32(w.text * scale / policy.text.full_at)
        self.text_cap = np.float32(w.text * scale)
        self.amount_top = (insts.amount_top * np.float32(w.amount * scale)).astype(np.float32)
        self.amount_drop = (insts.amount_drop * np.float32(-w.amount * scale)).astype(np.float32)
        self.stage = (insts.stage_score * np.float32(w.stage * scale)).astype(np.float32)
        self.lo = np.where(np.isnan(insts.amount_min), -np.inf, insts.amount_min)
        self.hi = np.where(np.isnan(insts.amount_max), np.inf, insts.amount_max)
        self.unknown_need_ok = insts.range_open | policy.unknown_need_passes_range


def _score_block(rows: slice, ents: EnterpriseArrays, insts: InstitutionArrays, plan: _Plan, out: FitResult) -> None:
    sim = plan.ent_text[rows] @ plan.thesis
    out.similarity[rows] = sim
    score = out.scores[rows]
    np.multiply(sim, plan.text_gain, out=score)
    np.minimum(score, plan.text_cap, out=score)
    # amount fit, affine in |ln need - centre|; unknown need earns nothing
    dist = ents.log_need[rows, None] - insts.amount_center[None, :]
    np.abs(dist, out=dist)
    dist *= insts.amount_inv_half
    np.minimum(dist, 1.0, out=dist)
    dist *= plan.amount_drop
    dist += plan.amount_top
    unknown = np.isnan(ents.log_need[rows])
    dist[unknown] = 0.0
    score += dist
    score += ents.static[rows, None]
    score += plan.stage[ents.stage[rows]]
    gate = insts.province_ok[ents.province[rows]]
    gate &= insts.grade_ok[ents.grade[rows]]
    if ents.chain_bits is not None and insts.chain_bits is not None:
        gate &= (ents.chain_bits[rows, None] & insts.chain_bits[None, :]) != 0
    else:
        gate &= (ents.chains[rows] @ insts.chain_ok) > 0
    need = ents.need[rows, None]
    in_range = (need >= plan.lo) & (need <= plan.hi)
    in_range[unknown] = plan.unknown_need_ok
    gate &= in_range
    out.eligible[rows] = gate
    np.copyto(score, np.float32(-np.inf), where=~gate)


def score_matrix(
    ents: EnterpriseArrays, insts: InstitutionArrays, policy: FitPolicy, workers: int = 1, block_rows: int = 1024
) -> FitResult:
    """Score every enterprise x institution pair.

    Args:
        ents: Encoded enterprises (:func:`matching.fit_inputs.encode_enterprises`).
        insts: Encoded institutions, same vocabulary and text model.
        policy: Weights and settings (the same version used to encode).
        workers: Threads over row blocks (1 = the calling thread only).
        block_rows: Enterprises per block; blocks keep temporaries cache-sized.

    Returns:
        Scores (``-inf`` where a gate fails), the gate mask and the text similarity.

    Raises:
        ValueError: If the arrays were encoded under another policy version.
    """
    if not ents.policy_version == insts.policy_version == policy.version:
        raise ValueError("enterprises, institutions and policy must share one policy version")
    n_e, n_i = len(ents.ids), len(insts.ids)
    out = FitResult(
        scores=np.empty((n_e, n_i), np.float32),
        eligible=np.empty((n_e, n_i), bool),
        similarity=np.empty((n_e, n_i), np.float32),
        policy_version=policy.version,
    )
    plan = _Plan(ents, insts, policy)
    blocks = [slice(s, min(s + block_rows, n_e)) for s in range(0, n_e, block_rows)]
    if workers <= 1:
        for rows in blocks:
            _score_block(rows, ents, insts, plan, out)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda rows: _score_block(rows, ents, insts, plan, out), blocks))
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
        block = np.ascontiguousarray(result.scores[:, start : start + block_cols].T)
        for offset, row in enumerate(block):
            picked = _best(row, n)
            i = start + offset
            count[i] = picked.size
            enterprise[i, : picked.size] = picked
            score[i, : picked.size] = row[picked]
    return TopLists(enterprise=enterprise, score=score, count=count)


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
