"""Labels of the printable assessment report: Chinese by default, English with ``Accept-Language: en``.

The report itself (steps, flags, gate messages, indicator names) is stored in both languages; this
module holds only the fixed text of ``assessment.html`` (headings, captions, units, punctuation), so
the page is in one language throughout. The Chinese labels render the page exactly as it was before
the English ones existed.
"""

from __future__ import annotations

from typing import Any, Final

from valuation.schemas import Assessment

#: Every piece of fixed text on the page, per language (same keys in both). ``{…}`` fields are filled
#: with ``str.format`` in the template.
LABELS: Final[dict[str, dict[str, Any]]] = {
    "zh": {
        "page_title": "专利质押评估报告",
        "heading": "专利质押融资快评报告",
        "report_id": "报告编号",
        "created_at": "生成时间",
        "as_of": "评估基准日",
        "model_version": "模型版本",
        "coefficient_version": "系数集版本",
        "immutable": "本报告生成后不可修改，重新评估将生成新报告",
        "summary": "申请概况",
        "enterprise": "申请企业",
        "credit_code": "（统一社会信用代码 {code}）",
        "requested_amount": "申请金额（元）",
        "requested_term": "申请期限",
        "years": " 年",
        "unspecified": "未指定",
        "haircut": "变现折扣",
        "collateral_total": "质押价值合计（元）",
        "suggested_loan": "建议贷款额（元）",
        "suggested_term": "建议期限",
        "months": " 个月",
        "flags": "风险提示",
        "flag_patent": "（{number}）",
        "none": "无",
        "steps": "计算过程",
        "patents": "逐件专利评估",
        "excluded": "（不计入质押）",
        "type_status": "专利类型 / 法律状态",
        "value_degree": "价值度 V（等级）",
        "grade": "（{grade} 级）",
        "legal": "法律",
        "technical": "技术",
        "economic": "经济",
        "confidence": "置信度",
        "defaulted": "；缺省指标：",
        "list_sep": "、",
        "income": "收益法（元）",
        "market": "市场法（元）",
        "cost": "成本法（元）",
        "not_applicable": "不适用",
        "value_range": "评估值 低 / 基准 / 高（元）",
        "no_method": "无适用方法",
        "gates": "准入条件",
        "colon": "：",
        "pledge": "质押率 / 质押价值（元）",
        "indicator": "指标",
        "dimension": "维度",
        "score": "得分",
        "source": "来源",
        "sources": {"data": "数据", "declared": "申报", "default": "缺省"},
        "names": {
            "invention": "发明",
            "utility_model": "实用新型",
            "design": "外观设计",
            "granted": "授权",
            "pending": "审查中",
            "lapsed": "失效",
            "invalid": "无效",
            "not_in_force": "专利有效",
            "not_owned": "权利人为申请企业",
            "already_pledged": "未被质押",
            "pending_invalidation": "无未决无效宣告",
            "ownership_dispute": "无权属纠纷",
            "fees_unpaid": "年费已缴",
            "term_too_short": "剩余保护期足够",
        },
        "footer": "说明：指标规则、权重、提成率区间与质押率均为平台暂定参数（系数集 {version}），"
        "由运营方维护并版本化，可据此复算本报告全部数值。",
    },
    "en": {
        "page_title": "Patent pledge assessment report",
        "heading": "Patent pledge financing: quick assessment report",
        "report_id": "Report",
        "created_at": "generated",
        "as_of": "valuation date",
        "model_version": "Model version",
        "coefficient_version": "coefficient set",
        "immutable": "this report cannot be changed once generated; a re-assessment produces a new report",
        "summary": "Application summary",
        "enterprise": "Applicant",
        "credit_code": " (unified social credit code {code})",
        "requested_amount": "Requested amount (CNY)",
        "requested_term": "Requested term",
        "years": " years",
        "unspecified": "Not specified",
        "haircut": "Liquidation haircut",
        "collateral_total": "Total collateral value (CNY)",
        "suggested_loan": "Suggested loan (CNY)",
        "suggested_term": "Suggested term",
        "months": " months",
        "flags": "Risk flags",
        "flag_patent": " ({number})",
        "none": "None",
        "steps": "Calculation steps",
        "patents": "Patent-by-patent assessment",
        "excluded": "(not counted as collateral)",
        "type_status": "Patent type / legal status",
        "value_degree": "Value degree V (grade)",
        "grade": " (grade {grade}) ",
        "legal": "legal",
        "technical": "technical",
        "economic": "economic",
        "confidence": "Confidence",
        "defaulted": "; defaulted indicators: ",
        "list_sep": ", ",
        "income": "Income approach (CNY)",
        "market": "Market approach (CNY)",
        "cost": "Cost approach (CNY)",
        "not_applicable": "Not applicable",
        "value_range": "Value low / base / high (CNY)",
        "no_method": "No applicable method",
        "gates": "Eligibility gates",
        "colon": ": ",
        "pledge": "Pledge rate / collateral value (CNY)",
        "indicator": "Indicator",
        "dimension": "Dimension",
        "score": "Score",
        "source": "Source",
        "sources": {"data": "data", "declared": "declared", "default": "default"},
        "names": {
            "invention": "invention",
            "utility_model": "utility model",
            "design": "design",
            "granted": "granted",
            "pending": "pending",
            "lapsed": "lapsed",
            "invalid": "invalid",
            "not_in_force": "in force",
            "not_owned": "owned by the applicant",
            "already_pledged": "not pledged already",
            "pending_invalidation": "no pending invalidation",
            "ownership_dispute": "no ownership dispute",
            "fees_unpaid": "annual fees paid",
            "term_too_short": "enough remaining term",
        },
        "footer": "Note: the indicator rules, weights, royalty-rate ranges and pledge rates are provisional platform"
        " parameters (coefficient set {version}), maintained and versioned by the operator; every figure in this"
        " report can be recomputed from them.",
    },
}


def page_context(report: Assessment) -> dict[str, Any]:
    """The template context of ``assessment.html``: the report and the labels of its language.

    Args:
        report: The assessment, already read in the language of the request (``report.lang``).

    Returns:
        ``{"r": report, "labels": labels}``; English labels for an English report, else Chinese.
    """
    return {"r": report, "labels": LABELS["en" if report.lang == "en" else "zh"]}
