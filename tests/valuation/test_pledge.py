import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valuation.errors import ValuationInputError
from valuation.pledge import GATES, PledgeEnterprise, PledgePatent, PledgeRequest, assess_pledge, failed_gates

from .helpers import COEFFS

ENT = PledgeEnterprise(credit_code="91350100M000100Y43", name="示例科技")


def patent(no="201710601862.3", **kw) -> PledgePatent:
    base = {
        "patent_number": no, "patent_type": "invention", "legal_status": "granted", "owned_by_applicant": True,
        "remaining_term_years": 12.0, "value_base": 4_000_000.0, "value_degree": 82.0, "confidence": 0.8,
    }  # fmt: skip
    base.update(kw)
    return PledgePatent(**base)


def request(patents, amount=2_000_000.0, **kw) -> PledgeRequest:
    return PledgeRequest(enterprise=kw.pop("enterprise", ENT), patents=patents, requested_amount=amount, **kw)


def test_rate_by_type_and_grade_and_loan_capped_by_collateral():
    r = assess_pledge(
        request([patent(), patent("201820601862.1", patent_type="utility_model", value_degree=70, value_base=1e6)])
    )
    assert [p.pledge_rate for p in r.patents] == [0.35, 0.20]
    assert [p.grade for p in r.patents] == ["A", "B"]
    assert r.collateral_value == pytest.approx(1_600_000)
    assert r.suggested_loan == 1_600_000
    assert r.suggested_term_months == 36
    assert r.model_version and r.coefficient_version == "2024.1"
    assert r.inputs.requested_amount == 2_000_000


def test_loan_capped_by_request_and_haircut_applies():
    r = assess_pledge(request([patent()], amount=500_000, liquidation_haircut=0.5))
    assert r.collateral_value == pytest.approx(700_000)
    assert r.suggested_loan == 500_000


def test_term_limited_by_shortest_remaining_term_and_request():
    assert assess_pledge(request([patent(remaining_term_years=3.5)])).suggested_term_months == 30
    assert assess_pledge(request([patent()], requested_term_years=1.5)).suggested_term_months == 18


def test_excluded_patent_lists_every_reason_in_both_languages():
    bad = patent(legal_status="lapsed", already_pledged=True, fees_paid=False, remaining_term_years=1)
    r = assess_pledge(request([bad]))
    assert [x.code for x in r.patents[0].reasons] == [
        "not_in_force",
        "already_pledged",
        "fees_unpaid",
        "term_too_short",
    ]
    assert r.suggested_loan == 0 and r.suggested_term_months == 0
    assert "已质押" in r.patents[0].reasons[1].message
    en = assess_pledge(request([bad]), lang="en")
    assert en.patents[0].reasons[1].message == "already pledged"
    assert {f.code for f in en.flags} == {"no_collateral"}


def test_risk_flags():
    ent = PledgeEnterprise(credit_code="x", withdrawn_from_pool=True, under_violation_report=True)
    r = assess_pledge(request([patent(remaining_term_years=4, confidence=0.4)], enterprise=ent))
    codes = {(f.code, f.patent_number) for f in r.flags}
    assert ("withdrawn_from_pool", None) in codes and ("violation_report", None) in codes
    assert {
        ("concentration", "201710601862.3"),
        ("short_term", "201710601862.3"),
        ("low_confidence", "201710601862.3"),
    } <= codes


def test_no_concentration_flag_when_collateral_is_spread():
    r = assess_pledge(request([patent(), patent("201710601863.X")]))
    assert "concentration" not in {f.code for f in r.flags}


def test_steps_explain_the_numbers():
    r = assess_pledge(request([patent()], liquidation_haircut=0.1))
    assert "35%" in r.steps[0] and "1,260,000.00" in r.steps[0]
    assert r.steps[-1].startswith("建议期限 36 个月")
    assert assess_pledge(request([patent()]), lang="en").steps[-1].startswith("Suggested term 36 months")


def test_report_serialises_to_json():
    r = assess_pledge(request([patent()]))
    doc = msgspec.json.decode(msgspec.json.encode(r))
    assert doc["suggested_loan"] == 1_400_000 and doc["inputs"]["enterprise"]["name"] == "示例科技"


@pytest.mark.parametrize(
    ("req", "field"),
    [
        (lambda: request([patent()], amount=0), "requested_amount"),
        (lambda: request([patent()], liquidation_haircut=1.0), "liquidation_haircut"),
        (lambda: request([]), "patents"),
        (lambda: request([patent(), patent()]), "patents[1].patent_number"),
        (lambda: request([patent(value_base=float("nan"))]), "patents[0].value_base"),
        (lambda: request([patent(confidence=1.5)]), "patents[0].confidence"),
        (lambda: request([patent()], requested_term_years=0.0), "requested_term_years"),
    ],
)
def test_invalid_requests_name_the_field(req, field):
    with pytest.raises(ValuationInputError) as err:
        assess_pledge(req())
    assert err.value.field == field


gate_facts = st.fixed_dictionaries(
    {
        "patent_type": st.sampled_from(["invention", "utility_model", "design"]),
        "legal_status": st.sampled_from(["granted", "pending", "lapsed", "invalid"]),
        "owned_by_applicant": st.booleans(),
        "already_pledged": st.booleans(),
        "pending_invalidation": st.booleans(),
        "ownership_dispute": st.booleans(),
        "fees_paid": st.booleans(),
        "remaining_term_years": st.floats(0, 20),
        "value_base": st.floats(0, 1e9),
        "value_degree": st.floats(0, 100),
        "confidence": st.floats(0, 1),
    }
)


@settings(max_examples=200, deadline=None)
@given(f=gate_facts)
def test_gates_exclude_exactly_what_they_should(f):
    p = patent(**f)
    expected = {
        "not_in_force": f["legal_status"] != "granted",
        "not_owned": not f["owned_by_applicant"],
        "already_pledged": f["already_pledged"],
        "pending_invalidation": f["pending_invalidation"],
        "ownership_dispute": f["ownership_dispute"],
        "fees_unpaid": not f["fees_paid"],
        "term_too_short": f["remaining_term_years"]
        < {"invention": 3, "utility_model": 2, "design": 2}[f["patent_type"]],
    }
    assert failed_gates(p, COEFFS) == [g for g in GATES if expected[g]]
    result = assess_pledge(request([p])).patents[0]
    assert result.eligible == (not any(expected.values()))
    assert result.collateral_value == 0 or result.eligible


@settings(max_examples=150, deadline=None)
@given(
    fs=st.lists(gate_facts, min_size=1, max_size=6),
    amount=st.floats(1, 1e10),
    haircut=st.floats(0, 0.99),
)
def test_loan_never_exceeds_request_nor_collateral(fs, amount, haircut):
    patents = [patent(f"20171060186{i}.3", **f) for i, f in enumerate(fs)]
    r = assess_pledge(request(patents, amount=amount, liquidation_haircut=haircut))
    total = sum(
        p.value_base * COEFFS.pledge.rates[p.patent_type][x.grade] * (1 - haircut)
        for p, x in zip(patents, r.patents, strict=True)
        if x.eligible
    )
    assert r.suggested_loan <= amount
    assert r.suggested_loan <= total * (1 + 1e-12)
    assert 0 <= r.suggested_term_months <= 36
    eligible_terms = [p.remaining_term_years for p, x in zip(patents, r.patents, strict=True) if x.collateral_value > 0]
    if r.suggested_loan > 0:
        assert r.suggested_term_months <= (min(eligible_terms) - 1) * 12 + 1e-6
