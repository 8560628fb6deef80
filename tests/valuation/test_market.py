import datetime as dt

import numpy as np
import pytest

from valuation.codes import CHAIN_CODES, N_INDICATORS
from valuation.market import Transactions, market_value_one, market_values

from .helpers import AS_OF, COEFFS

IC = CHAIN_CODES.index("ic")


def _tx(n, chain=IC, days_ago=100, seed=0, price=None, revenue=None):
    rng = np.random.default_rng(seed)
    return Transactions(
        ids=np.array([f"t{i}" for i in range(n)]),
        chain=np.full(n, chain, np.int16),
        day=np.full(n, AS_OF.toordinal() - days_ago, np.int64),
        price=np.full(n, 1e6) if price is None else np.asarray(price, float),
        revenue=np.full(n, 1e7) if revenue is None else np.asarray(revenue, float),
        scores=rng.uniform(20, 90, (n, N_INDICATORS)),
    )


def _concat(a, b):
    return Transactions(
        *(np.concatenate([getattr(a, f), getattr(b, f)]) for f in ("ids", "chain", "day", "price", "revenue", "scores"))
    )


def test_not_applicable_below_five_comparables():
    r = market_value_one(np.full(N_INDICATORS, 50.0), 1e7, "ic", _tx(4), AS_OF, COEFFS)
    assert not r.applicable and r.value is None and r.comparables_available == 4
    assert "少于 5" in r.steps[0]


def test_old_other_chain_and_future_transactions_do_not_count():
    tx = _concat(_concat(_tx(4), _tx(3, days_ago=4 * 366)), _concat(_tx(3, chain=IC + 1), _tx(3, days_ago=-10)))
    assert not market_value_one(np.full(N_INDICATORS, 50.0), 1e7, "ic", tx, AS_OF, COEFFS).applicable


def test_price_scaled_by_revenue_and_median_of_k():
    tx = _tx(8, price=[1e6] * 8, revenue=[1e7] * 8)
    r = market_value_one(np.full(N_INDICATORS, 50.0), 2e7, "ic", tx, AS_OF, COEFFS)
    assert r.applicable and len(r.comparables) == 5
    assert r.value == pytest.approx(2e6)
    assert all(c.scaled_price == pytest.approx(2e6) for c in r.comparables)


def test_nearest_comparables_are_chosen():
    tx = _tx(10, seed=3, price=np.arange(1, 11) * 1e5)
    target = tx.scores[7].copy()
    r = market_value_one(target, 1e7, "ic", tx, AS_OF, COEFFS)
    assert r.comparables[0].id == "t7" and r.comparables[0].distance == pytest.approx(0, abs=1e-9)
    assert [c.distance for c in r.comparables] == sorted(c.distance for c in r.comparables)


def test_batch_query_per_chain_and_not_applicable_rows():
    tx = _tx(6)
    scores = np.full((3, N_INDICATORS), 50.0)
    out = market_values(scores, np.array([1e7, np.nan, 1e7]), np.array([IC, IC, IC + 1], np.int16), tx, AS_OF, COEFFS)
    assert out.value[0] == pytest.approx(1e6)
    assert np.isnan(out.value[1]) and np.isnan(out.value[2])
    assert list(out.pool_size) == [6, 6, 0]
    assert (out.neighbours[0] >= 0).all()


def test_no_revenue_is_not_applicable_with_reason():
    r = market_value_one(np.full(N_INDICATORS, 50.0), 0.0, "ic", _tx(6), AS_OF, COEFFS, "en")
    assert not r.applicable and "no product sales" in r.steps[0]


def test_window_uses_the_valuation_date():
    tx = _tx(6, days_ago=100)
    later = AS_OF + dt.timedelta(days=3 * 366)
    assert not market_value_one(np.full(N_INDICATORS, 50.0), 1e7, "ic", tx, later, COEFFS).applicable


def test_cached_models_follow_the_transactions():
    tx = _tx(8, seed=5, price=np.arange(1, 9) * 1e5)
    target = tx.scores[2].copy()
    first = market_value_one(target, 1e7, "ic", tx, AS_OF, COEFFS)
    assert market_value_one(target, 1e7, "ic", tx, AS_OF, COEFFS) == first  # served by the cached model
    moved = tx.scores.copy()
    moved[2] += 40.0  # the nearest comparable changes: a new pool digest, a new model
    changed = Transactions(tx.ids, tx.chain, tx.day, tx.price, tx.revenue, moved)
    again = market_value_one(target, 1e7, "ic", changed, AS_OF, COEFFS)
    assert again.comparables[0].id != "t2" or again.comparables[0].distance > 0


def test_batch_rows_explain_like_a_single_query():
    from valuation.market import market_result

    tx = _tx(9, seed=7, price=np.linspace(1e5, 9e5, 9), revenue=np.linspace(1e7, 3e7, 9))
    scores = np.random.default_rng(1).uniform(20, 90, (4, N_INDICATORS))
    revenue = np.array([1e7, 2e7, 3e7, 4e7])
    res = market_values(scores, revenue, np.full(4, IC, np.int16), tx, AS_OF, COEFFS)
    for i in range(4):
        single = market_value_one(scores[i], float(revenue[i]), "ic", tx, AS_OF, COEFFS)
        batch = market_result(res, i, float(revenue[i]), tx, COEFFS)
        assert (batch.value, batch.steps) == (single.value, single.steps)
        assert [c.id for c in batch.comparables] == [c.id for c in single.comparables]
        # the distances agree to rounding (a multi-row query computes them through a matrix product)
        assert [c.distance for c in batch.comparables] == pytest.approx([c.distance for c in single.comparables])


@pytest.mark.parametrize("pool_rows", [5, 20, 300])
def test_small_queries_equal_kneighbors_bit_for_bit(pool_rows):
    """What a small query gave before: ``kneighbors`` under threadpoolctl's one-thread OpenMP limit.

    (Over 256 pooled rows the reduction splits the pool across threads, which can order tied neighbours
    differently: the limit matters.)
    """
    from threadpoolctl import threadpool_limits

    from valuation.market import _SMALL_QUERY, _fitted

    rng = np.random.default_rng(pool_rows)
    pool = rng.uniform(20, 90, (pool_rows, N_INDICATORS + 1))
    pool[pool_rows // 2 :] = pool[: pool_rows - pool_rows // 2]  # duplicate rows: tied distances
    model = _fitted(pool, min(5, pool_rows))
    assert model.brute  # the path under test is taken
    for rows in (1, 3, 24, _SMALL_QUERY):
        queries = rng.uniform(20, 90, (rows, N_INDICATORS + 1))
        queries[0] = pool[1]  # a query equal to a pooled row
        dist, idx = model.query(queries)
        with threadpool_limits(limits=1, user_api="openmp"):
            want_dist, want_idx = model.nn.kneighbors((queries - model.mean) / model.scale)
        assert dist.tobytes() == want_dist.tobytes() and dist.dtype == want_dist.dtype
        assert idx.tobytes() == want_idx.tobytes() and idx.dtype == want_idx.dtype


def test_small_query_with_a_non_finite_row_fails_as_kneighbors_does():
    from valuation.market import _fitted

    model = _fitted(np.random.default_rng(3).uniform(20, 90, (10, N_INDICATORS + 1)), 5)
    bad = np.full((1, N_INDICATORS + 1), 50.0)
    bad[0, 3] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        model.query(bad)


def test_row_medians_equal_numpy_median():
    from valuation.market import _row_medians

    rng = np.random.default_rng(11)
    for t in range(2000):
        x = rng.lognormal(14, 2, (int(rng.integers(1, 30)), int(rng.integers(1, 9))))
        if t % 3 == 0:
            x = np.round(x, -6)  # ties
        if t % 7 == 0:
            x[0, 0] = np.inf
        if t % 11 == 0:
            x[-1, -1] = np.nan
        with np.errstate(invalid="ignore"):
            want = np.median(x, axis=1)
        assert _row_medians(x).tobytes() == want.tobytes()
