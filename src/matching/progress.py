"""Graduation (出库) and withdrawal (退库) candidates, and the withdrawal reason codes.

An enterprise shows the model effect — and a progress report *qualifies* — when at least one
ground holds: its 专利产业化率 rose by the policy's points since admission, it added enough new
专利密集型产品, or the sales and the profit of its recognised products both grew enough.
Graduation candidates are admitted enterprises with a qualifying report; withdrawal candidates
are those admitted for ``no_progress_years`` or more without one. Operators decide; the system
lists.
"""

import datetime as dt
from collections.abc import Sequence
from typing import Final, Literal

import msgspec

from matching.i18n import Lang, Text
from matching.policy import GraduationThresholds, WithdrawalPolicy

GraduationGround = Literal["rate_rise", "new_products", "sales_and_profit_growth"]
WithdrawalReason = Literal[
    "no_progress", "safety_accident", "dishonesty", "tax_evasion", "data_fraud", "abnormal_filing", "voluntary"
]

WITHDRAWAL_LABELS: Final[dict[WithdrawalReason, Text]] = {
    "no_progress": Text("入库满两年无实质性进展", "no substantive progress within two years of admission"),
    "safety_accident": Text("发生重大安全事故", "major safety accident"),
    "dishonesty": Text("存在严重失信行为", "serious dishonesty"),
    "tax_evasion": Text("存在偷税漏税行为", "tax evasion"),
    "data_fraud": Text("存在数据造假行为", "data fraud"),
    "abnormal_filing": Text("存在非正常专利申请行为", "abnormal patent filing"),
    "voluntary": Text("企业主动申请退库", "voluntary withdrawal at the enterprise's request"),
}
#: Violation reports that withdraw at once, without waiting for the two-year review.
IMMEDIATE_WITHDRAWAL_REASONS: Final[frozenset[WithdrawalReason]] = frozenset(
    {"safety_accident", "dishonesty", "tax_evasion", "data_fraud", "abnormal_filing"}
)
GROUND_LABELS: Final[dict[GraduationGround, Text]] = {
    "rate_rise": Text("专利产业化率提升 {v:.1f} 个百分点", "patent industrialisation rate up {v:.1f} points"),
    "new_products": Text("新增专利密集型产品 {v:.0f} 个", "{v:.0f} new patent-intensive products"),
    "sales_and_profit_growth": Text(
        "专利密集型产品销售额、利润分别增长 {v:.0%}、{w:.0%}",
        "patent-intensive product sales up {v:.0%}, profit up {w:.0%}",
    ),
}


class ProgressReport(msgspec.Struct, frozen=True, kw_only=True):
    """One progress report of an admitted enterprise (growth figures are fractions, 0.25 = +25%)."""

    reported_on: dt.date
    industrialisation_rate: float | None = None
    new_patent_intensive_products: int = 0
    product_sales_growth: float | None = None
    product_profit_growth: float | None = None


class ProgressCheck(msgspec.Struct, frozen=True, kw_only=True):
    """Which graduation grounds a report meets, with readable reasons."""

    qualifies: bool
    grounds: list[GraduationGround]
    reasons: list[str]


def withdrawal_label(reason: WithdrawalReason, lang: Lang = "zh") -> str:
    """Return the label of a withdrawal reason code in ``lang``."""
    return WITHDRAWAL_LABELS[reason].render(lang)


def check_progress(
    report: ProgressReport, rate_at_admission: float | None, policy: GraduationThresholds, lang: Lang = "zh"
) -> ProgressCheck:
    """Evaluate one progress report against the exit standard.

    Args:
        report: The report to evaluate.
        rate_at_admission: The 专利产业化率 recorded at admission (None: the rate ground cannot hold).
        policy: The graduation thresholds.
        lang: Language of the reasons.

    Returns:
        The grounds met; ``qualifies`` is true when there is at least one.
    """
    found: list[tuple[GraduationGround, str]] = []
    if report.industrialisation_rate is not None and rate_at_admission is not None:
        rise = (report.industrialisation_rate - rate_at_admission) * 100
        if rise >= policy.min_rate_rise_points - 1e-9:
            found.append(("rate_rise", GROUND_LABELS["rate_rise"].render(lang, v=rise)))
    if report.new_patent_intensive_products >= max(1, policy.min_new_patent_intensive_products):
        label = GROUND_LABELS["new_products"].render(lang, v=report.new_patent_intensive_products)
        found.append(("new_products", label))
    sales, profit = report.product_sales_growth, report.product_profit_growth
    if (
        sales is not None
        and profit is not None
        and sales >= policy.min_product_sales_growth
        and profit >= policy.min_product_profit_growth
    ):
        found.append(
            ("sales_and_profit_growth", GROUND_LABELS["sales_and_profit_growth"].render(lang, v=sales, w=profit))
        )
    return ProgressCheck(qualifies=bool(found), grounds=[g for g, _ in found], reasons=[r for _, r in found])


def is_graduation_candidate(
    reports: Sequence[ProgressReport], rate_at_admission: float | None, policy: GraduationThresholds
) -> bool:
    """Return True when any of the enterprise's progress reports qualifies."""
    return any(check_progress(r, rate_at_admission, policy).qualifies for r in reports)


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a non-leap target year
        return day.replace(year=day.year + years, day=28)


def is_withdrawal_candidate(
    admitted_on: dt.date,
    reports: Sequence[ProgressReport],
    rate_at_admission: float | None,
    today: dt.date,
    graduation: GraduationThresholds,
    withdrawal: WithdrawalPolicy,
) -> bool:
    """Return True when the enterprise has been admitted for the policy's years without progress.

    Args:
        admitted_on: Date of admission.
        reports: All progress reports filed since admission.
        rate_at_admission: The 专利产业化率 recorded at admission.
        today: The date of the review (passed in so the rule stays pure).
        graduation: The thresholds that make a report qualify.
        withdrawal: How many years without a qualifying report trigger the listing.

    Returns:
        True when ``today`` is at least ``no_progress_years`` after admission and no report
        filed since admission qualifies.
    """
    if today < _add_years(admitted_on, withdrawal.no_progress_years):
        return False
    since = [r for r in reports if r.reported_on >= admitted_on]
    return not is_graduation_candidate(since, rate_at_admission, graduation)
