"""Coefficient sets: every policy number of the valuation model, as versioned data.

Weights, rule parameters, royalty bands, pledge rates, gates, rates and thresholds live in a JSON
document (the default ships as ``data/coefficients-2024.1.json``). An operator can supply another
one; :func:`load_coefficients` decodes it strictly and :func:`validate_coefficients` checks the
cross-field rules (weights sum to 1, bands ordered, every chain mapped ...), raising
:class:`~valuation.errors.ValuationInputError` naming the field. Every result records
``CoefficientSet.version`` so any report can be reproduced.

Usage::

    coeffs = default_coefficients()
    other = load_coefficients(path.read_bytes())
"""

from collections.abc import Callable, Hashable
from functools import cache
from importlib import resources
from typing import Any, TypeVar

import msgspec
import numpy as np

from valuation.codes import CHAIN_CODES, DIMENSIONS, GRADES, INDICATORS, LABELS, PATENT_TYPES
from valuation.errors import ValuationInputError
from valuation.types import Fraction, PositiveRate, Rate, Score, Version, Years

DEFAULT_FILE = "coefficients-2024.1.json"
T = TypeVar("T")
_TOLERANCE = 1e-9


class _Data(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Base of the coefficient structs: immutable, strict about unknown keys."""


# Values inside dicts are plain floats checked by validate_coefficients: msgspec reports a bad dict
# value as `[...]`, and the operator needs the key named.
class DimensionWeights(_Data, frozen=True):
    L: float
    T: float
    E: float


class Band(_Data, frozen=True):
    """A sales-royalty band (UNIDO figures) with its name."""

    low: float
    high: float
    zh: str
    en: str


class Premium(_Data, frozen=True):
    """Risk premium of a dimension: ``at_zero`` when it scores 0, falling linearly to ``at_hundred``."""

    at_zero: float
    at_hundred: float


class FamilyRule(_Data, frozen=True):
    base: Score
    per_major_office: Score
    per_other_office: Score
    cap: Score


class LinearRule(_Data, frozen=True):
    """Score ``score_at_low`` at ``low`` and ``score_at_high`` at ``high``, linear and clipped between."""

    low: float
    high: float
    score_at_low: Score
    score_at_high: Score


class StepRule(_Data, frozen=True):
    """``base + step x (count - start)``, clipped to 0..100."""

    base: Score
    step: Score
    start: float


class ClaimSetRule(_Data, frozen=True):
    base: Score
    count_points: Score
    full_count: float
    independent_points: Score
    full_independent: float
    layering_points: Score


class CitationRule(_Data, frozen=True):
    min_cohort: int
    log_full_count: float


class SalesRule(_Data, frozen=True):
    points_per_decade: Score


class MarketShareRule(_Data, frozen=True):
    """Ascending lower bounds of the share bands and the score of each band (one more than bounds)."""

    bounds: list[Rate]
    scores: list[Score]


class Rules(_Data, frozen=True):
    family: FamilyRule
    design_around: LinearRule
    claim_set: ClaimSetRule
    originality_from_backward_citations: LinearRule
    citations: CitationRule
    fields: StepRule
    breadth: StepRule
    economic_life_reference_years: dict[str, float]
    defensive: StepRule
    sales: SalesRule
    market_share: MarketShareRule


class Tax(_Data, frozen=True):
    standard: Rate
    high_tech: Rate


class MethodWeights(_Data, frozen=True):
    income: Fraction
    market: Fraction
    cost: Fraction


class Sensitivity(_Data, frozen=True):
    discount_rate_delta: Rate
    growth_factor: Fraction
    royalty_factor: Fraction


class GradeThresholds(_Data, frozen=True):
    A: Score
    B: Score
    C: Score


class MarketSettings(_Data, frozen=True):
    window_years: Years
    min_comparables: int
    neighbours: int


class PledgeSettings(_Data, frozen=True):
    min_remaining_term_years: dict[str, float]
    rates: dict[str, dict[str, float]]
    max_term_years: Years
    term_buffer_years: Years
    concentration_flag_share: Fraction
    short_term_flag_years: Years
    low_confidence_flag: Fraction


class CoefficientSet(_Data, frozen=True):
    """One complete, versioned set of the model's policy numbers."""

    version: Version
    neutral_score: Score
    declared_scores: list[Score]
    scenario_weights: dict[str, DimensionWeights]
    indicator_weights: dict[str, float]
    categorical: dict[str, dict[str, float]]
    rules: Rules
    royalty_bands: dict[str, Band]
    chain_bands: dict[str, str]
    policy_fit_by_chain: dict[str, str]
    risk_free_rate: PositiveRate
    risk_premia: dict[str, Premium]
    tax: Tax
    reconciliation_weights: MethodWeights
    sensitivity: Sensitivity
    grade_thresholds: GradeThresholds
    market: MarketSettings
    pledge: PledgeSettings


def load_coefficients(data: bytes | str) -> CoefficientSet:
    """Decode and validate an operator-supplied coefficient set (JSON).

    Args:
        data: The JSON document.

    Returns:
        The validated coefficient set.

    Raises:
        ValuationInputError: Naming the first offending field.
    """
    try:
        coeffs = msgspec.json.decode(data, type=CoefficientSet)
    except msgspec.ValidationError as exc:
        text = str(exc)
        field = text.rsplit("at `$.", 1)[-1].rstrip("`") if "at `$." in text else "$"
        raise ValuationInputError(field, text) from exc
    except msgspec.DecodeError as exc:
        raise ValuationInputError("$", f"not valid JSON: {exc}") from exc
    validate_coefficients(coeffs)
    return coeffs


@cache
def default_coefficients() -> CoefficientSet:
    """The coefficient set shipped with the package (provisional, version ``2024.1``)."""
    return load_coefficients(resources.files("valuation.data").joinpath(DEFAULT_FILE).read_bytes())


# Arrays derived from a coefficient set (lookup tables), by set identity and key. A set is never changed once
# built (the service decodes each stored version once per process), and the entry keeps the set itself, so
# an id is never reused for another set while its entry exists.
_DERIVED: dict[tuple[int, Hashable], tuple[CoefficientSet, Any]] = {}


def derived(coeffs: CoefficientSet, key: Hashable, build: Callable[[], T]) -> T:
    """``build()`` for this set and ``key``, computed once per set (NumPy results are made read-only)."""
    hit = _DERIVED.get((id(coeffs), key))
    if hit is not None and hit[0] is coeffs:
        value: T = hit[1]
        return value
    value = build()
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    if len(_DERIVED) > 4096:
        _DERIVED.clear()
    _DERIVED[(id(coeffs), key)] = (coeffs, value)
    return value


#: No list or table of a coefficient set is longer (bands, rules' steps, chains): a bound on what a set can cost.
MAX_ENTRIES = 100


def _check_sizes(value: object, path: str) -> None:
    """Every list and table of the set holds at most :data:`MAX_ENTRIES` entries (the first too long is named)."""
    items: list[tuple[str, object]] = []
    if isinstance(value, dict):
        items = [(f"{path}.{key}" if path else str(key), item) for key, item in value.items()]
    elif isinstance(value, list):
        items = [(f"{path}[{i}]", item) for i, item in enumerate(value)]
    else:
        return
    _require(len(items) <= MAX_ENTRIES or not path, path, f"at most {MAX_ENTRIES} entries")
    for where, item in items:
        _check_sizes(item, where)


def _require(ok: bool, field: str, message: str) -> None:
    if not ok:
        raise ValuationInputError(field, message)


def _keys(actual: object, expected: tuple[str, ...], field: str) -> None:
    keys = set(actual) if isinstance(actual, dict) else set()
    _require(keys == set(expected), field, f"keys must be exactly {sorted(expected)}, got {sorted(keys)}")


def _in_range(value: float, field: str, low: float, high: float, *, high_open: bool = False) -> None:
    ok = low <= value < high if high_open else low <= value <= high
    _require(ok, field, f"must be in [{low:g}, {high:g}{')' if high_open else ']'}, got {value!r}")


def _sums_to_one(total: float, field: str) -> None:
    _require(abs(total - 1.0) <= _TOLERANCE, field, f"weights must sum to 1, got {total:.6f}")


def validate_coefficients(coeffs: CoefficientSet) -> None:
    """Check the cross-field rules the types cannot express.

    Args:
        coeffs: A decoded coefficient set.

    Raises:
        ValuationInputError: Naming the first offending field.
    """
    _check_sizes(msgspec.to_builtins(coeffs), "")
    _require(len(coeffs.declared_scores) == 5, "declared_scores", "needs exactly 5 scores (declarations 1..5)")
    _require(coeffs.declared_scores == sorted(coeffs.declared_scores), "declared_scores", "must be ascending")
    _validate_weights(coeffs)
    _validate_categorical(coeffs)
    _validate_rules(coeffs.rules)
    _validate_money(coeffs)
    g = coeffs.grade_thresholds
    _require(g.A > g.B > g.C, "grade_thresholds", "needs A > B > C")
    _validate_settings(coeffs)


def _validate_weights(coeffs: CoefficientSet) -> None:
    _keys(coeffs.scenario_weights, ("pledge", "transaction"), "scenario_weights")
    for name, dims in coeffs.scenario_weights.items():
        for dim in DIMENSIONS:
            _in_range(getattr(dims, dim), f"scenario_weights.{name}.{dim}", 0, 1)
        _sums_to_one(dims.L + dims.T + dims.E, f"scenario_weights.{name}")
    _keys(coeffs.indicator_weights, tuple(row[0] for row in INDICATORS), "indicator_weights")
    for key, weight in coeffs.indicator_weights.items():
        _in_range(weight, f"indicator_weights.{key}", 0, 1)
    for dim in DIMENSIONS:
        total = sum(coeffs.indicator_weights[key] for key, d, _, _ in INDICATORS if d == dim)
        _sums_to_one(total, f"indicator_weights[{dim}]")
    methods = coeffs.reconciliation_weights
    _sums_to_one(methods.income + methods.market + methods.cost, "reconciliation_weights")


def _validate_money(coeffs: CoefficientSet) -> None:
    for code, band in coeffs.royalty_bands.items():
        _in_range(band.low, f"royalty_bands.{code}.low", 0, 1, high_open=True)
        _in_range(band.high, f"royalty_bands.{code}.high", 0, 1, high_open=True)
        _require(band.low <= band.high, f"royalty_bands.{code}", "low must not exceed high")
    _keys(coeffs.chain_bands, CHAIN_CODES, "chain_bands")
    for chain, band_code in coeffs.chain_bands.items():
        _require(band_code in coeffs.royalty_bands, f"chain_bands.{chain}", f"unknown band {band_code!r}")
    _keys(coeffs.policy_fit_by_chain, CHAIN_CODES, "policy_fit_by_chain")
    for chain, label in coeffs.policy_fit_by_chain.items():
        _require(label in LABELS["policy_fit"], f"policy_fit_by_chain.{chain}", f"unknown label {label!r}")
    _keys(coeffs.risk_premia, DIMENSIONS, "risk_premia")
    for dim, premium in coeffs.risk_premia.items():
        _in_range(premium.at_zero, f"risk_premia.{dim}.at_zero", 0, 1, high_open=True)
        _in_range(premium.at_hundred, f"risk_premia.{dim}.at_hundred", 0, 1, high_open=True)
        _require(premium.at_hundred <= premium.at_zero, f"risk_premia.{dim}", "must fall as the score rises")
    _require(coeffs.tax.high_tech <= coeffs.tax.standard, "tax.high_tech", "must not exceed the standard rate")


def _validate_categorical(coeffs: CoefficientSet) -> None:
    expected = tuple(kind if kind != "legal_status" else "validity" for kind in LABELS)
    _keys(coeffs.categorical, expected, "categorical")
    for kind, labels in LABELS.items():
        name = "validity" if kind == "legal_status" else kind
        _keys(coeffs.categorical[name], labels, f"categorical.{name}")
        for label, value in coeffs.categorical[name].items():
            _in_range(value, f"categorical.{name}.{label}", 0, 100)


def _validate_rules(rules: Rules) -> None:
    for name in ("design_around", "originality_from_backward_citations"):
        rule: LinearRule = getattr(rules, name)
        _require(rule.low < rule.high, f"rules.{name}", "low must be below high")
    _require(rules.claim_set.full_count > 0, "rules.claim_set.full_count", "must be positive")
    _require(rules.claim_set.full_independent > 0, "rules.claim_set.full_independent", "must be positive")
    _require(rules.citations.min_cohort >= 2, "rules.citations.min_cohort", "must be at least 2")
    _require(rules.citations.log_full_count > 0, "rules.citations.log_full_count", "must be positive")
    _keys(rules.economic_life_reference_years, PATENT_TYPES, "rules.economic_life_reference_years")
    for kind, years in rules.economic_life_reference_years.items():
        _in_range(years, f"rules.economic_life_reference_years.{kind}", 1e-9, 100)
    share = rules.market_share
    _require(share.bounds == sorted(share.bounds), "rules.market_share.bounds", "must be ascending")
    _require(len(share.scores) == len(share.bounds) + 1, "rules.market_share.scores", "needs len(bounds) + 1 scores")
    _require(share.scores == sorted(share.scores), "rules.market_share.scores", "must be ascending")


def _validate_settings(coeffs: CoefficientSet) -> None:
    m = coeffs.market
    _require(m.window_years > 0, "market.window_years", "must be positive")
    _require(1 <= m.min_comparables <= 1000, "market.min_comparables", "must be from 1 to 1000")
    # Each assessed patent keeps this many comparables in its report: a bound keeps the arrays and reports small.
    _require(1 <= m.neighbours <= 50, "market.neighbours", "must be from 1 to 50")
    p = coeffs.pledge
    _keys(p.min_remaining_term_years, PATENT_TYPES, "pledge.min_remaining_term_years")
    for kind, years in p.min_remaining_term_years.items():
        _in_range(years, f"pledge.min_remaining_term_years.{kind}", 0, 100)
    _keys(p.rates, PATENT_TYPES, "pledge.rates")
    for kind, by_grade in p.rates.items():
        _keys(by_grade, GRADES, f"pledge.rates.{kind}")
        for grade, rate in by_grade.items():
            _in_range(rate, f"pledge.rates.{kind}.{grade}", 0, 1, high_open=True)
        ordered = [by_grade[g] for g in GRADES]
        _require(ordered == sorted(ordered, reverse=True), f"pledge.rates.{kind}", "a better grade needs a rate ≥")
    _require(p.max_term_years > 0, "pledge.max_term_years", "must be positive")
