"""The income calculator's readable steps, line for line (pinned from the implementation before the
per-year template was filled once per request; a cash flow of -0.0 keeps its sign, as it always has)."""

import pytest

from valuation.income import IncomeRequest, _flow_template, income_value

STEPS_ZH = [
    "收益法·许可费节省法（按销售收入）",
    "分成率 = 销售提成率 K = 3%",
    "收益期 n = min(经济寿命 4.5, 法定剩余期限 -) = 4.5 年；最后一期按 0.5 年折算",
    "税后口径：现金流 x (1 - 所得税率 25%)",
    "第 1 年：1,000.00 x 0.03 x (1 - 25%) = 22.5000，折现系数 1/(1+0.1)^1 = 0.909091，现值 20.4545",
    "第 2 年：1,000.00 x 0.03 x (1 - 25%) = 22.5000，折现系数 1/(1+0.1)^2 = 0.826446，现值 18.5950",
    "第 3 年：0.00 x 0.03 x (1 - 25%) = 0.0000，折现系数 1/(1+0.1)^3 = 0.751315，现值 0.0000",
    "第 4 年：0.00 x 0.03 x (1 - 25%) = -0.0000，折现系数 1/(1+0.1)^4 = 0.683013，现值 -0.0000",
    "第 5 年：1,250.25 x 0.03 x (1 - 25%) = 28.1306，折现系数 1/(1+0.1)^5 = 0.620921，现值 17.4669",
    "折现系数按公式精确计算，不使用查表取整",
    "评估值 = Σ 现值 = 56.52",
]

STEPS_EN = [
    "Income approach, profit split",
    "Profit share (given) = 0.3",
    "3 periods",
    "Pre-tax basis (no income tax deducted)",
    "Year 1: 200,000.00 x 0.3 = 60,000.0000, discount factor 1/(1+0.12)^1 = 0.892857, present value 53,571.4286",
    "Year 2: 200,000.00 x 0.3 = 60,000.0000, discount factor 1/(1+0.12)^2 = 0.797194, present value 47,831.6327",
    "Year 3: 200,000.00 x 0.3 = 60,000.0000, discount factor 1/(1+0.12)^3 = 0.711780, present value 42,706.8149",
    "Discount factors are computed exactly, not rounded from tables",
    "Value = Σ present values = 144,109.88",
]


def test_steps_with_repeated_zero_and_cut_amounts_zh() -> None:
    req = IncomeRequest(
        method="royalty_relief",
        discount_rate=0.1,
        tax_rate=0.25,
        revenue=[1000.0, 1000.0, 0.0, -0.0, 2500.5],
        royalty_rate=0.03,
        economic_life_years=4.5,
    )
    assert income_value(req, "zh").steps == STEPS_ZH


def test_steps_pre_tax_constant_stream_en() -> None:
    req = IncomeRequest(method="profit_split", discount_rate=0.12, years=3, profit=200000.0, profit_share=0.3)
    assert income_value(req, "en").steps == STEPS_EN


def test_a_flow_message_must_keep_the_per_year_parts_in_the_written_order() -> None:
    assert _flow_template("Y{t}: {base} x {share}{tax_part} = {cf} 1/(1+{r})^{t} = {df} -> {pv} {{x}}") == (
        "Y\x00: \x00 x {share}{tax_part} = \x00 1/(1+{r})^\x00 = \x00 -> \x00 {{x}}"
    )
    with pytest.raises(ValueError, match="per-year parts"):
        _flow_template("{t} {base} {df} {cf} {t} {pv}")  # df and cf swapped: the lines would lie
    with pytest.raises(ValueError, match="plain"):
        _flow_template("{t} {base} {cf} {t} {df} {pv:>9}")
