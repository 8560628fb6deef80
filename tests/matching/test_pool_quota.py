import pytest
from hypothesis import given
from hypothesis import strategies as st

from matching.policy import QuotaPolicy
from matching.quota import ProvinceCounts, decide_admission

POLICY = QuotaPolicy()


def counts(initial, supplements=0, graduations=0):
    return ProvinceCounts(initial_admissions=initial, supplements=supplements, graduations=graduations)


@pytest.mark.parametrize(("province", "cap"), [("广东", 500), ("辽宁", 500), ("湖南", 300), ("北京", 300)])
def test_cap_depends_on_province(province, cap):
    assert decide_admission(province, counts(cap - 1), POLICY).kind == "initial"
    assert decide_admission(province, counts(cap), POLICY).kind == "refused"


def test_extra_large_provinces_are_configurable():
    policy = QuotaPolicy(extra_large_provinces=("江苏",))
    assert decide_admission("江苏", counts(400), policy).kind == "initial"
    assert decide_admission("江苏", counts(400), POLICY).kind == "refused"


def test_supplements_up_to_twice_graduations():
    assert decide_admission("湖南", counts(300, supplements=5, graduations=3), POLICY).kind == "supplement"
    refused = decide_admission("湖南", counts(300, supplements=6, graduations=3), POLICY, lang="en")
    assert refused.kind == "refused" and not refused.allowed
    assert "6 used" in refused.reason and "2 x 3" in refused.reason


@given(
    initial=st.integers(0, 600),
    supplements=st.integers(0, 50),
    graduations=st.integers(0, 30),
    province=st.sampled_from(["广东", "湖南"]),
)
def test_decision_never_exceeds_the_limits(initial, supplements, graduations, province):
    decision = decide_admission(province, counts(initial, supplements, graduations), POLICY)
    cap = POLICY.cap_for(province)
    if decision.kind == "initial":
        assert initial < cap
    elif decision.kind == "supplement":
        assert initial >= cap and supplements < 2 * graduations
    else:
        assert initial >= cap and supplements >= 2 * graduations
    assert decision.reason


def test_filling_a_province_seat_by_seat_admits_exactly_the_quota():
    state = {"initial": 0, "supplements": 0}
    for _ in range(400):
        d = decide_admission("湖南", counts(state["initial"], state["supplements"], graduations=7), POLICY)
        if d.kind == "initial":
            state["initial"] += 1
        elif d.kind == "supplement":
            state["supplements"] += 1
    assert state == {"initial": 300, "supplements": 14}
