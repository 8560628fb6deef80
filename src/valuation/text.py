"""User-facing lines of the valuation domain, Chinese first, English available.

Every step, reason and flag is rendered from one entry of ``MESSAGES`` so the two languages stay
in step; :func:`say` picks the language.
"""

from typing import Final

from valuation.types import Lang

MESSAGES: Final[dict[str, tuple[str, str]]] = {
    # income approach
    "method.royalty_relief": ("收益法·许可费节省法（按销售收入）", "Income approach, relief from royalty (on sales)"),
    "method.royalty_relief_profit": (
        "收益法·许可费节省法（按利润）",
        "Income approach, relief from royalty (on profit)",
    ),
    "method.profit_split": ("收益法·利润分成法", "Income approach, profit split"),
    "method.excess_earnings": ("收益法·增量收益法", "Income approach, excess earnings"),
    "share.royalty": ("分成率 = 销售提成率 K = {k}", "Share = sales royalty K = {k}"),
    "share.royalty_profit": (
        "分成率 = 销售提成率 K / 利润率 = {k} / {margin} = {share}",
        "Share = sales royalty K / profit margin = {k} / {margin} = {share}",
    ),
    "share.given": ("利润分成率（给定）= {share}", "Profit share (given) = {share}"),
    "share.equivalent": (
        "约当投资分成法：P = {pc} x (1 + {pr}) = {p}，B = {lc} x (1 + {lr}) = {b}，分成率 = P / (P + B) = {share}",
        "Equivalent investment: P = {pc} x (1 + {pr}) = {p}, B = {lc} x (1 + {lr}) = {b}, "
        "share = P / (P + B) = {share}",
    ),
    "share.excess": ("增量收益全部归属于专利，分成率 = 1", "The excess profit is wholly the patent's: share = 1"),
    "horizon": (
        "收益期 n = min(经济寿命 {life}, 法定剩余期限 {legal}) = {n} 年；最后一期按 {frac} 年折算",
        "Horizon n = min(economic life {life}, legal term left {legal}) = {n} years; "
        "the last period counts {frac} of a year",
    ),
    "periods": ("收益期 {n} 期", "{n} periods"),
    "tax.after": ("税后口径：现金流 x (1 - 所得税率 {tax})", "After-tax basis: cash flow x (1 - income tax {tax})"),
    "tax.pre": ("税前口径（未扣所得税）", "Pre-tax basis (no income tax deducted)"),
    "flow": (
        "第 {t} 年：{base} x {share}{tax_part} = {cf}，折现系数 1/(1+{r})^{t} = {df}，现值 {pv}",
        "Year {t}: {base} x {share}{tax_part} = {cf}, discount factor 1/(1+{r})^{t} = {df}, present value {pv}",
    ),
    "exact": (
        "折现系数按公式精确计算，不使用查表取整",
        "Discount factors are computed exactly, not rounded from tables",
    ),
    "total": ("评估值 = Σ 现值 = {value}", "Value = Σ present values = {value}"),
    # cost approach
    "cost.replacement": (
        "重置成本 = 研发成本 {rd} x 价格指数 {index} + 申请维持费用 {fees} = {replacement}",
        "Replacement cost = R&D cost {rd} x price index {index} + filing and maintenance fees {fees} = {replacement}",
    ),
    "cost.newness": (
        "成新率 = 1 - 已使用年限 {age} / (已使用年限 {age} + 剩余经济寿命 {rem}) = {newness}",
        "Remaining-life factor = 1 - age {age} / (age {age} + remaining economic life {rem}) = {newness}",
    ),
    "cost.value": (
        "成本法评估值 = {replacement} x {newness} = {value}",
        "Cost value = {replacement} x {newness} = {value}",
    ),
    # market approach
    "market.no_revenue": (
        "市场法不适用：缺少产品销售收入，无法按收入折算可比交易价格",
        "Market approach not applicable: no product sales to scale comparable prices by",
    ),
    "market.too_few": (
        "市场法不适用：同产业链近 {years} 年可比交易 {n} 笔，少于 {need} 笔",
        "Market approach not applicable: {n} comparables in the chain within {years} years, fewer than {need}",
    ),
    "market.used": (
        "市场法：在 {n} 笔可比交易中按标准化指标向量和对数收入取最近的 {k} 笔，价格按收入比例折算",
        "Market approach: the {k} nearest of {n} comparables by standardised indicators and log revenue, "
        "prices scaled by revenue",
    ),
    "market.value": (
        "市场法评估值 = 折算价格的中位数 = {value}",
        "Market value = median of the scaled prices = {value}",
    ),
    # a patent's valuation
    "val.degree": ("价值度 V = {v}（系数集 {version}）", "Value degree V = {v} (coefficient set {version})"),
    "val.income": (
        "收益法（许可费节省法，税后）：提成率 K = {k}，本专利分得 {share}，折现率 r = {r}，所得税 {tax}，"
        "收益期 {n} 年，评估值 {value}",
        "Income approach (relief from royalty, after tax): K = {k}, this patent's share {share}, r = {r}, "
        "tax {tax}, horizon {n} years, value {value}",
    ),
    "val.no_income": (
        "收益法不适用：缺少产品销售收入或产业链",
        "Income approach not applicable: no product sales or chain",
    ),
    "val.cost": ("成本法评估值 {value}", "Cost approach value {value}"),
    "val.reconciled": (
        "综合评估（权重 {weights}）：低 {low}，基准 {base}，高 {high}",
        "Reconciled (weights {weights}): low {low}, base {base}, high {high}",
    ),
}


def say(key: str, lang: Lang, **params: object) -> str:
    """Render message ``key`` in ``lang`` with its placeholders filled.

    Args:
        key: A key of ``MESSAGES``.
        lang: ``"zh"`` or ``"en"``.
        **params: Placeholder values.

    Returns:
        The line.
    """
    zh, en = MESSAGES[key]
    return (zh if lang == "zh" else en).format(**params)


def num(x: float, digits: int = 2) -> str:
    """Format a number with thousands separators and ``digits`` decimals."""
    return f"{x:,.{digits}f}"


def pct(x: float) -> str:
    """Format a fraction as a percentage with up to 4 significant decimals (0.03 -> 3%)."""
    return f"{x * 100:.4g}%"
