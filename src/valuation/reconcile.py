"""Reconciliation: one value (low/base/high) from the income, market and cost approaches.

The pledge weights (income 0.6, market 0.3, cost 0.1 in coefficient set 2024.1) are renormalised
over the approaches that apply to each patent (a NaN value = not applicable), so the weights used
always sum to 1 when at least one approach applies. The range comes from the income approach's
sensitivity scenarios (r ± 2 points, growth ± 50%, K ± 20%); market and cost stay as they are.
"""

import dataclasses

import numpy as np

from valuation.arrays import nan_to_num
from valuation.batch import F64
from valuation.coefficients import CoefficientSet

METHODS: tuple[str, str, str] = ("income", "market", "cost")


@dataclasses.dataclass(frozen=True, slots=True)
class Reconciled:
    """Reconciled values per patent; NaN where no approach applies."""

    low: F64
    base: F64
    high: F64
    weights: F64  # (n, 3): income, market, cost; rows sum to 1 (0 when nothing applies)


def method_weights(income: F64, market: F64, cost: F64, coeffs: CoefficientSet) -> F64:
    """The reconciliation weights renormalised over the approaches that apply to each patent.

    Args:
        income: Income value per patent (NaN = not applicable).
        market: Market value per patent (NaN = not applicable).
        cost: Cost value per patent (NaN = not applicable).
        coeffs: Coefficient set (the nominal weights).

    Returns:
        (n, 3) weights; each row sums to 1, or is all 0 when no approach applies.
    """
    w = coeffs.reconciliation_weights
    nominal = np.array([w.income, w.market, w.cost])
    applies = np.isfinite(np.column_stack([income, market, cost]))
    raw = applies * nominal
    total = raw.sum(axis=1, keepdims=True)
    # An approach whose nominal weight is 0 still counts when it is the only one that applies.
    fallback = applies / np.maximum(applies.sum(axis=1, keepdims=True), 1)
    weights: F64 = np.where(total > 0, raw / np.where(total > 0, total, 1.0), fallback)
    return weights


def reconcile(
    income_low: F64, income_base: F64, income_high: F64, market: F64, cost: F64, coeffs: CoefficientSet
) -> Reconciled:
    """Weighted low/base/high values.

    Args:
        income_low: Income value in the adverse sensitivity scenario.
        income_base: Income value.
        income_high: Income value in the favourable sensitivity scenario.
        market: Market value (NaN = not applicable).
        cost: Cost value (NaN = not applicable).
        coeffs: Coefficient set.

    Returns:
        The reconciled range and the weights used.
    """
    weights = method_weights(income_base, market, cost, coeffs)
    none = weights.sum(axis=1) == 0
    fixed = weights[:, 1] * nan_to_num(market) + weights[:, 2] * nan_to_num(cost)
    # The three income cases as rows of one array: the same elementwise operations on each value.
    incomes = nan_to_num(np.stack((income_low, income_base, income_high)))
    low, base, high = np.where(none, np.nan, weights[:, 0] * incomes + fixed)
    # Order the range even if a shift moved the income value the "wrong" way (e.g. negative growth).
    return Reconciled(np.fmin(low, base), base, np.fmax(high, base), weights)
