"""One test per indicator rule: data score, and the fallback to declaration then default."""

import numpy as np
import pytest

from valuation.batch import empty_batch
from valuation.indicators import cohort_percentile

from .helpers import score


@pytest.mark.parametrize(("status", "expected"), [("granted", 100), ("pending", 40), ("lapsed", 0), ("invalid", 0)])
def test_validity_by_status(status, expected):
    assert score("validity", legal_status=status) == (expected, "data")


def test_validity_granted_but_expired_counts_as_lapsed():
    assert score("validity", legal_status="granted", remaining_term_years=0) == (0, "data")


@pytest.mark.parametrize(
    ("major", "other", "expected"), [(0, 0, 40), (1, 0, 55), (2, 1, 78), (4, 3, 100), (None, 2, 56)]
)
def test_family_offices(major, other, expected):
    assert score("family", family_major_offices=major, family_other_offices=other) == (expected, "data")


def test_family_unknown_falls_back_to_declaration_then_default():
    assert score("family", declared={"family": 4}) == (80, "declared")
    assert score("family") == (50, "default")


@pytest.mark.parametrize(
    ("label", "expected"),
    [("survived", 100), ("never_challenged", 70), ("partly_invalidated", 40), ("pending", 20)],
)
def test_invalidation_history(label, expected):
    assert score("invalidation", invalidation=label) == (expected, "data")


@pytest.mark.parametrize(("chars", "expected"), [(30, 90), (60, 90), (230, 60), (400, 30), (900, 30)])
def test_design_around_from_first_claim_length(chars, expected):
    assert score("design_around", first_claim_chars=chars) == (pytest.approx(expected), "data")


def test_design_around_declared_wins_over_default():
    assert score("design_around", declared={"design_around": 5}) == (100, "declared")


def test_claim_set_counts_and_layering():
    single = score("claim_set", claim_count=1, independent_claims=1)[0]
    layered = score("claim_set", claim_count=10, independent_claims=3)[0]
    assert single == pytest.approx(20 + 4.5 + 20 / 3)
    assert layered == pytest.approx(100)
    assert score("claim_set", claim_count=0) == (20, "data")
    assert score("claim_set")[1] == "default"


@pytest.mark.parametrize(
    ("label", "expected"), [("product_and_method", 100), ("product", 80), ("method", 60), ("design", 50)]
)
def test_claim_types(label, expected):
    assert score("claim_types", claim_types=label) == (expected, "data")


@pytest.mark.parametrize(
    ("label", "expected"), [("independent", 100), ("licensed_in", 50), ("unlicensed_third_party", 20)]
)
def test_dependency(label, expected):
    assert score("dependency", dependency=label) == (expected, "data")


@pytest.mark.parametrize("key", ["importance", "effect", "control"])
def test_declared_only_indicators(key):
    assert score(key) == (50, "default")
    assert score(key, declared={key: 1}) == (20, "declared")
    assert score(key, declared={key: 3}) == (60, "declared")


def test_originality_label_then_backward_citations():
    assert score("originality", originality="pioneering") == (100, "data")
    assert score("originality", originality="improvement", backward_citations=0) == (60, "data")
    assert score("originality", backward_citations=0) == (80, "data")
    assert score("originality", backward_citations=15) == (60, "data")
    assert score("originality", backward_citations=99) == (40, "data")


def test_citations_log_scale_for_a_lone_patent():
    assert score("citations", forward_citations=0) == (0, "data")
    assert score("citations", forward_citations=50) == (pytest.approx(100), "data")
    assert score("citations", forward_citations=7)[0] == pytest.approx(100 * np.log(8) / np.log(51))


def test_citations_percentile_within_a_full_cohort():
    n = 40
    b = empty_batch(n)
    b.numeric["forward_citations"][:] = np.arange(n)
    b.numeric["filing_year"][:] = 2019
    b.ipc_section[:] = 7
    from valuation.indicators import citations

    from .helpers import COEFFS

    s = citations(b, COEFFS)
    assert s[0] == 0 and s[-1] == 100
    assert s[20] == pytest.approx(100 * 20 / 39)


def test_cohort_percentile_ties_and_cohorts():
    cohort = np.array([1, 1, 1, 2, 2, -1])
    value = np.array([5, 5, 9, 1, 0, 3])
    pct, size = cohort_percentile(cohort, value)
    assert list(pct[:5]) == [25.0, 25.0, 100.0, 100.0, 0.0]
    assert list(size) == [3, 3, 3, 2, 2, 0]


@pytest.mark.parametrize(("label", "expected"), [("none", 100), ("few", 60), ("many", 20)])
def test_substitutes(label, expected):
    assert score("substitutes", substitutes=label) == (expected, "data")


@pytest.mark.parametrize(("count", "expected"), [(1, 40), (2, 60), (4, 100), (9, 100)])
def test_fields_from_ipc_subclasses(count, expected):
    assert score("fields", ipc_subclasses=count) == (expected, "data")


@pytest.mark.parametrize(("count", "expected"), [(1, 50), (2, 75), (3, 100)])
def test_breadth_from_ipc_sections(count, expected):
    assert score("breadth", ipc_sections=count) == (expected, "data")


@pytest.mark.parametrize(("label", "expected"), [("self_sufficient", 100), ("moderate", 65), ("heavy", 30)])
def test_complementary(label, expected):
    assert score("complementary", complementary=label) == (expected, "data")


@pytest.mark.parametrize(("label", "expected"), [("lab", 30), ("pilot", 60), ("mass_production", 100)])
def test_maturity(label, expected):
    assert score("maturity", maturity=label) == (expected, "data")


@pytest.mark.parametrize(("label", "expected"), [("emerging_growth", 90), ("mature", 60), ("declining", 20)])
def test_lifecycle(label, expected):
    assert score("lifecycle", lifecycle=label) == (expected, "data")


def test_economic_life_is_the_shorter_life_against_the_type_reference():
    assert score("economic_life", remaining_term_years=7.5) == (50, "data")
    assert score("economic_life", remaining_term_years=12, economic_life_years=3) == (20, "data")
    assert score("economic_life", patent_type="utility_model", remaining_term_years=4) == (50, "data")
    assert score("economic_life", remaining_term_years=30) == (100, "data")


def test_economic_life_from_statutory_term():
    # invention filed 2018-03-01, valued 2024-06-01: about 13.75 of 20 years left, reference 15
    assert score("economic_life")[0] == pytest.approx(100 * 13.75 / 15, abs=0.1)


@pytest.mark.parametrize(("count", "expected"), [(0, 30), (3, 60), (7, 100), (20, 100)])
def test_defensive_related_patents(count, expected):
    assert score("defensive", related_patents=count) == (expected, "data")


@pytest.mark.parametrize(("label", "expected"), [("few", 90), ("some", 65), ("many", 40)])
def test_competitors(label, expected):
    assert score("competitors", competitors=label) == (expected, "data")


def test_sales_log_scaled_against_chain_median():
    assert score("sales", sales=1e7, chain_median_sales=1e7) == (50, "data")
    assert score("sales", sales=1e8, chain_median_sales=1e7)[0] == pytest.approx(75, abs=1e-5)
    assert score("sales", sales=1e5, chain_median_sales=1e7)[0] == pytest.approx(0, abs=1e-3)
    assert score("sales", sales=1e7)[1] == "default"


@pytest.mark.parametrize(
    ("share", "expected"), [(0.005, 20), (0.01, 40), (0.07, 60), (0.10, 80), (0.299, 80), (0.30, 100), (0.9, 100)]
)
def test_market_share_bands(share, expected):
    assert score("market_share", market_share=share) == (expected, "data")


def test_policy_fit_declared_then_chain():
    assert score("policy_fit", policy_fit="not_listed", chain="ic") == (30, "data")
    assert score("policy_fit", chain="ic") == (100, "data")
    assert score("policy_fit", chain="agri_food") == (60, "data")
    assert score("policy_fit") == (50, "default")


@pytest.mark.parametrize(("label", "expected"), [("licensed_out", 90), ("transferred", 70), ("none", 40)])
def test_licensing(label, expected):
    assert score("licensing", licensing=label) == (expected, "data")


@pytest.mark.parametrize(("label", "expected"), [("pledged_released_or_insured", 90), ("none", 50)])
def test_financing(label, expected):
    assert score("financing", financing=label) == (expected, "data")


@pytest.mark.parametrize(("label", "expected"), [("won", 100), ("none", 60), ("lost_or_defending", 20)])
def test_litigation(label, expected):
    assert score("litigation", litigation=label) == (expected, "data")
