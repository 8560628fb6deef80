"""Cost approach: replacement cost x (1 - age / (age + remaining economic life)).

Replacement cost = historical R&D cost x price index (today / then) + filing and maintenance fees.
It is a floor and a cross-check for the income approach. :func:`cost_value` is the stateless
calculator (with steps); :func:`cost_values` is the vectorised form used by the batch.
"""

import math

import msgspec
import numpy as np

from valuation.arrays import nan_to_num
from valuation.batch import F64
from valuation.errors import ValuationInputError
from valuation.text import num, say
from valuation.types import Lang, Years, Yuan


class CostRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Request of the cost calculator."""

    rd_cost: Yuan
    cost_index: float = 1.0
    fees: Yuan = 0.0
    age_years: Years
    remaining_economic_life_years: Years


class CostResult(msgspec.Struct, frozen=True):
    """Cost-approach value with its parts."""

    value: float
    replacement_cost: float
    remaining_life_factor: float
    steps: list[str]


def _check(req: CostRequest) -> None:
    for name in ("rd_cost", "fees"):
        value = getattr(req, name)
        if not math.isfinite(value) or value < 0:
            raise ValuationInputError(name, "must be a finite amount ≥ 0")
    if not math.isfinite(req.cost_index) or not 0 < req.cost_index <= 100:
        raise ValuationInputError("cost_index", "must be in (0, 100]")
    for name in ("age_years", "remaining_economic_life_years"):
        value = getattr(req, name)
        if not math.isfinite(value) or not 0 <= value <= 100:
            raise ValuationInputError(name, "must be in [0, 100] years")
    if req.age_years + req.remaining_economic_life_years <= 0:
        raise ValuationInputError("remaining_economic_life_years", "age and remaining life cannot both be 0")


def cost_value(req: CostRequest, lang: Lang = "zh") -> CostResult:
    """Cost-approach value of one patent.

    Args:
        req: Costs, price index, fees, age and remaining economic life.
        lang: Language of ``steps``.

    Returns:
        Value, replacement cost, remaining-life factor and steps.

    Raises:
        ValuationInputError: Naming the offending field.
    """
    _check(req)
    replacement = req.rd_cost * req.cost_index + req.fees
    newness = 1 - req.age_years / (req.age_years + req.remaining_economic_life_years)
    value = replacement * newness
    steps = [
        say(
            "cost.replacement",
            lang,
            rd=num(req.rd_cost),
            index=f"{req.cost_index:g}",
            fees=num(req.fees),
            replacement=num(replacement),
        ),
        say(
            "cost.newness",
            lang,
            age=f"{req.age_years:g}",
            rem=f"{req.remaining_economic_life_years:g}",
            newness=f"{newness:.4f}",
        ),
        say("cost.value", lang, replacement=num(replacement), newness=f"{newness:.4f}", value=num(value)),
    ]
    return CostResult(value, replacement, newness, steps)


def cost_values(rd_cost: F64, cost_index: F64, fees: F64, age: F64, remaining_life: F64) -> F64:
    """Vectorised cost value; NaN where the R&D cost is unknown or the life is zero.

    Args:
        rd_cost: Historical R&D cost per patent (NaN unknown).
        cost_index: Price index today/then (NaN -> 1).
        fees: Filing and maintenance fees (NaN -> 0).
        age: Years since filing.
        remaining_life: Remaining economic life in years.

    Returns:
        Cost value per patent.
    """
    replacement = rd_cost * nan_to_num(cost_index, nan=1.0) + nan_to_num(fees)
    life = age + np.maximum(remaining_life, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        newness = np.where(life > 0, 1.0 - age / life, np.nan)
    value: F64 = replacement * newness
    return value
