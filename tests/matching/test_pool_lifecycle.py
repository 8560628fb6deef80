import datetime as dt

import pytest

from matching.lifecycle import TERMINAL_STATES, TRANSITIONS, InvalidTransitionError, check_transition
from matching.policy import GraduationThresholds, WithdrawalPolicy
from matching.progress import (
    IMMEDIATE_WITHDRAWAL_REASONS,
    WITHDRAWAL_LABELS,
    ProgressReport,
    check_progress,
    is_graduation_candidate,
    is_withdrawal_candidate,
    withdrawal_label,
)

ALLOWED = {
    ("applied", "under_review"),
    ("under_review", "admitted"),
    ("under_review", "rejected"),
    ("admitted", "graduated"),
    ("admitted", "withdrawn"),
}


@pytest.mark.parametrize("current", list(TRANSITIONS))
@pytest.mark.parametrize("target", list(TRANSITIONS))
def test_only_documented_transitions_are_allowed(current, target):
    if (current, target) in ALLOWED:
        assert check_transition(current, target) == target
    else:
        with pytest.raises(InvalidTransitionError) as err:
            check_transition(current, target)
        assert current in str(err.value) and target in str(err.value)


def test_terminal_states_and_unknown_names():
    assert {"graduated", "withdrawn", "rejected"} == TERMINAL_STATES
    with pytest.raises(InvalidTransitionError, match="'graduated' is final"):
        check_transition("graduated", "admitted")
    with pytest.raises(InvalidTransitionError):
        check_transition("admitted", "deleted")


GRAD = GraduationThresholds()
DAY = dt.date(2024, 3, 1)


def report(**kw):
    return ProgressReport(reported_on=kw.pop("on", DAY), **kw)


def test_each_graduation_ground_alone_qualifies():
    assert check_progress(report(industrialisation_rate=0.70), 0.60, GRAD).grounds == ["rate_rise"]
    assert not check_progress(report(industrialisation_rate=0.69), 0.60, GRAD).qualifies
    assert check_progress(report(new_patent_intensive_products=1), None, GRAD).grounds == ["new_products"]
    grown = check_progress(report(product_sales_growth=0.2, product_profit_growth=0.25), None, GRAD, "en")
    assert grown.grounds == ["sales_and_profit_growth"] and "profit up 25%" in grown.reasons[0]
    assert not check_progress(report(product_sales_growth=0.5, product_profit_growth=0.1), None, GRAD).qualifies
    assert not check_progress(report(industrialisation_rate=0.9), None, GRAD).qualifies


def test_withdrawal_after_two_years_without_qualifying_report():
    admitted = dt.date(2022, 2, 28)
    weak = [report(on=dt.date(2023, 1, 1), industrialisation_rate=0.55)]
    strong = [*weak, report(on=dt.date(2023, 6, 1), new_patent_intensive_products=2)]
    wd = WithdrawalPolicy()
    assert not is_withdrawal_candidate(admitted, weak, 0.5, dt.date(2024, 2, 27), GRAD, wd)
    assert is_withdrawal_candidate(admitted, weak, 0.5, dt.date(2024, 2, 28), GRAD, wd)
    assert not is_withdrawal_candidate(admitted, strong, 0.5, dt.date(2025, 1, 1), GRAD, wd)
    assert is_graduation_candidate(strong, 0.5, GRAD) and not is_graduation_candidate(weak, 0.5, GRAD)


def test_leap_day_admission_counts_two_years():
    assert is_withdrawal_candidate(dt.date(2024, 2, 29), [], None, dt.date(2026, 2, 28), GRAD, WithdrawalPolicy())


def test_reason_codes_have_both_labels():
    assert set(WITHDRAWAL_LABELS) == {
        "no_progress",
        "safety_accident",
        "dishonesty",
        "tax_evasion",
        "data_fraud",
        "abnormal_filing",
        "voluntary",
    }
    assert withdrawal_label("tax_evasion") == "存在偷税漏税行为"
    assert withdrawal_label("tax_evasion", "en") == "tax evasion"
    assert "no_progress" not in IMMEDIATE_WITHDRAWAL_REASONS and "voluntary" not in IMMEDIATE_WITHDRAWAL_REASONS
