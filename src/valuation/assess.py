"""The pledge assessment of offered patents, from registry rows to the readable report (pure).

The service reads the enterprise's patents as feature rows (:mod:`valuation.features`), this
module values them all in one vectorised batch (the enterprise's product royalty is shared among
its granted patents, as in the batch command), applies what the enterprise declared about the
offered patents, runs :func:`valuation.pledge.assess_pledge` and explains every offered patent.
"""

import dataclasses
import datetime as dt

import numpy as np
from numpy.typing import NDArray

from valuation.arrays import clip
from valuation.batch import PatentBatch
from valuation.codes import CHAIN_CODES, GRADES, INDICATOR_INDEX, INDICATORS, LABELS, PATENT_TYPES
from valuation.coefficients import CoefficientSet
from valuation.degree import SOURCES, Source
from valuation.market import MarketResult, Transactions, market_results, market_value_one
from valuation.pipeline import BatchValuation, value_batch
from valuation.pledge import (
    GATES,
    PatentAssessment,
    PledgeAssessment,
    PledgeEnterprise,
    PledgePatent,
    PledgeRequest,
    assess_pledge,
)
from valuation.reconcile import METHODS
from valuation.schemas import (
    AssessmentCreate,
    EnterpriseRef,
    GateResult,
    IncomeOut,
    IndicatorOut,
    Methods,
    PatentOffer,
    PatentReport,
    ReportBody,
    ValueRange,
)
from valuation.text import num, pct, say
from valuation.types import Lang

_OVERRIDE_NUMERIC = ("sales", "sales_growth", "market_share", "economic_life_years", "rd_cost", "cost_index", "fees")
_OVERRIDE_LABELS = ("maturity", "lifecycle", "substitutes", "complementary", "competitors", "dependency", "originality")


@dataclasses.dataclass(frozen=True)
class Standing:
    """The applicant's standing: pool withdrawal and violation reports (risk flags)."""

    withdrawn_from_pool: bool
    under_violation_report: bool


@dataclasses.dataclass(frozen=True)
class Registry:
    """What the registry says about an offered patent, for the report and its inputs snapshot."""

    number: str
    title: str
    patent_type: str
    legal_status: str
    owned_by_applicant: bool


def apply_offer(batch: PatentBatch, i: int, offer: PatentOffer) -> None:
    """Layer the enterprise's declarations for one offered patent over its registry facts (in place)."""
    for name in _OVERRIDE_NUMERIC:
        value = getattr(offer, name)
        if value is not None:
            batch.numeric[name][i] = value
    if offer.sales is not None:
        batch.product[i] = -1  # its own product: the declared sales are not shared
    for kind in _OVERRIDE_LABELS:
        label = getattr(offer, kind)
        if label is not None:
            batch.categorical[kind][i] = LABELS[kind].index(label) + 1
    if offer.policy_fit is not None:
        batch.categorical["policy_fit"][i] = LABELS["policy_fit"].index(offer.policy_fit) + 1
    for key, level in offer.declared.items():
        batch.declared[i, INDICATOR_INDEX[key]] = level


@dataclasses.dataclass(frozen=True)
class Valued:
    """The enterprise's patents valued together; ``index`` maps an offered number to its row."""

    batch: PatentBatch
    valuation: BatchValuation
    index: dict[str, int]
    gates: dict[str, NDArray[np.uint8]]


def value_offered(
    batch: PatentBatch,
    rows: NDArray[np.void],
    gates: dict[str, NDArray[np.uint8]],
    offers: list[PatentOffer],
    as_of: dt.date,
    coeffs: CoefficientSet,
    transactions: Transactions | None,
) -> Valued:
    """Value the enterprise's patents and the offered ones in one batch, with the offers' declarations."""
    index = {n.decode(): i for i, n in enumerate(rows["number"].tolist())}
    for offer in offers:
        apply_offer(batch, index[offer.number], offer)
    valuation = value_batch(batch, as_of, coeffs, "pledge", transactions)
    gate_facts = {**gates, "fees_paid": rows["fees_paid"]}
    return Valued(batch, valuation, index, gate_facts)


def _opt(x: float) -> float | None:
    return None if not np.isfinite(x) else round(float(x), 2)


def pledge_request(
    valued: Valued, data: AssessmentCreate, registry: dict[str, Registry], credit_code: str, name: str, s: Standing
) -> PledgeRequest:
    """The core's pledge request: gate facts from the registry, values from the batch."""
    v, b = valued.valuation, valued.batch
    patents = []
    for offer in data.patents:
        i = valued.index[offer.number]
        base = v.reconciled.base[i]
        patents.append(
            PledgePatent(
                patent_number=offer.number,
                patent_type=PATENT_TYPES[b.patent_type[i] - 1],
                legal_status=LABELS["legal_status"][b.cat("legal_status")[i] - 1],
                owned_by_applicant=registry[offer.number].owned_by_applicant,
                already_pledged=bool(valued.gates["already_pledged"][i]),
                pending_invalidation=bool(valued.gates["pending_invalidation"][i]),
                ownership_dispute=bool(valued.gates["ownership_dispute"][i]),
                fees_paid=bool(valued.gates["fees_paid"][i]),
                remaining_term_years=float(b.col("remaining_term_years")[i]),
                value_base=float(base) if np.isfinite(base) else 0.0,
                value_degree=float(clip(v.degrees.V[i], 0.0, 100.0)),  # np.clip's ufunc, without its dispatch
                confidence=float(clip(v.degrees.confidence[i], 0.0, 1.0)),
            )
        )
    enterprise = PledgeEnterprise(
        credit_code=credit_code,
        name=name,
        withdrawn_from_pool=s.withdrawn_from_pool,
        under_violation_report=s.under_violation_report,
    )
    return PledgeRequest(
        enterprise=enterprise,
        patents=patents,
        requested_amount=data.requested_amount,
        requested_term_years=data.requested_term_years,
        liquidation_haircut=data.liquidation_haircut,
    )


def _income(v: BatchValuation, i: int) -> IncomeOut | None:
    inc = v.income
    if not np.isfinite(inc.value[i]):
        return None
    return IncomeOut(
        value=round(float(inc.value[i]), 2),
        low=round(float(v.income_low[i]), 2),
        high=round(float(v.income_high[i]), 2),
        royalty_rate=float(inc.royalty_rate[i]),
        royalty_share=float(inc.share[i]),
        annual_royalty=round(float(inc.annual_royalty[i]), 2),
        discount_rate=float(inc.discount_rate[i]),
        tax_rate=float(inc.tax_rate[i]),
        horizon_years=float(inc.horizon[i]),
    )


def _markets(
    valued: Valued, i: int, tx: Transactions | None, as_of: dt.date, c: CoefficientSet, langs: tuple[Lang, ...]
) -> dict[Lang, MarketResult]:
    b, v = valued.batch, valued.valuation
    sales, chain = float(b.col("sales")[i]), int(b.chain[i])
    if tx is None or chain < 0:
        need, years = c.market.min_comparables, f"{c.market.window_years:g}"
        return {
            lang: MarketResult(False, None, 0, [], [say("market.too_few", lang, n=0, need=need, years=years)])
            for lang in langs
        }
    if not sales > 0:
        return {lang: MarketResult(False, None, 0, [], [say("market.no_revenue", lang)]) for lang in langs}
    if v.market is None:  # not reached: value_batch computes the market arrays whenever tx is given
        scores, code = v.degrees.scores[i], CHAIN_CODES[chain]
        return {lang: market_value_one(scores, sales, code, tx, as_of, c, lang) for lang in langs}
    return market_results(v.market, i, sales, tx, c, langs)  # the batch's own neighbours: no second query


# Indicator keys, dimensions and names by language, in score-column order.
_INDICATOR_KEYS = tuple(key for key, _, _, _ in INDICATORS)
_INDICATOR_DIMS = tuple(dim for _, dim, _, _ in INDICATORS)
_INDICATOR_NAMES: dict[str, tuple[str, ...]] = {
    "zh": tuple(zh for _, _, zh, _ in INDICATORS),
    "en": tuple(en for _, _, _, en in INDICATORS),
}


@dataclasses.dataclass(frozen=True, slots=True)
class _Neutral:
    """The language-neutral parts of one offered patent's report, computed once for every language."""

    i: int
    L: float
    T: float
    E: float
    V: float
    grade: str
    confidence: float
    defaulted: list[str]
    scores: list[float]  # rounded to 2 decimals, in indicator order
    sources: list[Source]
    income: IncomeOut | None
    cost: float | None
    value: ValueRange
    step_params: tuple[dict[str, str], dict[str, str] | None, str | None, dict[str, str] | None]


def _neutral(valued: Valued, number: str, c: CoefficientSet) -> _Neutral:
    i = valued.index[number]
    v = valued.valuation
    d, rec = v.degrees, v.reconciled
    source_codes = d.source[i].tolist()
    income = _income(v, i)
    weights = rec.weights[i]
    weights_used = {m: round(float(w), 6) for m, w in zip(METHODS, weights, strict=True)}
    degree_step = {"v": f"{d.V[i]:.2f}", "version": c.version}
    income_step = None
    if income is not None:
        income_step = {
            "k": pct(income.royalty_rate),
            "share": f"{income.royalty_share:.4g}",
            "r": pct(income.discount_rate),
            "tax": pct(income.tax_rate),
            "n": f"{income.horizon_years:.2f}",
            "value": num(income.value),
        }
    cost_step = num(float(v.cost[i])) if np.isfinite(v.cost[i]) else None
    reconciled_step = None
    if np.isfinite(rec.base[i]):
        parts = ", ".join(f"{m} {w:.4g}" for m, w in zip(METHODS, weights, strict=True) if w > 0)
        reconciled_step = {"weights": parts, "low": num(rec.low[i]), "base": num(rec.base[i]), "high": num(rec.high[i])}
    return _Neutral(
        i=i,
        L=round(float(d.L[i]), 2),
        T=round(float(d.T[i]), 2),
        E=round(float(d.E[i]), 2),
        V=round(float(d.V[i]), 2),
        grade=GRADES[d.grade[i]],
        confidence=round(float(d.confidence[i]), 4),
        defaulted=[key for key, code in zip(_INDICATOR_KEYS, source_codes, strict=True) if code == 2],
        scores=[round(score, 2) for score in d.scores[i].tolist()],
        sources=[SOURCES[code] for code in source_codes],
        income=income,
        cost=_opt(v.cost[i]),
        value=ValueRange(_opt(rec.low[i]), _opt(rec.base[i]), _opt(rec.high[i]), weights_used),
        step_params=(degree_step, income_step, cost_step, reconciled_step),
    )


def _steps(n: _Neutral, market: MarketResult, lang: Lang) -> list[str]:
    degree_step, income_step, cost_step, reconciled_step = n.step_params
    steps = [say("val.degree", lang, **degree_step)]
    if income_step is not None:
        steps.append(say("val.income", lang, **income_step))
    else:
        steps.append(say("val.no_income", lang))
    steps += market.steps
    if cost_step is not None:
        steps.append(say("val.cost", lang, value=cost_step))
    if reconciled_step is not None:
        steps.append(say("val.reconciled", lang, **reconciled_step))
    return steps


def _patent_report(
    number: str,
    registry: Registry,
    n: _Neutral,
    result: PatentAssessment,
    market: MarketResult,
    lang: Lang,
) -> PatentReport:
    names = _INDICATOR_NAMES["zh" if lang == "zh" else "en"]
    indicators = [
        IndicatorOut(*fields)
        for fields in zip(_INDICATOR_KEYS, _INDICATOR_DIMS, names, n.scores, n.sources, strict=True)
    ]
    failed = {r.code: r.message for r in result.reasons}
    gates = [GateResult(code, code not in failed, failed.get(code)) for code in GATES]
    return PatentReport(
        number=number,
        title=registry.title,
        patent_type=registry.patent_type,
        legal_status=registry.legal_status,
        L=n.L,
        T=n.T,
        E=n.E,
        V=n.V,
        grade=n.grade,
        confidence=n.confidence,
        defaulted=n.defaulted,
        indicators=indicators,
        methods=Methods(n.income, market, n.cost),
        value=n.value,
        gates=gates,
        eligible=result.eligible,
        pledge_rate=result.pledge_rate,
        collateral_value=round(result.collateral_value, 2),
        steps=_steps(n, market, lang),
    )


def patent_report(
    valued: Valued,
    number: str,
    registry: Registry,
    result_index: int,
    assessment: PledgeAssessment,
    tx: Transactions | None,
    as_of: dt.date,
    c: CoefficientSet,
    lang: Lang,
) -> PatentReport:
    """Explain one offered patent: value degree, methods, reconciled range, gates and pledge rate."""
    n = _neutral(valued, number, c)
    market = _markets(valued, n.i, tx, as_of, c, (lang,))[lang]
    return _patent_report(number, registry, n, assessment.patents[result_index], market, lang)


def build_reports(
    valued: Valued,
    data: AssessmentCreate,
    registry: dict[str, Registry],
    enterprise: EnterpriseRef,
    standing: Standing,
    tx: Transactions | None,
    as_of: dt.date,
    coeffs: CoefficientSet,
    langs: tuple[Lang, ...] = ("zh", "en"),
) -> dict[Lang, ReportBody]:
    """The whole report in each language; what no language changes (the numbers) is computed once.

    Each report equals :func:`build_report` in its language (the reports share those parts' objects).
    """
    req = pledge_request(valued, data, registry, enterprise.credit_code, enterprise.name, standing)
    neutral = [_neutral(valued, offer.number, coeffs) for offer in data.patents]
    markets = [_markets(valued, n.i, tx, as_of, coeffs, langs) for n in neutral]
    reports: dict[Lang, ReportBody] = {}
    for lang in langs:
        result = assess_pledge(req, coeffs, lang)
        patents = [
            _patent_report(offer.number, registry[offer.number], n, r, market[lang], lang)
            for offer, n, r, market in zip(data.patents, neutral, result.patents, markets, strict=True)
        ]
        reports[lang] = ReportBody(
            lang=lang,
            as_of=as_of,
            model_version=result.model_version,
            coefficient_version=result.coefficient_version,
            enterprise=enterprise,
            requested_amount=data.requested_amount,
            requested_term_years=data.requested_term_years,
            liquidation_haircut=data.liquidation_haircut,
            patents=patents,
            collateral_value=round(result.collateral_value, 2),
            suggested_loan=result.suggested_loan,
            suggested_term_months=result.suggested_term_months,
            flags=result.flags,
            steps=result.steps,
        )
    return reports


def build_report(
    valued: Valued,
    data: AssessmentCreate,
    registry: dict[str, Registry],
    enterprise: EnterpriseRef,
    standing: Standing,
    tx: Transactions | None,
    as_of: dt.date,
    coeffs: CoefficientSet,
    lang: Lang,
) -> ReportBody:
    """The whole report in one language."""
    return build_reports(valued, data, registry, enterprise, standing, tx, as_of, coeffs, (lang,))[lang]
