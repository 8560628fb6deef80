import msgspec
import pytest

from valuation.coefficients import CoefficientSet, default_coefficients, load_coefficients
from valuation.errors import ValuationInputError


def _doc() -> dict:
    return msgspec.to_builtins(default_coefficients())


def _load(doc: dict) -> CoefficientSet:
    return load_coefficients(msgspec.json.encode(doc))


def test_default_set_loads_with_spec_numbers():
    c = default_coefficients()
    assert c.version == "2024.1"
    assert (c.scenario_weights["pledge"].L, c.scenario_weights["pledge"].T, c.scenario_weights["pledge"].E) == (
        0.4,
        0.3,
        0.3,
    )
    assert c.risk_free_rate == 0.025
    assert (c.tax.standard, c.tax.high_tech) == (0.25, 0.15)
    assert (c.reconciliation_weights.income, c.reconciliation_weights.market, c.reconciliation_weights.cost) == (
        0.6,
        0.3,
        0.1,
    )
    assert (c.grade_thresholds.A, c.grade_thresholds.B, c.grade_thresholds.C) == (80, 65, 50)
    assert c.pledge.rates["invention"] == {"A": 0.35, "B": 0.30, "C": 0.20, "D": 0.0}
    assert c.pledge.rates["utility_model"] == {"A": 0.25, "B": 0.20, "C": 0.10, "D": 0.0}
    assert c.pledge.rates["design"] == {"A": 0.10, "B": 0.05, "C": 0.0, "D": 0.0}
    assert c.pledge.min_remaining_term_years["invention"] == 3
    assert c.pledge.min_remaining_term_years["utility_model"] == 2
    assert c.royalty_bands[c.chain_bands["nev"]].low == 0.045


def test_round_trip_is_identical():
    assert _load(_doc()) == default_coefficients()


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d["scenario_weights"]["pledge"].update(L=0.5), "scenario_weights.pledge"),
        (lambda d: d["indicator_weights"].update(family=0.2), "indicator_weights[L]"),
        (lambda d: d["indicator_weights"].pop("litigation"), "indicator_weights"),
        (lambda d: d["royalty_bands"]["machinery"].update(low=0.05), "royalty_bands.machinery"),
        (lambda d: d["chain_bands"].pop("ic"), "chain_bands"),
        (lambda d: d["chain_bands"].update(ic="nope"), "chain_bands.ic"),
        (lambda d: d["risk_premia"]["L"].update(at_hundred=0.06), "risk_premia.L"),
        (lambda d: d["reconciliation_weights"].update(cost=0.2), "reconciliation_weights"),
        (lambda d: d["grade_thresholds"].update(B=90), "grade_thresholds"),
        (lambda d: d["pledge"]["rates"]["invention"].update(D=0.5), "pledge.rates.invention"),
        (lambda d: d["categorical"]["maturity"].pop("lab"), "categorical.maturity"),
        (lambda d: d["rules"]["market_share"].update(scores=[1, 2]), "rules.market_share.scores"),
        (lambda d: d["declared_scores"].append(5), "declared_scores"),
        (lambda d: d["market"].update(neighbours=10**9), "market.neighbours"),
        (lambda d: d["market"].update(min_comparables=0), "market.min_comparables"),
        (lambda d: d["rules"]["market_share"].update(bounds=[0.1] * 60_000), "rules.market_share.bounds"),
        (
            lambda d: d["royalty_bands"].update({f"x{i}": d["royalty_bands"]["machinery"] for i in range(200)}),
            "royalty_bands",
        ),
    ],
)
def test_invalid_set_names_the_field(edit, field):
    doc = _doc()
    edit(doc)
    with pytest.raises(ValuationInputError) as err:
        _load(doc)
    assert err.value.field == field


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d["tax"].update(standard=1.5), "tax.standard"),
        (lambda d: d.update(risk_free_rate=-0.01), "risk_free_rate"),
        (lambda d: d["pledge"]["rates"]["design"].update(A=1.0), "pledge.rates.design.A"),
        (lambda d: d.update(surprise=1), "$"),
        (lambda d: d.update(version="2024/2"), "version"),  # a version is one path segment of the API
        (lambda d: d.update(version=".."), "version"),
    ],
)
def test_type_errors_name_the_field(edit, field):
    doc = _doc()
    edit(doc)
    with pytest.raises(ValuationInputError) as err:
        _load(doc)
    assert err.value.field.startswith(field.split(".")[0])
    assert field in str(err.value) or field == "$"


def test_not_json_is_rejected():
    with pytest.raises(ValuationInputError):
        load_coefficients(b"{nope")
