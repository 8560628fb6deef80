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
from valuation.indicators import RULES
from valuation.types import Lang

Scenario = Literal["pledge", "transaction"]
Source = Literal["data", "declared", "default"]
SOURCES: tuple[Source, ...] = ("data", "declared", "default")


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
    declared_table = np.array([np.nan, *coeffs.declared_scores])
    for j, (key, _, _, _) in enumerate(INDICATORS):
        data = RULES[key](batch, coeffs)
        declared = declared_table[batch.declared[:, j]]
        from_data = ~np.isnan(data)
        from_declared = ~from_data & ~np.isnan(declared)
        scores[:, j] = np.where(from_data, data, np.where(from_declared, declared, coeffs.neutral_score))
        source[:, j] = np.where(from_data, 0, np.where(from_declared, 1, 2))
    dims = {}
    for dim in DIMENSIONS:
        cols = [j for j, row in enumerate(INDICATORS) if row[1] == dim]
        w = np.array([coeffs.indicator_weights[INDICATORS[j][0]] for j in cols])
        dims[dim] = scores[:, cols] @ (w / w.sum())
    sw = coeffs.scenario_weights[scenario]
    v = sw.L * dims["L"] + sw.T * dims["T"] + sw.E * dims["E"]
    confidence = (source != 2) @ indicator_weights(coeffs, scenario)
    return ValueDegrees(scores, source, dims["L"], dims["T"], dims["E"], v, grade_codes(v, coeffs), confidence)


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
