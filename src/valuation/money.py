"""Vectorised income value per patent (relief from royalty), with royalty sharing per product.

For patent i on product p: K_i = K_low + (K_high - K_low) x V̄_p / 100 within its chain's band
(V̄_p = mean value degree of the product's patents, V_i for a patent with its own product); the
product's royalty is split among its patents in proportion to their value degrees;
r_i = risk-free + Σ_dim premium(score); tax 15% for a 高新技术企业 else 25%;
n_i = min(economic life, legal term left); the yearly royalty grows at the sales growth rate.
The present value uses the closed form of a growing annuity plus a pro-rata last period, which
equals the explicit sum of :func:`valuation.income.income_value` (tested).
"""

import dataclasses

import numpy as np
from numpy.typing import NDArray

from valuation.arrays import nan_to_num
from valuation.batch import F64, PatentBatch
from valuation.codes import CHAIN_CODES, DIMENSIONS
from valuation.coefficients import CoefficientSet, derived
from valuation.degree import ValueDegrees

_MIN_RATE = 1e-3  # a sensitivity shift must never take the discount rate to zero or below


@dataclasses.dataclass(frozen=True, slots=True)
class Shift:
    """A sensitivity scenario: discount rate + delta, growth + factor x |growth|, royalty x scale."""

    rate_delta: float = 0.0
    growth_factor: float = 0.0
    royalty_scale: float = 1.0


@dataclasses.dataclass(frozen=True, slots=True)
class IncomeArrays:
    """Per-patent income valuation; ``value`` is NaN where the approach does not apply."""

    royalty_rate: F64  # K applied to the product's sales
    share: F64  # this patent's share of the product's royalty
    annual_royalty: F64  # first-year royalty attributed to the patent, pre-tax
    discount_rate: F64
    tax_rate: F64
    horizon: F64  # years
    value: F64


def product_groups(product: NDArray[np.int64]) -> tuple[NDArray[np.bool_], NDArray[np.intp] | None]:
    """Which patents share a product, and each one's product number among them (None when none shares)."""
    shared = product >= 0
    if not shared.any():
        return shared, None
    # (np.unique's inverse: a searchsorted of the ids into the distinct ones has less overhead on a few
    # patents but is 3x slower on the batch's chunks, its binary searches missing the cache.)
    group: NDArray[np.intp] = np.unique(product[shared], return_inverse=True)[1]
    return shared, group


def split_product_royalty(
    product: NDArray[np.int64],
    weight: F64,
    groups: tuple[NDArray[np.bool_], NDArray[np.intp] | None] | None = None,
) -> F64:
    """Each patent's share of its product's royalty, in proportion to ``weight`` (its value degree).

    Shares of one product sum to 1 (equal split when all weights are 0); product ``-1`` means the
    patent has its own product (share 1).

    Args:
        product: Product id per patent, -1 for none shared.
        weight: Non-negative weight per patent.
        groups: :func:`product_groups` of ``product`` when the caller has it already.

    Returns:
        Share per patent.
    """
    shared, group = product_groups(product) if groups is None else groups
    share = np.ones(product.shape[0])
    if group is None:
        return share
    w = weight[shared]
    total = np.bincount(group, weights=w)
    count = np.bincount(group)
    share[shared] = np.where(total[group] > 0, w / np.where(total[group] > 0, total[group], 1.0), 1.0 / count[group])
    return share


def product_mean(
    product: NDArray[np.int64],
    value: F64,
    groups: tuple[NDArray[np.bool_], NDArray[np.intp] | None] | None = None,
) -> F64:
    """Mean of ``value`` over each patent's product (its own value when it has no shared product)."""
    out = value.astype(np.float64, copy=True)
    shared, group = product_groups(product) if groups is None else groups
    if group is not None:
        out[shared] = (np.bincount(group, weights=value[shared]) / np.bincount(group))[group]
    return out


def discount_rates(degrees: ValueDegrees, coeffs: CoefficientSet) -> F64:
    """Discount rate r = risk-free rate + per-dimension premium falling linearly from ``at_zero`` to ``at_hundred``."""
    r = np.full(degrees.V.shape[0], coeffs.risk_free_rate)
    for dim in DIMENSIONS:
        p = coeffs.risk_premia[dim]
        r += p.at_zero - (p.at_zero - p.at_hundred) * degrees.dimension(dim) / 100.0
    return r


def royalty_bands(chain: NDArray[np.int16], coeffs: CoefficientSet) -> tuple[F64, F64]:
    """Low and high sales royalty of each patent's chain band (NaN for an unknown chain)."""
    table = derived(coeffs, "royalty_bands", lambda: _band_table(coeffs))
    low: F64 = table[0][chain]  # chain -1 picks the trailing NaN
    high: F64 = table[1][chain]
    return low, high


def _band_table(coeffs: CoefficientSet) -> F64:
    """(2, chains + 1): each chain's band low and high royalty, then NaN."""
    bands = [coeffs.royalty_bands[coeffs.chain_bands[code]] for code in CHAIN_CODES]
    return np.array([[*(b.low for b in bands), np.nan], [*(b.high for b in bands), np.nan]])


def growing_annuity(cf: F64, r: F64, g: F64, horizon: F64) -> F64:
    """Σ_{t=1..N} cf (1+g)^(t-1) / (1+r)^t + f x cf (1+g)^N / (1+r)^(N+1), N = ⌊n⌋, f = n - N."""
    whole = np.floor(horizon)
    frac = horizon - whole
    grown, discount = (1.0 + g) ** whole, (1.0 + r) ** whole
    q = (1.0 + g) / (1.0 + r)
    near_one = np.abs(q - 1.0) < 1e-12
    safe = np.where(near_one, 0.5, q)  # avoids 0/0 where the limit N is used instead
    annuity = np.where(near_one, whole, (1.0 - grown / discount) / (1.0 - safe)) / (1.0 + r)
    tail = frac * grown / (discount * (1.0 + r))
    pv: F64 = cf * (annuity + tail)
    return pv


def income_values(
    batch: PatentBatch, degrees: ValueDegrees, coeffs: CoefficientSet, shift: Shift | None = None
) -> IncomeArrays:
    """Relief-from-royalty value of every patent of the batch.

    Args:
        batch: Patents (uses sales, sales growth, chain, product, type terms, high-tech status).
        degrees: Their value degrees (K within the band, r from dimension scores, royalty shares).
        coeffs: Coefficient set.
        shift: Optional sensitivity scenario.

    Returns:
        K, shares, first-year royalty, r, tax, horizon and value per patent.
    """
    return income_scenarios(batch, degrees, coeffs, [shift or Shift()])[0]


def income_scenarios(
    batch: PatentBatch, degrees: ValueDegrees, coeffs: CoefficientSet, shifts: list[Shift]
) -> list[IncomeArrays]:
    """:func:`income_values` under each of ``shifts``; what no shift changes is computed once.

    Args:
        batch: Patents.
        degrees: Their value degrees.
        coeffs: Coefficient set.
        shifts: Sensitivity scenarios (``Shift()`` for the base case).

    Returns:
        One :class:`IncomeArrays` per shift, in order.
    """
    low, high = royalty_bands(batch.chain, coeffs)
    groups = product_groups(batch.product)
    band_k = low + (high - low) * product_mean(batch.product, degrees.V, groups) / 100.0
    share = split_product_royalty(batch.product, degrees.V, groups)
    sales = batch.col("sales")
    growth = nan_to_num(batch.col("sales_growth"))
    rate = discount_rates(degrees, coeffs)
    tax = np.where(batch.high_tech, coeffs.tax.high_tech, coeffs.tax.standard)
    horizon = np.maximum(np.fmin(batch.col("economic_life_years"), batch.col("remaining_term_years")), 0.0)
    # Every shift at once, one row each: the same elementwise operations on every value as one shift at a
    # time (a shift's number times an array is the float64 product either way), a third of the calls.
    scale, growth_factor, rate_delta = (np.array(column)[:, None] for column in _shift_columns(shifts))
    k = band_k * scale
    royalty = sales * k * share
    g = np.maximum(growth + growth_factor * np.abs(growth), -0.99)
    r = np.maximum(rate + rate_delta, _MIN_RATE)
    value = growing_annuity(royalty * (1.0 - tax), r, g, horizon)
    return [IncomeArrays(k[j], share, royalty[j], r[j], tax, horizon, value[j]) for j in range(len(shifts))]


def _shift_columns(shifts: list[Shift]) -> tuple[list[float], list[float], list[float]]:
    """The shifts' royalty scales, growth factors and rate deltas."""
    return (
        [s.royalty_scale for s in shifts],
        [s.growth_factor for s in shifts],
        [s.rate_delta for s in shifts],
    )
