import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from valuation.batch import batch_from_facts
from valuation.degree import value_degrees
from valuation.income import IncomeRequest, income_value
from valuation.money import Shift, growing_annuity, income_values, split_product_royalty

from .helpers import AS_OF, COEFFS, facts, random_batch

PROPS = settings(max_examples=60, deadline=None)


def _one(**kw):
    b = batch_from_facts([facts(**kw)], AS_OF)
    d = value_degrees(b, COEFFS)
    return b, d, income_values(b, d, COEFFS)


@pytest.mark.parametrize(("g", "n"), [(0.0, 5.0), (0.08, 7.3), (-0.05, 2.5), (0.1, 0.4)])
def test_vectorised_income_equals_the_explicit_calculator(g, n):
    _, _, inc = _one(chain="nev", sales=2e7, sales_growth=g, remaining_term_years=n, high_tech=True)
    periods = math.ceil(n)
    revenue = [2e7 * (1 + g) ** t for t in range(periods)]
    explicit = income_value(
        IncomeRequest(
            method="royalty_relief", discount_rate=float(inc.discount_rate[0]), tax_rate=float(inc.tax_rate[0]),
            revenue=revenue, royalty_rate=float(inc.royalty_rate[0]), legal_remaining_years=n,
        )
    )  # fmt: skip
    assert inc.tax_rate[0] == 0.15
    assert inc.value[0] == pytest.approx(explicit.value, rel=1e-9)


def test_royalty_within_the_chain_band_and_tax_by_high_tech():
    _, d, inc = _one(chain="nev", sales=1e7)
    band = COEFFS.royalty_bands["automotive"]
    assert inc.royalty_rate[0] == pytest.approx(band.low + (band.high - band.low) * d.V[0] / 100)
    assert inc.tax_rate[0] == 0.25
    assert 13 < inc.horizon[0] < 14  # statutory term left: 20 years from 2018-03-01, seen from 2024-06-01


def test_no_sales_or_no_chain_is_not_applicable():
    assert np.isnan(_one(chain="nev")[2].value[0])
    assert np.isnan(_one(sales=1e6)[2].value[0])


def test_discount_rate_falls_as_scores_rise():
    _, d, inc = _one(chain="ic", sales=1e6)
    rich = dataclasses.replace(d, L=d.L + 30, T=d.T + 30, E=d.E + 30)
    b = batch_from_facts([facts(chain="ic", sales=1e6)], AS_OF)
    assert income_values(b, rich, COEFFS).discount_rate[0] < inc.discount_rate[0]
    assert COEFFS.risk_free_rate < inc.discount_rate[0] < 0.2


def test_sensitivity_shift_moves_value_the_expected_way():
    b, d, inc = _one(chain="ic", sales=1e7, sales_growth=0.1)
    low = income_values(b, d, COEFFS, Shift(0.02, -0.5, 0.8)).value[0]
    high = income_values(b, d, COEFFS, Shift(-0.02, 0.5, 1.2)).value[0]
    assert low < inc.value[0] < high


def test_growing_annuity_special_case_g_equals_r():
    v = growing_annuity(np.array([10.0]), np.array([0.05]), np.array([0.05]), np.array([3.0]))
    assert v[0] == pytest.approx(3 * 10 / 1.05)


@PROPS
@given(
    product=hnp.arrays(np.int64, st.integers(1, 40), elements=st.integers(-1, 4)),
    data=st.data(),
)
def test_product_shares_conserve_the_royalty(product, data):
    weight = data.draw(hnp.arrays(np.float64, product.shape, elements=st.floats(0, 100)))
    share = split_product_royalty(product, weight)
    assert (share[product < 0] == 1).all()
    for p in np.unique(product[product >= 0]):
        assert share[product == p].sum() == pytest.approx(1.0)
    royalty = 12_345.67
    assert (share[product == 0] * royalty).sum() == pytest.approx(royalty if (product == 0).any() else 0.0)


@PROPS
@given(seed=st.integers(0, 2**32 - 1), row=st.integers(0, 59), bump=st.floats(0.1, 60))
def test_higher_value_degree_never_lowers_the_royalty(seed, row, bump):
    b = random_batch(seed)
    d = value_degrees(b, COEFFS)
    before = income_values(b, d, COEFFS)
    v = d.V.copy()
    v[row] = min(100.0, v[row] + bump)
    after = income_values(b, dataclasses.replace(d, V=v), COEFFS)
    ok = np.isfinite(before.annual_royalty[row])
    assert not ok or after.annual_royalty[row] >= before.annual_royalty[row] - 1e-9
    assert not ok or after.royalty_rate[row] >= before.royalty_rate[row] - 1e-12


@PROPS
@given(seed=st.integers(0, 2**32 - 1))
def test_patents_of_one_product_split_exactly_its_royalty(seed):
    b = random_batch(seed)
    b.product[:] = np.arange(b.size) % 3
    b.chain[:] = 4
    b.numeric["sales"][:] = 5e6
    d = value_degrees(b, COEFFS)
    inc = income_values(b, d, COEFFS)
    band = COEFFS.royalty_bands[COEFFS.chain_bands["meddev"]]
    for p in range(3):
        rows = b.product == p
        k = band.low + (band.high - band.low) * d.V[rows].mean() / 100
        assert inc.annual_royalty[rows].sum() == pytest.approx(5e6 * k)


def test_product_groups_number_products_as_numpy_unique_does():
    from valuation.money import product_groups, product_mean

    rng = np.random.default_rng(8)
    for t in range(200):
        n = int(rng.integers(0, 50))
        product = np.where(rng.random(n) < 0.3, -1, rng.integers(0, [3, 40, 10**12][t % 3], n)).astype(np.int64)
        shared, group = product_groups(product)
        assert (shared == (product >= 0)).all()
        if not shared.any():
            assert group is None
            continue
        want = np.unique(product[shared], return_inverse=True)[1]
        assert group is not None and group.tolist() == want.ravel().tolist()
        value = rng.uniform(0, 100, n)
        assert product_mean(product, value).tobytes() == product_mean(product, value, (shared, group)).tobytes()


@pytest.mark.parametrize("seed", range(6))
def test_scenarios_together_equal_each_alone_bit_for_bit(seed):
    from valuation.money import income_scenarios
    from valuation.pipeline import sensitivity_shifts

    batch = random_batch(seed, [1, 7, 24, 300, 5000, 40000][seed])
    degrees = value_degrees(batch, COEFFS)
    shifts = [Shift(), *sensitivity_shifts(COEFFS), Shift(0.05, -0.9, 0.3)]
    together = income_scenarios(batch, degrees, COEFFS, shifts)
    for shift, got in zip(shifts, together, strict=True):
        alone = income_values(batch, degrees, COEFFS, shift)
        for name in ("royalty_rate", "share", "annual_royalty", "discount_rate", "tax_rate", "horizon", "value"):
            assert getattr(got, name).tobytes() == getattr(alone, name).tobytes(), name
