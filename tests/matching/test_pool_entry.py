import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matching.entry import CRITERION_CODES, evaluate_entry
from matching.facts import EnterpriseFacts
from matching.policy import DEFAULT_POOL_POLICY, EntryThresholds, PoolPolicy

GOOD = EnterpriseFacts(
    province="广东",
    city="深圳",
    independent_legal_person=True,
    size_class="small",
    certifications=frozenset({"zjtx", "hnte"}),
    patent_intensive_industry=True,
    core_patents_in_main_products=True,
    patent_products_filed=True,
    industrialisation_rate=0.62,
    revenue_last_year=40_000_000,
    rd_spend_last_year=4_500_000,
    employees=100,
    rd_staff=10,
    university_partnership=True,
    owns_trademark=True,
    ip_management_system=True,
    abnormal_patent_filing=False,
    major_safety_accident=False,
    violation=False,
    serious_dishonesty=False,
)


def verdicts(facts, lang="zh", policy=DEFAULT_POOL_POLICY, province="广东"):
    return {r.code: r.verdict for r in evaluate_entry(facts, province, policy, lang)}


def test_good_enterprise_passes_all_ten_in_order():
    results = evaluate_entry(GOOD, "广东", DEFAULT_POOL_POLICY)
    assert [r.number for r in results] == list(range(1, 11))
    assert [r.code for r in results] == list(CRITERION_CODES)
    assert all(r.verdict == "pass" for r in results), results


def test_empty_facts_are_unknown_except_province():
    results = verdicts(EnterpriseFacts(province="广东"))
    assert set(results.values()) == {"unknown"}


def test_other_province_and_large_fail_criterion_1_with_reason():
    facts = msgspec.structs.replace(GOOD, province="湖南", size_class="large")
    [first] = [r for r in evaluate_entry(facts, "广东", DEFAULT_POOL_POLICY, "zh") if r.number == 1]
    assert first.verdict == "fail"
    assert "湖南" in first.reason and "大型企业" in first.reason
    [first_en] = [r for r in evaluate_entry(facts, "广东", DEFAULT_POOL_POLICY, "en") if r.number == 1]
    assert "not an SME" in first_en.reason


def test_industrialisation_threshold_is_inclusive_and_from_policy():
    at = msgspec.structs.replace(GOOD, industrialisation_rate=0.5)
    below = msgspec.structs.replace(GOOD, industrialisation_rate=0.49)
    assert verdicts(at)["industrialisation_rate"] == "pass"
    assert verdicts(below)["industrialisation_rate"] == "fail"
    strict = PoolPolicy(entry=EntryThresholds(min_industrialisation_rate=0.7))
    assert verdicts(GOOD, policy=strict)["industrialisation_rate"] == "fail"
    reason = evaluate_entry(below, "广东", DEFAULT_POOL_POLICY, "zh")[4].reason
    assert "49%" in reason and "50%" in reason


@pytest.mark.parametrize(
    ("rd", "revenue", "expected"),
    [
        (5_000_000, 900_000_000, "pass"),  # absolute amount suffices
        (1_000_000, 10_000_000, "pass"),  # exactly 10 % of revenue
        (999_999, 10_000_000, "fail"),
        (1_000_000, None, "unknown"),  # ratio cannot be checked, absolute fails
        (6_000_000, None, "pass"),
        (None, 10_000_000, "unknown"),
        (0, 0, "fail"),
    ],
)
def test_rd_spend_is_ratio_or_absolute(rd, revenue, expected):
    facts = msgspec.structs.replace(GOOD, rd_spend_last_year=rd, revenue_last_year=revenue)
    assert verdicts(facts)["rd_spend"] == expected


@pytest.mark.parametrize(
    ("staff", "employees", "partner", "expected"),
    [
        (20, 100, False, "pass"),
        (19, 100, False, "fail"),
        (1, 100, True, "pass"),
        (1, 100, None, "unknown"),
        (None, None, False, "unknown"),
        (None, None, True, "pass"),
    ],
)
def test_rd_staff_or_university_partnership(staff, employees, partner, expected):
    facts = msgspec.structs.replace(GOOD, rd_staff=staff, employees=employees, university_partnership=partner)
    assert verdicts(facts)["rd_staff"] == expected


def test_any_bad_record_fails_clean_record_even_with_unknowns():
    facts = msgspec.structs.replace(GOOD, violation=None, serious_dishonesty=True)
    result = evaluate_entry(facts, "广东", DEFAULT_POOL_POLICY, "en")[9]
    assert result.verdict == "fail"
    assert "serious dishonesty" in result.reason and "violation" not in result.reason


def test_no_recognition_fails_but_unknown_is_unknown():
    assert verdicts(msgspec.structs.replace(GOOD, certifications=frozenset()))["recognition"] == "fail"
    assert verdicts(msgspec.structs.replace(GOOD, certifications=None))["recognition"] == "unknown"


def test_facts_decode_strictly_from_json():
    raw = '{"province": "广东", "certifications": ["zjtx"], "industrialisation_rate": 1.5}'.encode()
    with pytest.raises(msgspec.ValidationError, match="industrialisation_rate"):
        msgspec.json.decode(raw, type=EnterpriseFacts)


optional_bool = st.none() | st.booleans()


@given(
    rate=st.none() | st.floats(0, 1),
    trademark=optional_bool,
    system=optional_bool,
    lang=st.sampled_from(["zh", "en"]),
)
def test_verdict_is_unknown_exactly_when_a_single_fact_is_missing(rate, trademark, system, lang):
    facts = msgspec.structs.replace(
        GOOD, industrialisation_rate=rate, owns_trademark=trademark, ip_management_system=system
    )
    got = verdicts(facts, lang)
    assert (got["industrialisation_rate"] == "unknown") == (rate is None)
    assert (got["trademark"] == "unknown") == (trademark is None)
    assert (got["ip_management"] == "unknown") == (system is None)
    assert all(r.reason for r in evaluate_entry(facts, "广东", DEFAULT_POOL_POLICY, lang))


def test_operator_override_makes_a_failed_criterion_satisfied():
    from matching.override import CriterionOverride, apply_overrides, entry_outcome

    facts = msgspec.structs.replace(GOOD, owns_trademark=False, ip_management_system=None)
    results = evaluate_entry(facts, "广东", DEFAULT_POOL_POLICY)
    assert entry_outcome(results) == "ineligible"
    note = "商标注册申请已受理，预计三个月内核准"
    results = apply_overrides(results, [CriterionOverride(code="trademark", justification=note)])
    assert entry_outcome(results) == "incomplete"
    [tm] = [r for r in results if r.code == "trademark"]
    assert tm.verdict == "fail" and tm.satisfied and tm.override_justification == note
    results = apply_overrides(
        results, [CriterionOverride(code="ip_management", justification="现场核查已建立制度文件")]
    )
    assert entry_outcome(results) == "eligible"
    assert entry_outcome(evaluate_entry(GOOD, "广东", DEFAULT_POOL_POLICY)) == "eligible"


def test_overrides_are_checked():
    from matching.override import CriterionOverride, apply_overrides

    results = evaluate_entry(msgspec.structs.replace(GOOD, owns_trademark=False), "广东", DEFAULT_POOL_POLICY)
    with pytest.raises(ValueError, match="nothing to override"):
        apply_overrides(results, [CriterionOverride(code="rd_spend", justification="x" * 12)])
    with pytest.raises(ValueError, match="unknown"):
        apply_overrides(results, [CriterionOverride(code="nope", justification="x" * 12)])
    with pytest.raises(ValueError, match="twice"):
        apply_overrides(results, [CriterionOverride(code="trademark", justification="x" * 12)] * 2)
    with pytest.raises(ValueError, match="justification"):
        apply_overrides(results, [CriterionOverride(code="trademark", justification=" " * 12)])
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"code": "trademark", "justification": "短"}, CriterionOverride)
