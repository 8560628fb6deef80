import math

import numpy as np
import pytest

from valuation.cost import CostRequest, cost_value, cost_values
from valuation.errors import ValuationInputError


def test_cost_value_and_steps():
    r = cost_value(
        CostRequest(rd_cost=1_000_000, cost_index=1.1, fees=20_000, age_years=4, remaining_economic_life_years=6)
    )
    assert r.replacement_cost == pytest.approx(1_120_000)
    assert r.remaining_life_factor == pytest.approx(0.6)
    assert r.value == pytest.approx(672_000)
    assert "重置成本" in r.steps[0]
    assert (
        "Replacement cost"
        in cost_value(CostRequest(rd_cost=1, age_years=0, remaining_economic_life_years=1), "en").steps[0]
    )


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"rd_cost": -1.0}, "rd_cost"),
        ({"rd_cost": math.nan}, "rd_cost"),
        ({"fees": math.inf}, "fees"),
        ({"cost_index": 0.0}, "cost_index"),
        ({"age_years": -1.0}, "age_years"),
        ({"age_years": 0.0, "remaining_economic_life_years": 0.0}, "remaining_economic_life_years"),
    ],
)
def test_cost_errors_name_the_field(kw, field):
    fields = {"rd_cost": 100.0, "age_years": 1.0, "remaining_economic_life_years": 1.0} | kw
    with pytest.raises(ValuationInputError) as err:
        cost_value(CostRequest(**fields))
    assert err.value.field == field


def test_vectorised_cost_matches_calculator_and_marks_unknown():
    v = cost_values(
        np.array([1e6, np.nan, 5e5]),
        np.array([1.1, 1.0, np.nan]),
        np.array([2e4, 0, np.nan]),
        np.array([4.0, 1.0, 0.0]),
        np.array([6.0, 1.0, 0.0]),
    )
    assert v[0] == pytest.approx(672_000)
    assert np.isnan(v[1]) and np.isnan(v[2])
