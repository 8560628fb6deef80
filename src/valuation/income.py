"""Income-approach calculator: the public, stateless contract of VALUATION.md §4.

value = Σ_{t=1..n} CF_t x share x (1 - tax) / (1 + r)^t with exact discount factors. The method
picks the stream and the share: ``royalty_relief`` (revenue x K, or profit x K / profit margin),
``profit_split`` (profit x a given share, or the equivalent-investment share P / (P + B)),
``excess_earnings`` (the extra profit, share 1). The stream is cut at
min(economic life, legal term left); a fractional last period counts that fraction of its flow.

Usage::

    result = income_value(IncomeRequest(method="royalty_relief", discount_rate=0.10, tax_rate=0.25,
                                        years=5, revenue=1000.0, royalty_rate=0.03))
    result.value  # 85.29...

Invalid inputs raise :class:`~valuation.errors.ValuationInputError` naming the field.
"""

import math
import string
from typing import Literal

import msgspec

from valuation.errors import ValuationInputError
from valuation.text import MESSAGES, num, pct, say
from valuation.types import Fraction, Lang, Periods, PositiveRate, Rate, Years, Yuan, YuanStream

IncomeMethod = Literal["royalty_relief", "profit_split", "excess_earnings"]
Stream = Yuan | YuanStream

# Which optional inputs each method reads; any other one given is an error (never silently ignored).
_FIELDS: dict[str, frozenset[str]] = {
    "royalty_relief": frozenset({"revenue", "royalty_rate", "profit", "profit_margin"}),
    "profit_split": frozenset({"profit", "profit_share", "equivalent_investment"}),
    "excess_earnings": frozenset({"excess_profit"}),
}
_OPTIONAL = ("revenue", "royalty_rate", "profit", "profit_margin", "profit_share", "equivalent_investment")
# The optional inputs a method does not read, in the order they are checked.
_NOT_USED = {
    method: tuple(name for name in (*_OPTIONAL, "excess_profit") if name not in allowed)
    for method, allowed in _FIELDS.items()
}


class EquivalentInvestment(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """约当投资: replacement costs and cost-profit rates of the patent (P) and the licensee's assets (B)."""

    patent_cost: Yuan
    patent_cost_profit_rate: Rate
    licensee_assets: Yuan
    licensee_cost_profit_rate: Rate


class IncomeRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Request of ``POST /api/v1/valuation/methods/income`` (field names are the public contract)."""

    method: IncomeMethod
    discount_rate: PositiveRate
    tax_rate: Rate = 0.0
    years: Periods | None = None
    revenue: Stream | None = None
    royalty_rate: Rate | None = None
    profit: Stream | None = None
    profit_margin: Fraction | None = None
    profit_share: Fraction | None = None
    equivalent_investment: EquivalentInvestment | None = None
    excess_profit: Stream | None = None
    economic_life_years: Years | None = None
    legal_remaining_years: Years | None = None


class IncomeResult(msgspec.Struct, frozen=True):
    """The value with everything needed to reproduce it."""

    value: float
    basis: Literal["pre_tax", "after_tax"]
    share: float
    periods: int
    cash_flows: list[float]
    discount_factors: list[float]
    steps: list[str]


def _fraction(value: float | None, field: str, *, low: float, high: float, open_low: bool, open_high: bool) -> None:
    if value is None:
        return
    if not math.isfinite(value):
        raise ValuationInputError(field, "must be a finite number")
    too_low = value <= low if open_low else value < low
    too_high = value >= high if open_high else value > high
    if too_low or too_high:
        raise ValuationInputError(
            field, f"must be in {'(' if open_low else '['}{low}, {high}{')' if open_high else ']'}"
        )


def _money(value: float, field: str) -> None:
    if not math.isfinite(value) or value < 0:
        raise ValuationInputError(field, "must be a finite amount ≥ 0")


def _stream(value: float | list[float] | None, years: int | None, field: str) -> list[float]:
    if value is None:
        raise ValuationInputError(field, "is required by this method")
    if isinstance(value, list):
        if not 1 <= len(value) <= 100:
            raise ValuationInputError(field, "needs 1 to 100 yearly amounts")
        if years is not None and years != len(value):
            raise ValuationInputError("years", f"is {years} but {field} lists {len(value)} years")
        for i, amount in enumerate(value):
            _money(amount, f"{field}[{i}]")
        return [float(a) for a in value]
    _money(value, field)
    if years is None:
        raise ValuationInputError("years", f"is required when {field} is a single number")
    return [float(value)] * years


def _check_fields(req: IncomeRequest) -> None:
    # Each bound is tried inline first (a NaN or an infinity fails it too); only a value outside is handed to
    # _fraction, which names what is wrong. Same checks, same order, same messages.
    r, tax, k, margin, split = req.discount_rate, req.tax_rate, req.royalty_rate, req.profit_margin, req.profit_share
    if not 0 < r < 1:
        _fraction(r, "discount_rate", low=0, high=1, open_low=True, open_high=True)
    if not 0 <= tax < 1:
        _fraction(tax, "tax_rate", low=0, high=1, open_low=False, open_high=True)
    if k is not None and not 0 <= k < 1:
        _fraction(k, "royalty_rate", low=0, high=1, open_low=False, open_high=True)
    if margin is not None and not 0 < margin <= 1:
        _fraction(margin, "profit_margin", low=0, high=1, open_low=True, open_high=False)
    if split is not None and not 0 <= split <= 1:
        _fraction(split, "profit_share", low=0, high=1, open_low=False, open_high=False)
    if req.years is not None and not 1 <= req.years <= 100:
        raise ValuationInputError("years", "must be 1 to 100")
    for name in ("economic_life_years", "legal_remaining_years"):
        years = getattr(req, name)
        if years is not None and not 0 < years <= 100:
            _fraction(years, name, low=0, high=100, open_low=True, open_high=False)
    for name in _NOT_USED[req.method]:
        if getattr(req, name) is not None:
            raise ValuationInputError(name, f"is not used by method {req.method}")


def _royalty_relief(req: IncomeRequest, lang: Lang) -> tuple[list[float], float, list[str]]:
    if req.royalty_rate is None:
        raise ValuationInputError("royalty_rate", "is required by royalty_relief")
    k = req.royalty_rate
    if req.revenue is not None and req.profit is not None:
        raise ValuationInputError("profit", "give either revenue or profit with profit_margin, not both")
    if req.profit is None:
        if req.profit_margin is not None:
            raise ValuationInputError("profit_margin", "is only used with profit")
        return (
            _stream(req.revenue, req.years, "revenue"),
            k,
            [say("method.royalty_relief", lang), say("share.royalty", lang, k=pct(k))],
        )
    if req.profit_margin is None:
        raise ValuationInputError("profit_margin", "is required with profit")
    share = k / req.profit_margin
    if share > 1:
        raise ValuationInputError("profit_margin", "royalty_rate / profit_margin exceeds 1")
    steps = [
        say("method.royalty_relief_profit", lang),
        say("share.royalty_profit", lang, k=pct(k), margin=pct(req.profit_margin), share=f"{share:.6g}"),
    ]
    return _stream(req.profit, req.years, "profit"), share, steps


def _profit_split(req: IncomeRequest, lang: Lang) -> tuple[list[float], float, list[str]]:
    stream = _stream(req.profit, req.years, "profit")
    eq = req.equivalent_investment
    if req.profit_share is not None and eq is not None:
        raise ValuationInputError(
            "equivalent_investment", "give either profit_share or equivalent_investment, not both"
        )
    if req.profit_share is not None:
        return (
            stream,
            req.profit_share,
            [say("method.profit_split", lang), say("share.given", lang, share=f"{req.profit_share:.6g}")],
        )
    if eq is None:
        raise ValuationInputError("profit_share", "profit_split needs profit_share or equivalent_investment")
    _money(eq.patent_cost, "equivalent_investment.patent_cost")
    _money(eq.licensee_assets, "equivalent_investment.licensee_assets")
    for name in ("patent_cost_profit_rate", "licensee_cost_profit_rate"):
        _fraction(getattr(eq, name), f"equivalent_investment.{name}", low=0, high=1, open_low=False, open_high=True)
    p = eq.patent_cost * (1 + eq.patent_cost_profit_rate)
    b = eq.licensee_assets * (1 + eq.licensee_cost_profit_rate)
    if p + b <= 0:
        raise ValuationInputError("equivalent_investment.patent_cost", "patent cost and licensee assets are both 0")
    share = p / (p + b)
    line = say(
        "share.equivalent",
        lang,
        pc=num(eq.patent_cost),
        pr=pct(eq.patent_cost_profit_rate),
        p=num(p),
        lc=num(eq.licensee_assets),
        lr=pct(eq.licensee_cost_profit_rate),
        b=num(b),
        share=f"{share:.6g}",
    )
    return stream, share, [say("method.profit_split", lang), line]


def _excess(req: IncomeRequest, lang: Lang) -> tuple[list[float], float, list[str]]:
    return (
        _stream(req.excess_profit, req.years, "excess_profit"),
        1.0,
        [say("method.excess_earnings", lang), say("share.excess", lang)],
    )


def _cut(stream: list[float], req: IncomeRequest, lang: Lang) -> tuple[list[float], list[str]]:
    """Cut the stream at min(economic life, legal term); a fractional last period counts pro rata."""
    limits = [y for y in (req.economic_life_years, req.legal_remaining_years) if y is not None]
    horizon = min(limits) if limits else math.inf
    if horizon >= len(stream):
        return stream, [say("periods", lang, n=len(stream))]
    periods = math.ceil(horizon)
    fraction = horizon - (periods - 1)
    cut = stream[:periods]
    cut[-1] *= fraction
    life = "-" if req.economic_life_years is None else f"{req.economic_life_years:g}"
    legal = "-" if req.legal_remaining_years is None else f"{req.legal_remaining_years:g}"
    return cut, [say("horizon", lang, life=life, legal=legal, n=f"{horizon:g}", frac=f"{fraction:.4g}")]


_CUT = "\x00"  # stands for a per-year value in a flow template (formatted numbers never hold a NUL)
_PER_REQUEST = ("share", "tax_part", "r")  # the flow line's parts that are the same in every year
_PER_YEAR = ("t", "base", "cf", "t", "df", "pv")  # and those that change, in the order income_value writes them


def _flow_template(message: str) -> str:
    """The ``flow`` message as a template of its per-request parts, with _CUT where a per-year value goes."""
    out, per_year = [], []
    for literal, field, spec, conversion in string.Formatter().parse(message):
        out.append(literal.replace("{", "{{").replace("}", "}}"))
        if field is None:
            continue
        if spec or conversion:
            raise ValueError(f"flow message: {{{field}}} must be plain")
        if field in _PER_REQUEST:
            out.append("{" + field + "}")
        else:
            per_year.append(field)
            out.append(_CUT)
    if tuple(per_year) != _PER_YEAR:
        raise ValueError(f"flow message: per-year parts {per_year}, income_value writes {list(_PER_YEAR)}")
    return "".join(out)


_FLOW = {lang: _flow_template(MESSAGES["flow"][i]) for i, lang in enumerate(("zh", "en"))}


def income_value(req: IncomeRequest, lang: Lang = "zh") -> IncomeResult:
    """Value a patent's income stream by the requested method.

    Args:
        req: The request (see the module docstring and VALUATION.md §4).
        lang: Language of ``steps``.

    Returns:
        Value, basis, share, periods, cash flows, exact discount factors and readable steps.

    Raises:
        ValuationInputError: Naming the field of an invalid value or combination.
    """
    _check_fields(req)
    stream, share, steps = _METHODS[req.method](req, lang)
    base, cut_steps = _cut(stream, req, lang)
    steps += cut_steps
    tax, r = req.tax_rate, req.discount_rate
    tax_text = pct(tax)
    steps.append(say("tax.after", lang, tax=tax_text) if tax > 0 else say("tax.pre", lang))
    # One line per year: the parts that do not change from year to year are put into the template once, the
    # template is cut into the literal runs between the per-year values, and each year's line is joined from them;
    # a base amount (with its cash flow) is formatted again only when it changes.
    share_text, tax_part, r_text = f"{share:.6g}", f" x (1 - {tax_text})" if tax > 0 else "", f"{r:g}"
    runs = _FLOW["zh" if lang == "zh" else "en"].format(share=share_text, tax_part=tax_part, r=r_text)
    l0, l1, l2, l3, l4, l5, l6 = runs.split(_CUT)
    kept = 1 - tax
    flows, factors, present = [], [], []
    last_amount, base_text, cf_text = math.nan, "", ""
    for t, amount in enumerate(base, start=1):
        cf, df = amount * share * kept, (1 + r) ** -t
        pv = cf * df
        flows.append(cf)
        factors.append(df)
        present.append(pv)
        if amount != last_amount:
            last_amount, base_text, cf_text = amount, f"{amount:,.2f}", f"{cf:,.4f}"
        elif not amount:  # 0.0 == -0.0: the base text is reused (as it always was), the cash flow keeps its sign
            cf_text = f"{cf:,.4f}"
        year = str(t)
        steps.append(f"{l0}{year}{l1}{base_text}{l2}{cf_text}{l3}{year}{l4}{df:.6f}{l5}{pv:,.4f}{l6}")
    value = math.fsum(present)
    steps += [say("exact", lang), say("total", lang, value=num(value))]
    basis: Literal["pre_tax", "after_tax"] = "after_tax" if tax > 0 else "pre_tax"
    return IncomeResult(value, basis, share, len(flows), flows, factors, steps)


_METHODS = {"royalty_relief": _royalty_relief, "profit_split": _profit_split, "excess_earnings": _excess}
