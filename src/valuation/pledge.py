"""Pledge assessment (快评): gates, pledge rates, suggested loan and term, risk flags, steps.

Input: the enterprise's facts, its offered patents' gate facts and values (base value and value
degree from :func:`valuation.pipeline.value_patent` or the batch), the requested amount and term.
Each patent failing a gate is excluded with every reason; the others count
base value x pledge rate (type x grade) x (1 - liquidation haircut) as collateral. Suggested loan
= min(requested, Σ collateral); term ≤ the maximum and ≤ shortest remaining term - buffer.
The result is a self-contained, immutable report: inputs, versions, results, flags, steps.
"""

import math
from typing import Literal

import msgspec

from valuation.codes import GRADES, Grade, PatentType
from valuation.coefficients import CoefficientSet, default_coefficients
from valuation.errors import ValuationInputError
from valuation.pipeline import MODEL_VERSION
from valuation.pledge_text import flag_text, reason_text, step_text
from valuation.types import Fraction, Lang, Rate, Score, Years, Yuan

GATES: tuple[str, ...] = (
    "not_in_force",
    "not_owned",
    "already_pledged",
    "pending_invalidation",
    "ownership_dispute",
    "fees_unpaid",
    "term_too_short",
)


class PledgeEnterprise(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The applicant enterprise, as far as the assessment needs it."""

    credit_code: str
    name: str = ""
    withdrawn_from_pool: bool = False
    under_violation_report: bool = False


class PledgePatent(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One offered patent: gate facts and its valuation."""

    patent_number: str
    patent_type: PatentType
    legal_status: Literal["granted", "pending", "lapsed", "invalid"]
    owned_by_applicant: bool
    already_pledged: bool = False
    pending_invalidation: bool = False
    ownership_dispute: bool = False
    fees_paid: bool = True
    remaining_term_years: Years
    value_base: Yuan
    value_degree: Score
    confidence: Fraction


class PledgeRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """What the enterprise asks for, and what it offers."""

    enterprise: PledgeEnterprise
    patents: list[PledgePatent]
    requested_amount: Yuan
    requested_term_years: Years | None = None
    liquidation_haircut: Rate = 0.0


class Reason(msgspec.Struct, frozen=True):
    code: str
    message: str


class Flag(msgspec.Struct, frozen=True):
    code: str
    message: str
    patent_number: str | None = None


class PatentAssessment(msgspec.Struct, frozen=True):
    """One patent's result: excluded with reasons, or its collateral value."""

    patent_number: str
    eligible: bool
    reasons: list[Reason]
    grade: Grade
    value_base: float
    pledge_rate: float
    collateral_value: float


class PledgeAssessment(msgspec.Struct, frozen=True):
    """The immutable 快评 report."""

    model_version: str
    coefficient_version: str
    lang: Lang
    inputs: PledgeRequest
    patents: list[PatentAssessment]
    collateral_value: float
    suggested_loan: float
    suggested_term_months: int
    flags: list[Flag]
    steps: list[str]


def failed_gates(p: PledgePatent, coeffs: CoefficientSet) -> list[str]:
    """The codes of every gate ``p`` fails (empty = eligible), in the order of ``GATES``."""
    failed = {
        "not_in_force": p.legal_status != "granted",
        "not_owned": not p.owned_by_applicant,
        "already_pledged": p.already_pledged,
        "pending_invalidation": p.pending_invalidation,
        "ownership_dispute": p.ownership_dispute,
        "fees_unpaid": not p.fees_paid,
        "term_too_short": p.remaining_term_years < coeffs.pledge.min_remaining_term_years[p.patent_type],
    }
    return [code for code in GATES if failed[code]]


def grade_of(value_degree: float, coeffs: CoefficientSet) -> Grade:
    """The grade of a value degree under the coefficient set's thresholds."""
    g = coeffs.grade_thresholds
    return GRADES[3 - (value_degree >= g.C) - (value_degree >= g.B) - (value_degree >= g.A)]


def _check(req: PledgeRequest) -> None:
    if not math.isfinite(req.requested_amount) or req.requested_amount <= 0:
        raise ValuationInputError("requested_amount", "must be a finite amount > 0")
    if not 0 <= req.liquidation_haircut < 1:
        raise ValuationInputError("liquidation_haircut", "must be in [0, 1)")
    if req.requested_term_years is not None and not 0 < req.requested_term_years <= 100:
        raise ValuationInputError("requested_term_years", "must be in (0, 100]")
    if not 1 <= len(req.patents) <= 200:
        raise ValuationInputError("patents", "offer 1 to 200 patents")
    seen: set[str] = set()
    for i, p in enumerate(req.patents):
        if p.patent_number in seen:
            raise ValuationInputError(f"patents[{i}].patent_number", "is offered twice")
        seen.add(p.patent_number)
        checks = {
            "remaining_term_years": math.isfinite(p.remaining_term_years) and p.remaining_term_years >= 0,
            "value_base": math.isfinite(p.value_base) and p.value_base >= 0,
            "value_degree": 0 <= p.value_degree <= 100,
            "confidence": 0 <= p.confidence <= 1,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValuationInputError(f"patents[{i}].{name}", "is out of range")


def _assess_patent(p: PledgePatent, haircut: float, coeffs: CoefficientSet, lang: Lang) -> PatentAssessment:
    grade = grade_of(p.value_degree, coeffs)
    failed = failed_gates(p, coeffs)
    reasons = [Reason(code, reason_text(code, lang, p, coeffs)) for code in failed]
    rate = coeffs.pledge.rates[p.patent_type][grade] if not failed else 0.0
    collateral = p.value_base * rate * (1.0 - haircut)
    return PatentAssessment(p.patent_number, not failed, reasons, grade, p.value_base, rate, collateral)


def assess_pledge(req: PledgeRequest, coeffs: CoefficientSet | None = None, lang: Lang = "zh") -> PledgeAssessment:
    """Assess a pledge-loan request.

    Args:
        req: Enterprise, offered patents with values, requested amount and term, haircut.
        coeffs: Coefficient set; the shipped default when ``None``.
        lang: Language of reasons, flags and steps.

    Returns:
        The report.

    Raises:
        ValuationInputError: Naming the offending field.
    """
    coeffs = coeffs or default_coefficients()
    _check(req)
    settings = coeffs.pledge
    results = [_assess_patent(p, req.liquidation_haircut, coeffs, lang) for p in req.patents]
    collateral = math.fsum(r.collateral_value for r in results)
    loan = math.floor(min(req.requested_amount, collateral) * 100) / 100  # never round up past either bound
    pledged = [p for p, r in zip(req.patents, results, strict=True) if r.collateral_value > 0]
    months = 0
    if pledged and loan > 0:
        years = min(settings.max_term_years, req.requested_term_years or settings.max_term_years)
        years = min(years, min(p.remaining_term_years for p in pledged) - settings.term_buffer_years)
        months = max(0, math.floor(years * 12 + 1e-9))
        if months == 0:
            loan = 0.0
    flags = _flags(req, results, collateral, coeffs, lang)
    steps = step_text(req, results, collateral, loan, months, coeffs, lang)
    return PledgeAssessment(MODEL_VERSION, coeffs.version, lang, req, results, collateral, loan, months, flags, steps)


def _flags(
    req: PledgeRequest, results: list[PatentAssessment], collateral: float, coeffs: CoefficientSet, lang: Lang
) -> list[Flag]:
    s = coeffs.pledge
    flags: list[Flag] = []
    if req.enterprise.withdrawn_from_pool:
        flags.append(Flag("withdrawn_from_pool", flag_text("withdrawn_from_pool", lang)))
    if req.enterprise.under_violation_report:
        flags.append(Flag("violation_report", flag_text("violation_report", lang)))
    if collateral <= 0:
        flags.append(Flag("no_collateral", flag_text("no_collateral", lang)))
    for p, r in zip(req.patents, results, strict=True):
        if not r.eligible:
            continue
        share = r.collateral_value / collateral if collateral > 0 else 0.0
        if share > s.concentration_flag_share:
            flags.append(Flag("concentration", flag_text("concentration", lang, share=share), p.patent_number))
        if p.remaining_term_years < s.short_term_flag_years:
            years = p.remaining_term_years
            flags.append(Flag("short_term", flag_text("short_term", lang, years=years), p.patent_number))
        if p.confidence < s.low_confidence_flag:
            flags.append(Flag("low_confidence", flag_text("low_confidence", lang, c=p.confidence), p.patent_number))
    return flags
