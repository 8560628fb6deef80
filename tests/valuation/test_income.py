import math

import msgspec
import pytest

from valuation.errors import ValuationInputError
from valuation.income import EquivalentInvestment, IncomeRequest, income_value


def req(**kw) -> IncomeRequest:
    base = {"method": "royalty_relief", "discount_rate": 0.10}
    base.update(kw)
    return IncomeRequest(**base)


SPEC = {"tax_rate": 0.25, "years": 5, "revenue": 1000.0, "royalty_rate": 0.03}


def test_spec_example_85_29():
    r = income_value(req(**SPEC))
    assert r.cash_flows == pytest.approx([22.5] * 5)
    assert round(r.value, 2) == 85.29
    assert r.basis == "after_tax" and r.share == 0.03 and r.periods == 5
    assert r.discount_factors == [1.1**-t for t in range(1, 6)]
    assert any("精确" in s for s in r.steps)
    assert any("exactly" in s for s in income_value(req(**SPEC), "en").steps)


def test_decodes_from_the_public_json_contract():
    body = (
        b'{"method":"royalty_relief","discount_rate":0.1,"tax_rate":0.25,"years":5,"revenue":1000,"royalty_rate":0.03}'
    )
    assert round(income_value(msgspec.json.decode(body, type=IncomeRequest)).value, 2) == 85.29
    with pytest.raises(msgspec.ValidationError, match="discount_rate"):
        msgspec.json.decode(body.replace(b'"discount_rate":0.1', b'"discount_rate":"0.1"'), type=IncomeRequest)


def test_list_stream_and_pre_tax_basis():
    r = income_value(req(revenue=[100.0, 200.0], royalty_rate=0.05))
    assert r.basis == "pre_tax"
    assert r.cash_flows == pytest.approx([5.0, 10.0])
    assert r.value == pytest.approx(5 / 1.1 + 10 / 1.21)


def test_royalty_relief_on_profit_uses_k_over_margin():
    r = income_value(req(profit=200.0, years=3, royalty_rate=0.03, profit_margin=0.2))
    assert r.share == pytest.approx(0.15)
    assert r.cash_flows == pytest.approx([30.0] * 3)


def test_profit_split_given_share():
    r = income_value(req(method="profit_split", profit=[100.0, 100.0], profit_share=0.25, tax_rate=0.15))
    assert r.cash_flows == pytest.approx([21.25, 21.25])


def test_profit_split_equivalent_investment():
    eq = EquivalentInvestment(
        patent_cost=100.0, patent_cost_profit_rate=0.2, licensee_assets=880.0, licensee_cost_profit_rate=0.0
    )
    r = income_value(req(method="profit_split", profit=1000.0, years=1, equivalent_investment=eq))
    assert r.share == pytest.approx(120 / 1000)
    assert r.value == pytest.approx(120 / 1.1)


def test_excess_earnings_share_is_one():
    r = income_value(req(method="excess_earnings", excess_profit=[10.0, 20.0, 30.0]))
    assert r.share == 1.0
    assert r.value == pytest.approx(10 / 1.1 + 20 / 1.1**2 + 30 / 1.1**3)


def test_stream_is_cut_at_the_shorter_life_with_a_pro_rata_last_period():
    r = income_value(req(**SPEC, economic_life_years=4, legal_remaining_years=2.5))
    assert r.periods == 3
    assert r.cash_flows == pytest.approx([22.5, 22.5, 11.25])
    longer = income_value(req(**SPEC, economic_life_years=9))
    assert longer.periods == 5


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"discount_rate": 0.0, **SPEC}, "discount_rate"),
        ({"discount_rate": -0.1, **SPEC}, "discount_rate"),
        ({"discount_rate": 1.0, **SPEC}, "discount_rate"),
        ({"discount_rate": math.nan, **SPEC}, "discount_rate"),
        ({**SPEC, "tax_rate": 1.0}, "tax_rate"),
        ({**SPEC, "tax_rate": -0.25}, "tax_rate"),
        ({**SPEC, "royalty_rate": -0.03}, "royalty_rate"),
        ({**SPEC, "royalty_rate": math.inf}, "royalty_rate"),
        ({**SPEC, "revenue": -1.0}, "revenue"),
        ({**SPEC, "revenue": math.inf}, "revenue"),
        ({**SPEC, "revenue": [1.0, math.nan, 2.0, 3.0, 4.0]}, "revenue[1]"),
        ({**SPEC, "revenue": [1.0, 2.0]}, "years"),
        ({**SPEC, "years": None}, "years"),
        ({**SPEC, "years": 0}, "years"),
        ({**SPEC, "revenue": []}, "revenue"),
        ({**SPEC, "revenue": None}, "revenue"),
        ({**SPEC, "royalty_rate": None}, "royalty_rate"),
        ({**SPEC, "profit": 10.0, "profit_margin": 0.1}, "profit"),
        ({**SPEC, "profit_margin": 0.1}, "profit_margin"),
        ({**SPEC, "revenue": None, "profit": 10.0}, "profit_margin"),
        ({**SPEC, "revenue": None, "profit": 10.0, "profit_margin": 0.01}, "profit_margin"),
        ({**SPEC, "revenue": None, "profit": 10.0, "profit_margin": 0.0}, "profit_margin"),
        ({**SPEC, "profit_share": 0.2}, "profit_share"),
        ({**SPEC, "excess_profit": 5.0}, "excess_profit"),
        ({**SPEC, "economic_life_years": 0.0}, "economic_life_years"),
        ({**SPEC, "legal_remaining_years": -1.0}, "legal_remaining_years"),
        ({"method": "profit_split", "years": 2, "profit": 10.0}, "profit_share"),
        ({"method": "profit_split", "years": 2, "profit": 10.0, "profit_share": 1.5}, "profit_share"),
        ({"method": "profit_split", "years": 2, "profit_share": 0.5}, "profit"),
        (
            {"method": "profit_split", "years": 2, "profit": 10.0, "royalty_rate": 0.03, "profit_share": 0.5},
            "royalty_rate",
        ),
        ({"method": "excess_earnings", "years": 2}, "excess_profit"),
        ({"method": "excess_earnings", "years": 2, "excess_profit": 1.0, "revenue": 3.0}, "revenue"),
    ],
)
def test_invalid_inputs_name_the_field(kw, field):
    with pytest.raises(ValuationInputError) as err:
        income_value(req(**kw))
    assert err.value.field == field


def test_both_share_and_equivalent_investment_is_rejected():
    eq = EquivalentInvestment(
        patent_cost=1.0, patent_cost_profit_rate=0.1, licensee_assets=1.0, licensee_cost_profit_rate=0.1
    )
    with pytest.raises(ValuationInputError) as err:
        income_value(req(method="profit_split", profit=10.0, years=1, profit_share=0.3, equivalent_investment=eq))
    assert err.value.field == "equivalent_investment"


@pytest.mark.parametrize(
    ("eq", "field"),
    [
        ({"patent_cost": 0.0, "licensee_assets": 0.0}, "equivalent_investment.patent_cost"),
        ({"patent_cost": -1.0}, "equivalent_investment.patent_cost"),
        ({"licensee_assets": math.nan}, "equivalent_investment.licensee_assets"),
        ({"patent_cost_profit_rate": 1.2}, "equivalent_investment.patent_cost_profit_rate"),
        ({"licensee_cost_profit_rate": -0.1}, "equivalent_investment.licensee_cost_profit_rate"),
    ],
)
def test_equivalent_investment_errors(eq, field):
    fields = {
        "patent_cost": 1.0,
        "patent_cost_profit_rate": 0.1,
        "licensee_assets": 1.0,
        "licensee_cost_profit_rate": 0.1,
    }
    fields.update(eq)
    with pytest.raises(ValuationInputError) as err:
        income_value(
            req(method="profit_split", profit=10.0, years=1, equivalent_investment=EquivalentInvestment(**fields))
        )
    assert err.value.field == field


_PROFIT = {"years": 2, "profit": 10.0, "royalty_rate": 0.03}
_SPLIT = {"method": "profit_split", "years": 2, "profit": 10.0}
TINY = 1e-12


@pytest.mark.parametrize(
    ("base", "field", "value", "accepted"),
    [
        # Each bound on both sides, as the documented interval says (the calculator tries each bound inline first
        # and names the field only for a value outside: both must agree at the edges).
        (SPEC, "discount_rate", TINY, True),
        (SPEC, "discount_rate", 1 - TINY, True),
        (SPEC, "discount_rate", 1.0, False),
        (SPEC, "tax_rate", 0.0, True),
        (SPEC, "tax_rate", -TINY, False),
        (SPEC, "tax_rate", 1 - TINY, True),
        (SPEC, "royalty_rate", 0.0, True),
        (SPEC, "royalty_rate", 1.0, False),
        (SPEC, "royalty_rate", math.nan, False),
        (_PROFIT, "profit_margin", 1.0, True),
        (_PROFIT, "profit_margin", 1 + TINY, False),
        (_PROFIT, "profit_margin", math.inf, False),
        (_SPLIT, "profit_share", 0.0, True),
        (_SPLIT, "profit_share", 1.0, True),
        (_SPLIT, "profit_share", -TINY, False),
        (_SPLIT, "profit_share", math.nan, False),
        (SPEC, "economic_life_years", 100.0, True),
        (SPEC, "economic_life_years", 100.000001, False),
        (SPEC, "legal_remaining_years", TINY, True),
        (SPEC, "legal_remaining_years", 100.5, False),
        (SPEC, "legal_remaining_years", 0.0, False),
        ({**SPEC, "revenue": 1.0}, "years", 100, True),
        ({**SPEC, "revenue": 1.0}, "years", 101, False),
    ],
)
def test_each_bound_accepts_its_edge_and_names_the_field_beyond_it(base, field, value, accepted):
    request = req(**{**base, field: value})
    if accepted:
        assert math.isfinite(income_value(request).value)
    else:
        with pytest.raises(ValuationInputError) as err:
            income_value(request)
        assert err.value.field == field
