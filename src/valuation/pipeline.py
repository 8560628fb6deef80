"""The whole valuation of patents: value degree, income (with range), market, cost, reconciliation.

:func:`value_batch` is the vectorised path the batch command and the benchmark use;
:func:`value_patent` runs it on a batch of one and explains the result in readable steps.
"""

import dataclasses
import datetime as dt

import msgspec
import numpy as np

from valuation.batch import F64, PatentBatch, PatentFacts, batch_from_facts
from valuation.coefficients import CoefficientSet, default_coefficients
from valuation.cost import cost_values
from valuation.degree import Scenario, ValueDegree, ValueDegrees, value_degree_one, value_degrees
from valuation.market import MarketArrays, MarketResult, Transactions, market_value_one, market_values
from valuation.money import IncomeArrays, Shift, income_scenarios
from valuation.reconcile import METHODS, Reconciled, reconcile
from valuation.text import num, pct, say
from valuation.types import Lang

MODEL_VERSION = "gbt42748-simplified-1.0"


@dataclasses.dataclass(frozen=True, slots=True)
class BatchValuation:
    """Everything computed for a batch, one row per patent."""

    degrees: ValueDegrees
    income: IncomeArrays
    income_low: F64
    income_high: F64
    market: MarketArrays | None
    cost: F64
    reconciled: Reconciled
    coefficient_version: str
    model_version: str = MODEL_VERSION


def sensitivity_shifts(coeffs: CoefficientSet) -> tuple[Shift, Shift]:
    """The adverse and favourable scenarios: r ± delta, growth ∓/± factor x |g|, K ∓/± factor."""
    s = coeffs.sensitivity
    low = Shift(s.discount_rate_delta, -s.growth_factor, 1.0 - s.royalty_factor)
    high = Shift(-s.discount_rate_delta, s.growth_factor, 1.0 + s.royalty_factor)
    return low, high


def value_batch(
    batch: PatentBatch,
    as_of: dt.date,
    coeffs: CoefficientSet | None = None,
    scenario: Scenario = "pledge",
    transactions: Transactions | None = None,
) -> BatchValuation:
    """Value every patent of a batch.

    Args:
        batch: The patents.
        as_of: Valuation date (market window).
        coeffs: Coefficient set; the shipped default when ``None``.
        scenario: Dimension weights of the value degree.
        transactions: Recorded transactions for the market approach; not applicable when ``None``.

    Returns:
        Value degrees, income (base and range), market, cost and the reconciled range.
    """
    coeffs = coeffs or default_coefficients()
    degrees = value_degrees(batch, coeffs, scenario)
    adverse, favourable = sensitivity_shifts(coeffs)
    income, low_case, high_case = income_scenarios(batch, degrees, coeffs, [Shift(), adverse, favourable])
    low, high = low_case.value, high_case.value
    market = None
    market_value = np.full(batch.size, np.nan)
    if transactions is not None:
        market = market_values(degrees.scores, batch.col("sales"), batch.chain, transactions, as_of, coeffs)
        market_value = market.value
    n = batch
    cost = cost_values(n.col("rd_cost"), n.col("cost_index"), n.col("fees"), n.col("age_years"), income.horizon)
    reconciled = reconcile(low, income.value, high, market_value, cost, coeffs)
    return BatchValuation(degrees, income, low, high, market, cost, reconciled, coeffs.version)


class IncomeSummary(msgspec.Struct, frozen=True):
    """The income approach as applied to one patent (relief from royalty, after tax)."""

    royalty_rate: float
    royalty_share: float
    annual_royalty: float
    discount_rate: float
    tax_rate: float
    horizon_years: float
    value: float
    low: float
    high: float
    basis: str = "after_tax"
    method: str = "royalty_relief"


class PatentValuation(msgspec.Struct, frozen=True):
    """One patent's valuation with its explanation; the reconciled range is None if nothing applies."""

    model_version: str
    coefficient_version: str
    as_of: dt.date
    degree: ValueDegree
    income: IncomeSummary | None
    market: MarketResult | None
    cost: float | None
    weights: dict[str, float]
    low: float | None
    base: float | None
    high: float | None
    steps: list[str]


def _opt(x: float) -> float | None:
    return None if np.isnan(x) else round(float(x), 2)


def value_patent(
    facts: PatentFacts,
    as_of: dt.date,
    coeffs: CoefficientSet | None = None,
    scenario: Scenario = "pledge",
    transactions: Transactions | None = None,
    lang: Lang = "zh",
) -> PatentValuation:
    """Value one patent through the batch code and explain it.

    Args:
        facts: The patent's facts.
        as_of: Valuation date.
        coeffs: Coefficient set; the shipped default when ``None``.
        scenario: Dimension weights of the value degree.
        transactions: Recorded transactions for the market approach.
        lang: Language of names and steps.

    Returns:
        The valuation.
    """
    coeffs = coeffs or default_coefficients()
    v = value_batch(batch_from_facts([facts], as_of), as_of, coeffs, scenario, transactions)
    inc, rec = v.income, v.reconciled
    income = None
    steps = [say("val.degree", lang, v=f"{v.degrees.V[0]:.2f}", version=coeffs.version)]
    if np.isfinite(inc.value[0]):
        income = IncomeSummary(
            royalty_rate=float(inc.royalty_rate[0]),
            royalty_share=float(inc.share[0]),
            annual_royalty=float(inc.annual_royalty[0]),
            discount_rate=float(inc.discount_rate[0]),
            tax_rate=float(inc.tax_rate[0]),
            horizon_years=float(inc.horizon[0]),
            value=float(inc.value[0]),
            low=float(v.income_low[0]),
            high=float(v.income_high[0]),
        )
        steps.append(
            say(
                "val.income",
                lang,
                k=pct(income.royalty_rate),
                share=f"{income.royalty_share:.4g}",
                r=pct(income.discount_rate),
                tax=pct(income.tax_rate),
                n=f"{income.horizon_years:.2f}",
                value=num(income.value),
            )
        )
    else:
        steps.append(say("val.no_income", lang))
    market = None
    if transactions is not None and facts.chain is not None and facts.sales is not None:
        market = market_value_one(v.degrees.scores[0], facts.sales, facts.chain, transactions, as_of, coeffs, lang)
        steps += market.steps
    if np.isfinite(v.cost[0]):
        steps.append(say("val.cost", lang, value=num(float(v.cost[0]))))
    weights = {m: round(float(w), 6) for m, w in zip(METHODS, rec.weights[0], strict=True)}
    if np.isfinite(rec.base[0]):
        parts = ", ".join(f"{m} {w:.4g}" for m, w in weights.items() if w > 0)
        steps.append(
            say(
                "val.reconciled", lang, weights=parts, low=num(rec.low[0]), base=num(rec.base[0]), high=num(rec.high[0])
            )
        )
    degree = value_degree_one(facts, as_of, coeffs, scenario, lang)
    low, base, high = _opt(rec.low[0]), _opt(rec.base[0]), _opt(rec.high[0])
    cost = _opt(v.cost[0])
    return PatentValuation(
        MODEL_VERSION, coeffs.version, as_of, degree, income, market, cost, weights, low, base, high, steps
    )
