import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valuation.batch import batch_from_facts
from valuation.codes import INDICATOR_INDEX, N_INDICATORS
from valuation.degree import indicator_weights, value_degree_one, value_degrees
from valuation.errors import ValuationInputError

from .helpers import AS_OF, COEFFS, facts, random_batch, with_column

seeds = st.integers(0, 2**32 - 1)
PROPS = settings(max_examples=60, deadline=None)


def test_all_neutral_patent_scores_fifty_with_zero_confidence():
    d = value_degrees(batch_from_facts([facts(remaining_term_years=None)], AS_OF), COEFFS)
    # remaining term is always known (statutory), so economic life is scored from data
    assert d.defaulted[0].sum() == N_INDICATORS - 1
    assert d.confidence[0] == pytest.approx(indicator_weights(COEFFS, "pledge")[INDICATOR_INDEX["economic_life"]])


def test_weights_sum_to_one_per_scenario():
    for scenario in ("pledge", "transaction"):
        assert indicator_weights(COEFFS, scenario).sum() == pytest.approx(1.0)


def test_v_is_the_weighted_sum_and_grades_follow_thresholds():
    b = random_batch(7, 200)
    d = value_degrees(b, COEFFS)
    assert np.allclose(d.V, 0.4 * d.L + 0.3 * d.T + 0.3 * d.E)
    assert np.allclose(d.V, d.scores @ indicator_weights(COEFFS, "pledge"))
    expected = np.select([d.V >= 80, d.V >= 65, d.V >= 50], [0, 1, 2], 3)
    assert (d.grade == expected).all()
    t = value_degrees(b, COEFFS, "transaction")
    assert np.allclose(t.V, 0.3 * t.L + 0.35 * t.T + 0.35 * t.E)


def test_confidence_counts_data_and_declarations():
    full = facts(declared={k: 3 for k in INDICATOR_INDEX})
    assert value_degree_one(full, AS_OF).confidence == pytest.approx(1.0)


def test_unknown_scenario_is_rejected():
    with pytest.raises(ValuationInputError):
        value_degrees(random_batch(1, 3), COEFFS, "auction")  # type: ignore[arg-type]


def test_single_patent_path_equals_batch_row():
    fs = [
        facts(forward_citations=i, claim_count=i + 1, chain="ai", sales=1e6 * i, chain_median_sales=1e6)
        for i in range(5)
    ]
    d = value_degrees(batch_from_facts(fs, AS_OF), COEFFS)
    one = value_degree_one(fs[3], AS_OF)
    assert round(float(d.V[3]), 2) == one.V
    assert one.grade == "ABCD"[d.grade[3]]
    assert [i.source for i in one.indicators].count("default") == int(d.defaulted[3].sum())


def test_english_names():
    one = value_degree_one(facts(), AS_OF, lang="en")
    assert one.indicators[0].name == "validity"
    assert value_degree_one(facts(), AS_OF).indicators[0].name == "专利有效性"


@PROPS
@given(seed=seeds, row=st.integers(0, 59), extra=st.integers(1, 200))
def test_more_forward_citations_never_lower_t(seed, row, extra):
    b = random_batch(seed)
    b.ipc_section[:] = 1  # one big cohort, so percentiles are in play
    b = with_column(b, "forward_citations", np.nan_to_num(b.col("forward_citations")))
    before = value_degrees(b, COEFFS)
    cited = b.col("forward_citations").copy()
    cited[row] = np.nan_to_num(cited[row]) + extra
    after = value_degrees(with_column(b, "forward_citations", cited), COEFFS)
    assert after.T[row] >= before.T[row] - 1e-9
    assert after.V[row] >= before.V[row] - 1e-9


@PROPS
@given(seed=seeds, major=st.integers(0, 5), other=st.integers(0, 9))
def test_more_family_offices_never_lower_l(seed, major, other):
    b = random_batch(seed)
    b = with_column(b, "family_major", np.nan_to_num(b.col("family_major")))  # data known: compare like with like
    b = with_column(b, "family_other", np.nan_to_num(b.col("family_other")))
    before = value_degrees(b, COEFFS)
    more_major = np.nan_to_num(b.col("family_major")) + major
    more_other = np.nan_to_num(b.col("family_other")) + other
    after = value_degrees(with_column(with_column(b, "family_major", more_major), "family_other", more_other), COEFFS)
    assert (after.L >= before.L - 1e-9).all()


@PROPS
@given(seed=seeds, extra=st.integers(1, 50))
def test_more_claims_never_lower_l(seed, extra):
    b = random_batch(seed)
    b = with_column(b, "claim_count", np.nan_to_num(b.col("claim_count")))
    before = value_degrees(b, COEFFS)
    after = value_degrees(with_column(b, "claim_count", np.nan_to_num(b.col("claim_count")) + extra), COEFFS)
    assert (after.L >= before.L - 1e-9).all()


@PROPS
@given(seed=seeds, cut=st.floats(0.0, 25.0))
def test_less_remaining_term_never_raises_l_or_e(seed, cut):
    b = random_batch(seed)
    before = value_degrees(b, COEFFS)
    shorter = np.maximum(b.col("remaining_term_years") - cut, 0.0)
    after = value_degrees(with_column(b, "remaining_term_years", shorter), COEFFS)
    assert (after.L <= before.L + 1e-9).all()
    assert (after.E <= before.E + 1e-9).all()


@PROPS
@given(seed=seeds)
def test_scores_bounded_and_confidence_in_unit_interval(seed):
    d = value_degrees(random_batch(seed), COEFFS)
    assert ((d.scores >= 0) & (d.scores <= 100)).all()
    assert ((d.V >= 0) & (d.V <= 100)).all()
    assert ((d.confidence >= 0) & (d.confidence <= 1 + 1e-12)).all()


@pytest.mark.parametrize("kind", ["legal_status", "maturity", "litigation"])
@pytest.mark.parametrize("code", [-1, -128, 99])
@pytest.mark.parametrize("dtype", ["int8", "int64"])
def test_batch_rejects_a_categorical_code_out_of_range_naming_its_kind(kind, code, dtype):
    import dataclasses

    from valuation.batch import empty_batch
    from valuation.codes import LABELS

    batch = empty_batch(5)
    codes = batch.categorical[kind].astype(dtype)
    codes[3] = code
    dataclasses.replace(batch, categorical={**batch.categorical, kind: codes * 0})  # in range: accepted
    with pytest.raises(ValuationInputError) as err:
        dataclasses.replace(batch, categorical={**batch.categorical, kind: codes})
    assert err.value.field == kind and f"0..{len(LABELS[kind])}" in err.value.message
