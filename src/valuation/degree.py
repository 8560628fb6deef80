"""Value degree (价值度): indicator scores, dimension scores L/T/E, V, grade and confidence.

Each indicator is scored from data when the rule has data, else from the 1-5 declaration, else
the neutral default (reported as defaulted). Dimension score = weighted mean of its indicators;
V = Σ w_dim x dimension score with the scenario's weights; confidence = share of the total weight
scored from data or declaration. :func:`value_degrees` works on a whole batch;
:func:`value_degree_one` runs the same code on a batch of one and explains each indicator.
"""

import dataclasses
import datetime as dt
from typing import Literal

import msgspec
import numpy as np
from numpy.typing import NDArray

from valuation.batch import F64, I8, PatentBatch, PatentFacts, batch_from_facts
from valuation.codes import DIMENSIONS, GRADES, INDICATORS, Dimension, Grade
from valuation.coefficients import CoefficientSet, default_coefficients
from valuation.errors import ValuationInputError
from valuation.indicators import RULES, citations
from valuation.types import Lang

Scenario = Literal["pledge", "transaction"]
Source = Literal["data", "declared", "default"]
SOURCES: tuple[Source, ...] = ("data", "declared", "default")
# Rows per chunk: a chunk's temporaries stay in cache, which roughly halves the memory traffic.
_CHUNK = 1 << 15
# Chunks up to this many rows fill their fallbacks over the whole (rows, 27) block at once.
_BLOCK_ROWS = 4096


@dataclasses.dataclass(frozen=True, slots=True)
class ValueDegrees:
    """Value degrees of a batch; ``scores`` and ``source`` have one column per indicator."""

    scores: F64  # (n, 27)
    source: I8  # (n, 27): 0 data, 1 declared, 2 default
    L: F64
    T: F64
    E: F64
    V: F64
    grade: I8  # 0 A, 1 B, 2 C, 3 D
    confidence: F64  # 0..1

    @property
    def defaulted(self) -> NDArray[np.bool_]:
        """Boolean mask (n, 27) of the indicators that fell back to the neutral default."""
        mask: NDArray[np.bool_] = self.source == 2
        return mask

    def dimension(self, dim: Dimension) -> F64:
        """The scores of one dimension."""
        return {"L": self.L, "T": self.T, "E": self.E}[dim]


def indicator_weights(coeffs: CoefficientSet, scenario: Scenario) -> F64:
    """Overall weight of each indicator: scenario dimension weight x indicator weight (sums to 1)."""
    dims = coeffs.scenario_weights[scenario]
    return np.array([getattr(dims, d) * coeffs.indicator_weights[k] for k, d, _, _ in INDICATORS])


# Weights of the coefficient sets in use, by set and scenario (a set is never changed once stored). The set
# itself is kept with its weights, so an id is never reused for another set while its entry exists.
_WEIGHTS: dict[tuple[int, str], tuple[CoefficientSet, F64, F64, F64]] = {}


def _cached_weights(coeffs: CoefficientSet, scenario: Scenario) -> tuple[F64, F64, F64]:
    """Indicator weights, the (27, 3) dimension matrix and the declaration fallback table of a set."""
    hit = _WEIGHTS.get((id(coeffs), scenario))
    if hit is not None and hit[0] is coeffs:
        return hit[1], hit[2], hit[3]
    weights, matrix = indicator_weights(coeffs, scenario), _dimension_matrix(coeffs)
    fallback = np.array([coeffs.neutral_score, *coeffs.declared_scores])
    for array in (weights, matrix, fallback):
        array.flags.writeable = False
    if len(_WEIGHTS) > 64:
        _WEIGHTS.clear()
    _WEIGHTS[(id(coeffs), scenario)] = (coeffs, weights, matrix, fallback)
    return weights, matrix, fallback


def grade_codes(v: F64, coeffs: CoefficientSet) -> I8:
    """Grade code per value degree: 0 A (≥ A), 1 B, 2 C, 3 D (< C)."""
    g = coeffs.grade_thresholds
    return (3 - (v >= g.C).astype(np.int8) - (v >= g.B) - (v >= g.A)).astype(np.int8)


def value_degrees(batch: PatentBatch, coeffs: CoefficientSet, scenario: Scenario = "pledge") -> ValueDegrees:
    """Score every indicator of every patent and combine them.

    Args:
        batch: The patents.
        coeffs: Coefficient set (weights, rule parameters, thresholds).
        scenario: ``"pledge"`` (default) or ``"transaction"`` dimension weights.

    Returns:
        The value degrees.
    """
    if scenario not in coeffs.scenario_weights:
        raise ValuationInputError("scenario", f"must be one of {sorted(coeffs.scenario_weights)}")
    n = batch.size
    scores = np.empty((n, len(INDICATORS)), order="F")
    source = np.empty((n, len(INDICATORS)), np.int8, order="F")
    confidence = np.zeros(n)
    cited = citations(batch, coeffs)  # cohort percentiles need the whole batch
    for start in range(0, n, _CHUNK):
        stop = min(n, start + _CHUNK)
        rows = slice(start, stop)
        part = batch if stop - start == n else batch.rows(start, stop)  # a batch of one chunk needs no view
        _score_rows(part, cited[rows], coeffs, scenario, scores[rows], source[rows], confidence[rows])
    # (3, 27) @ (27, n) on the C-ordered transpose goes through BLAS; (n, 27) F-order @ (27, 3) does not.
    dims = (_cached_weights(coeffs, scenario)[1].T @ scores.T).T
    sw = coeffs.scenario_weights[scenario]
    legal, technical, economic = (np.ascontiguousarray(dims[:, k]) for k in range(3))
    v = sw.L * legal + sw.T * technical + sw.E * economic
    return ValueDegrees(scores, source, legal, technical, economic, v, grade_codes(v, coeffs), confidence)


def _score_rows(
    batch: PatentBatch, cited: F64, coeffs: CoefficientSet, scenario: Scenario, scores: F64, source: I8, confidence: F64
) -> None:
    """Fill the score, source and confidence rows of one chunk in place.

    The rules fill the score columns; the fallbacks, sources and confidence are then computed over the
    whole (rows, 27) block at once (a few calls instead of a few per indicator: small batches are
    dominated by NumPy's per-call overhead).
    """
    declared = np.asfortranarray(batch.declared)
    # Declaration 0 (none) maps to the neutral score, so one gather fills both fallbacks.
    weights, _, fallback_table = _cached_weights(coeffs, scenario)
    if batch.size > _BLOCK_ROWS:  # big chunks: column by column stays in cache and is faster
        for j, (key, _, _, _) in enumerate(INDICATORS):
            data = cited if key == "citations" else RULES[key](batch, coeffs)
            missing_j = np.isnan(data)
            defaulted_j = missing_j & (declared[:, j] == 0)
            np.copyto(scores[:, j], data)
            np.copyto(scores[:, j], fallback_table[declared[:, j]], where=missing_j)
            source[:, j] = missing_j.view(np.int8) + defaulted_j.view(np.int8)
            np.add(confidence, weights[j], out=confidence, where=~defaulted_j)
        return
    # The rules' columns copied in at once: (27, rows) in C order is (rows, 27) in Fortran order.
    scores[...] = np.array(
        [cited if key == "citations" else RULES[key](batch, coeffs) for key, _, _, _ in INDICATORS], np.float64
    ).T
    missing = np.isnan(scores)
    defaulted = missing & (declared == 0)
    np.copyto(scores, fallback_table[declared], where=missing)
    np.add(missing.view(np.int8), defaulted.view(np.int8), out=source)
    # Left-to-right running sum of the weights scored from data or a declaration: the same additions in
    # the same order as adding indicator by indicator (adding 0.0 leaves a sum unchanged), so bit-identical.
    kept = np.where(defaulted, 0.0, weights)
    confidence[:] = np.cumsum(kept, axis=1)[:, -1] if kept.shape[1] else 0.0


def _dimension_matrix(coeffs: CoefficientSet) -> F64:
    """(27, 3) matrix whose column d holds dimension d's indicator weights, normalised to sum 1."""
    m = np.zeros((len(INDICATORS), len(DIMENSIONS)))
    for j, (key, dim, _, _) in enumerate(INDICATORS):
        m[j, DIMENSIONS.index(dim)] = coeffs.indicator_weights[key]
    normalised: F64 = m / m.sum(axis=0)
    return normalised


class IndicatorScore(msgspec.Struct, frozen=True):
    """One indicator of one patent, as shown to a user."""

    key: str
    dimension: Dimension
    name: str
    score: float
    source: Source
    weight: float


class ValueDegree(msgspec.Struct, frozen=True):
    """The value degree of one patent with its explanation."""

    L: float
    T: float
    E: float
    V: float
    grade: Grade
    confidence: float
    scenario: Scenario
    coefficient_version: str
    indicators: list[IndicatorScore]


def value_degree_one(
    facts: PatentFacts,
    as_of: dt.date,
    coeffs: CoefficientSet | None = None,
    scenario: Scenario = "pledge",
    lang: Lang = "zh",
) -> ValueDegree:
    """Value degree of a single patent, through the batch code (a batch of one).

    Args:
        facts: The patent's facts.
        as_of: Valuation date.
        coeffs: Coefficient set; the shipped default when ``None``.
        scenario: Weights to use.
        lang: Language of the indicator names.

    Returns:
        The value degree, every indicator with its score, source and overall weight.
    """
    coeffs = coeffs or default_coefficients()
    d = value_degrees(batch_from_facts([facts], as_of), coeffs, scenario)
    weights = indicator_weights(coeffs, scenario)
    indicators = [
        IndicatorScore(
            key,
            dim,
            zh if lang == "zh" else en,
            round(float(d.scores[0, j]), 2),
            SOURCES[d.source[0, j]],
            float(weights[j]),
        )
        for j, (key, dim, zh, en) in enumerate(INDICATORS)
    ]
    return ValueDegree(
        L=round(float(d.L[0]), 2),
        T=round(float(d.T[0]), 2),
        E=round(float(d.E[0]), 2),
        V=round(float(d.V[0]), 2),
        grade=GRADES[d.grade[0]],
        confidence=round(float(d.confidence[0]), 4),
        scenario=scenario,
        coefficient_version=coeffs.version,
        indicators=indicators,
    )
