"""Readable reasons, flags and steps of the pledge assessment, Chinese first, English available."""

from typing import TYPE_CHECKING, Final

from valuation.coefficients import CoefficientSet
from valuation.text import num, pct
from valuation.types import Lang

if TYPE_CHECKING:  # only for annotations: pledge imports this module at runtime
    from valuation.pledge import PatentAssessment, PledgePatent, PledgeRequest

_REASONS: Final[dict[str, tuple[str, str]]] = {
    "not_in_force": ("专利未授权或已失效（状态：{status}）", "not granted or no longer in force (status: {status})"),
    "not_owned": ("专利权人不是申请企业", "not owned by the applicant"),
    "already_pledged": ("专利已质押", "already pledged"),
    "pending_invalidation": ("存在未决的无效宣告请求", "an invalidation request is pending"),
    "ownership_dispute": ("存在权属纠纷", "ownership is disputed"),
    "fees_unpaid": ("年费未按期缴纳", "annual fees are unpaid"),
    "term_too_short": (
        "剩余保护期 {years:.2f} 年，低于 {need:g} 年的要求",
        "{years:.2f} years of term left, below the required {need:g}",
    ),
}

_FLAGS: Final[dict[str, tuple[str, str]]] = {
    "withdrawn_from_pool": ("企业已退出培育库", "the enterprise has left the cultivation pool"),
    "violation_report": ("企业存在违规举报，尚在核查", "the enterprise is under a violation report"),
    "no_collateral": ("没有可计入质押的专利", "no patent counts as collateral"),
    "concentration": (
        "单件专利占质押价值的 {share:.0%}，集中度过高",
        "one patent is {share:.0%} of the collateral value",
    ),
    "short_term": ("剩余保护期仅 {years:.2f} 年", "only {years:.2f} years of term left"),
    "low_confidence": (
        "评估置信度 {c:.0%}，多项指标为缺省值",
        "valuation confidence {c:.0%}: many indicators are defaulted",
    ),
}

_STEPS: Final[dict[str, tuple[str, str]]] = {
    "excluded": ("{no}：不予计入——{reasons}", "{no}: excluded — {reasons}"),
    "counted": (
        "{no}：评估值 {value} x 质押率 {rate}（{kind}·{grade} 级）{haircut} = {collateral}",
        "{no}: value {value} x pledge rate {rate} ({kind}, grade {grade}){haircut} = {collateral}",
    ),
    "haircut": (" x (1 - 变现折扣 {h})", " x (1 - liquidation haircut {h})"),
    "total": ("质押价值合计 {total}", "Total collateral value {total}"),
    "loan": (
        "建议贷款额 = min(申请额 {requested}, 质押价值 {total}) = {loan}",
        "Suggested loan = min(requested {requested}, collateral {total}) = {loan}",
    ),
    "term": (
        "建议期限 {months} 个月（不超过 {max:g} 年，且不超过最短剩余保护期 {shortest:.2f} 年减 {buffer:g} 年）",
        "Suggested term {months} months (at most {max:g} years and the shortest term left {shortest:.2f} "
        "less {buffer:g} years)",
    ),
    "no_loan": ("无可质押专利，不建议放款", "No patent qualifies as collateral: no loan suggested"),
}

_KINDS: Final[dict[str, tuple[str, str]]] = {
    "invention": ("发明", "invention"),
    "utility_model": ("实用新型", "utility model"),
    "design": ("外观设计", "design"),
}


def _pick(pair: tuple[str, str], lang: Lang) -> str:
    return pair[0] if lang == "zh" else pair[1]


def reason_text(code: str, lang: Lang, p: "PledgePatent", coeffs: CoefficientSet) -> str:
    """Why patent ``p`` fails gate ``code``."""
    need = coeffs.pledge.min_remaining_term_years[p.patent_type]
    return _pick(_REASONS[code], lang).format(status=p.legal_status, years=p.remaining_term_years, need=need)


def flag_text(code: str, lang: Lang, **params: float) -> str:
    """The message of risk flag ``code``."""
    return _pick(_FLAGS[code], lang).format(**params)


def step_text(
    req: "PledgeRequest",
    results: "list[PatentAssessment]",
    total: float,
    loan: float,
    months: int,
    coeffs: CoefficientSet,
    lang: Lang,
) -> list[str]:
    """The readable calculation, one line per patent, then the totals, loan and term."""
    sep = "；" if lang == "zh" else "; "
    h = req.liquidation_haircut
    haircut = _pick(_STEPS["haircut"], lang).format(h=pct(h)) if h > 0 else ""
    steps = []
    for p, r in zip(req.patents, results, strict=True):
        if not r.eligible:
            reasons = sep.join(reason.message for reason in r.reasons)
            steps.append(_pick(_STEPS["excluded"], lang).format(no=p.patent_number, reasons=reasons))
            continue
        kind = _pick(_KINDS[p.patent_type], lang)
        line = _pick(_STEPS["counted"], lang).format(
            no=p.patent_number, value=num(p.value_base), rate=pct(r.pledge_rate), kind=kind, grade=r.grade,
            haircut=haircut, collateral=num(r.collateral_value),
        )  # fmt: skip
        steps.append(line)
    steps.append(_pick(_STEPS["total"], lang).format(total=num(total)))
    if loan <= 0:
        steps.append(_pick(_STEPS["no_loan"], lang))
        return steps
    steps.append(
        _pick(_STEPS["loan"], lang).format(requested=num(req.requested_amount), total=num(total), loan=num(loan))
    )
    pledged = [p.remaining_term_years for p, r in zip(req.patents, results, strict=True) if r.collateral_value > 0]
    s = coeffs.pledge
    term = _pick(_STEPS["term"], lang)
    steps.append(term.format(months=months, max=s.max_term_years, shortest=min(pledged), buffer=s.term_buffer_years))
    return steps
