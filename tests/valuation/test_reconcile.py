import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from valuation.reconcile import method_weights, reconcile

from .helpers import COEFFS

maybe = st.one_of(st.just(np.nan), st.floats(0, 1e9))


def test_nominal_weights_when_all_apply():
    w = method_weights(np.array([1.0]), np.array([2.0]), np.array([3.0]), COEFFS)
    assert list(w[0]) == pytest.approx([0.6, 0.3, 0.1])


def test_renormalised_without_market():
    r = reconcile(np.array([80.0]), np.array([100.0]), np.array([130.0]), np.array([np.nan]), np.array([50.0]), COEFFS)
    assert list(r.weights[0]) == pytest.approx([6 / 7, 0, 1 / 7])
    assert r.base[0] == pytest.approx(100 * 6 / 7 + 50 / 7)
    assert r.low[0] == pytest.approx(80 * 6 / 7 + 50 / 7)


def test_nothing_applies_gives_nan_and_zero_weights():
    r = reconcile(*(np.array([np.nan]) for _ in range(5)), COEFFS)
    assert np.isnan(r.base[0]) and r.weights.sum() == 0


@settings(max_examples=100, deadline=None)
@given(data=st.data(), n=st.integers(1, 30))
def test_weights_sum_to_one_over_the_methods_that_apply(data, n):
    cols = [data.draw(hnp.arrays(np.float64, n, elements=maybe)) for _ in range(3)]
    w = method_weights(*cols, COEFFS)
    applies = np.isfinite(np.column_stack(cols))
    some = applies.any(axis=1)
    assert np.allclose(w[some].sum(axis=1), 1.0)
    assert (w[~applies] == 0).all()
    assert (w[~some] == 0).all()
    low = cols[0] * 0.7
    high = cols[0] * 1.4
    r = reconcile(low, cols[0], high, cols[1], cols[2], COEFFS)
    assert (r.low[some] <= r.base[some] + 1e-6).all() and (r.base[some] <= r.high[some] + 1e-6).all()
