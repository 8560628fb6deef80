import numpy as np
import pytest

from valuation.codes import CHAIN_CODES, N_INDICATORS
from valuation.market import Transactions
from valuation.pipeline import MODEL_VERSION, value_batch, value_patent

from .helpers import AS_OF, COEFFS, facts, random_batch


def test_value_patent_reconciles_income_and_cost_and_explains():
    f = facts(chain="ic", sales=5e7, chain_median_sales=2e7, rd_cost=2e6, legal_status="granted")
    v = value_patent(f, AS_OF)
    assert v.model_version == MODEL_VERSION and v.coefficient_version == "2024.1"
    assert v.income is not None and v.cost is not None and v.market is None
    assert v.weights == pytest.approx({"income": 6 / 7, "market": 0, "cost": 1 / 7}, abs=1e-6)
    assert v.base == pytest.approx(round(v.income.value * 6 / 7 + v.cost / 7, 2), abs=0.02)
    assert v.low < v.base < v.high
    assert v.steps[0].startswith("价值度") and v.steps[-1].startswith("综合评估")


def test_value_patent_with_market_comparables():
    n = 6
    tx = Transactions(
        ids=np.array([f"t{i}" for i in range(n)]), chain=np.full(n, CHAIN_CODES.index("ic"), np.int16),
        day=np.full(n, AS_OF.toordinal() - 30, np.int64), price=np.full(n, 3e6), revenue=np.full(n, 5e7),
        scores=np.full((n, N_INDICATORS), 50.0) + np.arange(n)[:, None],
    )  # fmt: skip
    v = value_patent(facts(chain="ic", sales=5e7), AS_OF, transactions=tx, lang="en")
    assert v.market is not None and v.market.applicable and v.market.value == pytest.approx(3e6)
    assert v.weights["market"] == pytest.approx(1 / 3)


def test_nothing_applicable_gives_no_range():
    v = value_patent(facts(), AS_OF)
    assert v.base is None and v.income is None and v.weights == {"income": 0, "market": 0, "cost": 0}


def test_batch_rows_are_consistent():
    b = random_batch(11, 300)
    out = value_batch(b, AS_OF, COEFFS)
    ok = np.isfinite(out.reconciled.base)
    assert ok.any()
    assert (out.reconciled.low[ok] <= out.reconciled.base[ok] + 1e-6).all()
    assert (out.reconciled.base[ok] <= out.reconciled.high[ok] + 1e-6).all()
    assert np.allclose(out.reconciled.weights[ok].sum(axis=1), 1)
