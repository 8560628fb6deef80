"""Inputs of fit scoring: enterprise profiles, institution criteria, and their array encodings.

The scoring in :mod:`matching.fit` works on column arrays, not on Structs, so that one set of
NumPy operations covers every enterprise x institution pair. Encode once per push run::

    vocab = build_vocabulary(profiles, criteria)
    model, vectors = fit_embed([p.text for p in profiles] + [c.thesis for c in criteria], policy.text)
    ents = encode_enterprises(profiles, vocab, model, policy, vectors[: len(profiles)])
    insts = encode_institutions(criteria, vocab, model, policy, vectors[len(profiles) :])

Gate rules are folded into small lookup tables indexed by an enterprise's category (province,
grade, stage), so a gate is a row gather, not a per-pair test.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import msgspec
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matching.fit_policy import FitPolicy
from matching.text import TextModel, embed

InstitutionKind = Literal["bank", "vc_pe", "guidance_fund"]
Grade = Literal["A", "B", "C", "D"]
#: 种子 / 天使 / A轮 / B轮 / Pre-IPO.
Stage = Literal["seed", "angel", "A", "B", "pre_ipo"]

GRADES: Final[tuple[Grade, ...]] = ("D", "C", "B", "A")  # ordinal: higher is better
STAGES: Final[tuple[Stage, ...]] = ("seed", "angel", "A", "B", "pre_ipo")
_NO_SET: frozenset[str] = frozenset()


class EnterpriseProfile(msgspec.Struct, frozen=True, kw_only=True):
    """What fit scoring needs to know about one pool enterprise."""

    id: str
    province: str
    chains: frozenset[str] = _NO_SET
    consent: bool = False
    #: Financing need in yuan.
    financing_need: float | None = None
    grade: Grade | None = None
    #: Patent value degree 0-100 (from valuation).
    value_degree: float | None = None
    #: Revenue growth as a fraction (0.35 = +35%).
    growth: float | None = None
    pool_status: str | None = None
    stage: Stage | None = None
    #: Business scope and patent titles, concatenated.
    text: str = ""


class InstitutionCriteria(msgspec.Struct, frozen=True, kw_only=True):
    """An approved bank or fund and its criteria; empty sets mean "no restriction"."""

    id: str
    name: str
    kind: InstitutionKind
    provinces: frozenset[str] = _NO_SET
    chains: frozenset[str] = _NO_SET
    #: Loan range (banks) or ticket range (funds) in yuan; None = open on that side.
    amount_min: float | None = None
    amount_max: float | None = None
    min_grade: Grade | None = None
    stages: frozenset[Stage] = frozenset()
    thesis: str = ""
    #: Guidance funds: provinces the fund must invest in (a hard gate); ignored for other kinds.
    region_mandate: frozenset[str] = _NO_SET


class Vocabulary(msgspec.Struct, frozen=True):
    """Index of provinces and chains seen in one run."""

    provinces: tuple[str, ...]
    chains: tuple[str, ...]


def build_vocabulary(profiles: Sequence[EnterpriseProfile], criteria: Sequence[InstitutionCriteria]) -> Vocabulary:
    """Collect the provinces and chains named by either side, sorted."""
    provinces = {p.province for p in profiles} | {x for c in criteria for x in c.provinces | c.region_mandate}
    chains = {x for p in profiles for x in p.chains} | {x for c in criteria for x in c.chains}
    return Vocabulary(tuple(sorted(provinces)), tuple(sorted(chains)))


F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]
B8 = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class EnterpriseArrays:
    """Enterprise columns (length E). Category indices address the institution tables' rows."""

    ids: tuple[str, ...]
    province: I32  # row of InstitutionArrays.province_ok; non-consenting -> the all-false row
    chains: F32  # (E, C + 1) membership; the last column is 1 for everyone (open institutions)
    chain_bits: npt.NDArray[np.unsignedinteger[Any]] | None  # the same as bit masks when C + 1 <= 64
    need: F64  # yuan, NaN unknown
    log_need: F32  # ln(need), NaN unknown
    grade: I32  # row of grade_ok: 0..3 = D..A, 4 = unknown
    stage: I32  # row of stage_score: 0..4, 5 = unknown
    value_degree: F32  # raw 0-100, NaN unknown
    growth: F32  # raw fraction, NaN unknown
    pool_status: tuple[str | None, ...]
    static: F32  # per-enterprise part of the soft score (value, growth, pool), weights applied
    components: F32  # (E, 3) unweighted value, growth, pool components in [0, 1]
    text: sp.csr_matrix
    policy_version: str


@dataclass(frozen=True, slots=True)
class InstitutionArrays:
    """Institution columns (length I) and gate/score lookup tables (rows x I)."""

    ids: tuple[str, ...]
    names: tuple[str, ...]
    kinds: tuple[InstitutionKind, ...]
    province_ok: B8  # (P + 2, I): provinces, unknown province, no consent
    chain_ok: F32  # (C + 1, I): chains, then "open"
    chain_bits: npt.NDArray[np.unsignedinteger[Any]] | None  # the same as bit masks when C + 1 <= 64
    has_chains: B8  # (I,)
    amount_min: F64  # NaN open
    amount_max: F64
    amount_center: F32  # affine amount-fit parameters, see matching.fit
    amount_inv_half: F32
    amount_top: F32
    amount_drop: F32
    range_open: B8  # no bound at all
    grade_ok: B8  # (5, I)
    stage_score: F32  # (6, I) stage component
    text: sp.csr_matrix
    policy_version: str


def _bits(membership: F32) -> npt.NDArray[np.unsignedinteger[Any]] | None:
    """Pack a 0/1 membership matrix (rows x columns) into one unsigned integer per row, if it fits.

    A bitwise AND of two packed sets replaces a matrix product in the chain gate.
    """
    width = membership.shape[1]
    dtype = next((d for d in (np.uint8, np.uint16, np.uint32, np.uint64) if np.dtype(d).itemsize * 8 >= width), None)
    if dtype is None:
        return None
    weights = np.left_shift(np.ones(width, np.uint64), np.arange(width, dtype=np.uint64))
    packed: npt.NDArray[np.unsignedinteger[Any]] = (
        (membership.astype(bool) * weights).sum(axis=1, dtype=np.uint64).astype(dtype)
    )
    return packed


def _nan(x: float | None) -> float:
    return math.nan if x is None else float(x)


def encode_enterprises(
    profiles: Sequence[EnterpriseProfile],
    vocab: Vocabulary,
    model: TextModel,
    policy: FitPolicy,
    text: sp.csr_matrix | None = None,
) -> EnterpriseArrays:
    """Turn profiles into the arrays :func:`matching.fit.score_matrix` consumes.

    ``text`` is the profiles' texts already embedded with ``model`` (as :func:`matching.text.fit_embed`
    returns them); they are embedded here otherwise.
    """
    n_prov, n_chain = len(vocab.provinces), len(vocab.chains)
    prov_index = {p: i for i, p in enumerate(vocab.provinces)}
    chain_index = {c: i for i, c in enumerate(vocab.chains)}
    province = np.array(
        [prov_index.get(p.province, n_prov) if p.consent else n_prov + 1 for p in profiles], dtype=np.int32
    )
    chains = np.zeros((len(profiles), n_chain + 1), dtype=np.float32)
    chains[:, n_chain] = 1.0
    member = [[chain_index[c] for c in p.chains if c in chain_index] for p in profiles]
    chains[np.repeat(np.arange(len(profiles)), [len(m) for m in member]), [c for m in member for c in m]] = 1.0
    need = np.array([_nan(p.financing_need) for p in profiles], dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_need = np.log(np.where(need > 0, need, np.nan)).astype(np.float32)
    grade = np.array([GRADES.index(p.grade) if p.grade else len(GRADES) for p in profiles], dtype=np.int32)
    stage = np.array([STAGES.index(p.stage) if p.stage else len(STAGES) for p in profiles], dtype=np.int32)
    value = np.array([_nan(p.value_degree) for p in profiles], dtype=np.float32)
    growth = np.array([_nan(p.growth) for p in profiles], dtype=np.float32)
    pool = np.array([policy.pool_status_scores.get(p.pool_status or "", 0.0) for p in profiles], dtype=np.float32)
    components = np.stack(
        [
            np.nan_to_num(np.clip(value / 100.0, 0.0, 1.0)),
            np.nan_to_num(np.clip(growth / policy.growth_full_at, 0.0, 1.0)),
            pool,
        ],
        axis=1,
    ).astype(np.float32)
    w = policy.weights
    scale = 100.0 / sum(w.as_tuple())
    static = (components @ np.array([w.value, w.growth, w.pool], dtype=np.float32) * scale).astype(np.float32)
    return EnterpriseArrays(
        ids=tuple(p.id for p in profiles),
        province=province,
        chains=chains,
        chain_bits=_bits(chains),
        need=need,
        log_need=log_need,
        grade=grade,
        stage=stage,
        value_degree=value,
        growth=growth,
        pool_status=tuple(p.pool_status for p in profiles),
        static=static,
        components=components,
        text=embed(model, [p.text for p in profiles]) if text is None else text,
        policy_version=policy.version,
    )


def _province_table(criteria: Sequence[InstitutionCriteria], vocab: Vocabulary) -> B8:
    table = np.zeros((len(vocab.provinces) + 2, len(criteria)), dtype=bool)
    for col, c in enumerate(criteria):
        allowed = set(vocab.provinces) if not c.provinces else set(c.provinces)
        mandate = c.region_mandate if c.kind == "guidance_fund" else _NO_SET
        if mandate:
            allowed &= mandate
        table[: len(vocab.provinces), col] = [p in allowed for p in vocab.provinces]
        # A province outside the run's vocabulary passes only a fully open institution.
        table[len(vocab.provinces), col] = not c.provinces and not mandate
    return table  # the last row (no consent) stays all false


def _amount_params(criteria: Sequence[InstitutionCriteria], policy: FitPolicy) -> tuple[F32, F32, F32, F32]:
    """Amount fit = top - drop * min(|ln need - centre| * inv_half, 1): 1 at the geometric centre."""
    n = len(criteria)
    center, inv_half = np.zeros(n, np.float32), np.zeros(n, np.float32)
    top = np.full(n, policy.amount_open_score, np.float32)
    drop = np.zeros(n, np.float32)
    for col, c in enumerate(criteria):
        if c.amount_min is not None and c.amount_max is not None and c.amount_min > 0:
            lo, hi = math.log(c.amount_min), math.log(c.amount_max)
            center[col] = (lo + hi) / 2
            inv_half[col] = 2 / (hi - lo) if hi > lo else 1e9
            top[col], drop[col] = 1.0, 1.0 - policy.amount_edge_score
    return center, inv_half, top, drop


def encode_institutions(
    criteria: Sequence[InstitutionCriteria],
    vocab: Vocabulary,
    model: TextModel,
    policy: FitPolicy,
    text: sp.csr_matrix | None = None,
) -> InstitutionArrays:
    """Turn institution criteria into gate tables and amount parameters.

    ``text`` is the theses already embedded with ``model``; they are embedded here otherwise.

    Raises:
        ValueError: If an amount range has its minimum above its maximum.
    """
    for c in criteria:
        if c.amount_min is not None and c.amount_max is not None and c.amount_min > c.amount_max:
            raise ValueError(f"institution {c.id}: amount_min above amount_max")
    chain_index = {ch: i for i, ch in enumerate(vocab.chains)}
    chain_ok = np.zeros((len(vocab.chains) + 1, len(criteria)), dtype=np.float32)
    grade_ok = np.zeros((len(GRADES) + 1, len(criteria)), dtype=bool)
    stage_score = np.full((len(STAGES) + 1, len(criteria)), policy.stage_neutral_score, dtype=np.float32)
    for col, c in enumerate(criteria):
        if c.chains:
            chain_ok[[chain_index[ch] for ch in c.chains], col] = 1.0
        else:
            chain_ok[-1, col] = 1.0
        floor = GRADES.index(c.min_grade) if c.min_grade else 0
        grade_ok[floor : len(GRADES), col] = True
        grade_ok[-1, col] = c.min_grade is None or policy.unknown_grade_passes_minimum
        if c.stages:
            stage_score[: len(STAGES), col] = [1.0 if s in c.stages else 0.0 for s in STAGES]
    center, inv_half, top, drop = _amount_params(criteria, policy)
    return InstitutionArrays(
        ids=tuple(c.id for c in criteria),
        names=tuple(c.name for c in criteria),
        kinds=tuple(c.kind for c in criteria),
        province_ok=_province_table(criteria, vocab),
        chain_ok=chain_ok,
        chain_bits=_bits(chain_ok.T),
        has_chains=np.array([bool(c.chains) for c in criteria], dtype=bool),
        amount_min=np.array([_nan(c.amount_min) for c in criteria], dtype=np.float64),
        amount_max=np.array([_nan(c.amount_max) for c in criteria], dtype=np.float64),
        amount_center=center,
        amount_inv_half=inv_half,
        amount_top=top,
        amount_drop=drop,
        range_open=np.array([c.amount_min is None and c.amount_max is None for c in criteria], dtype=bool),
        grade_ok=grade_ok,
        stage_score=stage_score,
        text=embed(model, [c.thesis for c in criteria]) if text is None else text,
        policy_version=policy.version,
    )
