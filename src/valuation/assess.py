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

from valuation.batch import PatentBatch
from valuation.codes import CHAIN_CODES, GRADES, INDICATOR_INDEX, INDICATORS, LABELS, PATENT_TYPES
from valuation.coefficients import CoefficientSet
from valuation.degree import SOURCES
from valuation.market import MarketResult, Transactions, market_result, market_value_one
from valuation.pipeline import BatchValuation, value_batch
from valuation.pledge import GATES, PledgeAssessment, PledgeEnterprise, PledgePatent, PledgeRequest, assess_pledge
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
    index = {n.decode(): i for i, n in enumerate(rows["number"])}
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
                value_degree=float(np.clip(v.degrees.V[i], 0.0, 100.0)),
                confidence=float(np.clip(v.degrees.confidence[i], 0.0, 1.0)),
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


def _market(
    valued: Valued, i: int, tx: Transactions | None, as_of: dt.date, c: CoefficientSet, lang: Lang
) -> MarketResult:
    b, v = valued.batch, valued.valuation
    sales, chain = float(b.col("sales")[i]), int(b.chain[i])
    if tx is None or chain < 0:
        return MarketResult(
            False,
            None,
            0,
            [],
            [say("market.too_few", lang, n=0, need=c.market.min_comparables, years=f"{c.market.window_years:g}")],
        )
    if not sales > 0:
        return MarketResult(False, None, 0, [], [say("market.no_revenue", lang)])
    if v.market is None:  # not reached: value_batch computes the market arrays whenever tx is given
        return market_value_one(v.degrees.scores[i], sales, CHAIN_CODES[chain], tx, as_of, c, lang)
    return market_result(v.market, i, sales, tx, c, lang)  # the batch's own neighbours: no second query


def _steps(
    v: BatchValuation, i: int, income: IncomeOut | None, market: MarketResult, c: CoefficientSet, lang: Lang
) -> list[str]:
    steps = [say("val.degree", lang, v=f"{v.degrees.V[i]:.2f}", version=c.version)]
    if income is not None:
        steps.append(
            say(
                "val.income",
                lang,
                k=pct(income.royalty_rate),
                share=f"{income.royalty_share:.4g}",
                r=pct(income.discount_rate),
                tax=pct(income.tax_rate),
                n=f"{income.horizon_years:.2f}",
                value=num(income.value),
            )
        )
    else:
        steps.append(say("val.no_income", lang))
    steps += market.steps
    if np.isfinite(v.cost[i]):
        steps.append(say("val.cost", lang, value=num(float(v.cost[i]))))
    rec = v.reconciled
    if np.isfinite(rec.base[i]):
        parts = ", ".join(f"{m} {w:.4g}" for m, w in zip(METHODS, rec.weights[i], strict=True) if w > 0)
        steps.append(
            say(
                "val.reconciled", lang, weights=parts, low=num(rec.low[i]), base=num(rec.base[i]), high=num(rec.high[i])
            )
        )
    return steps


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
    i = valued.index[number]
    v = valued.valuation
    d = v.degrees
    indicators = [
        IndicatorOut(key, dim, zh if lang == "zh" else en, round(float(d.scores[i, j]), 2), SOURCES[d.source[i, j]])
        for j, (key, dim, zh, en) in enumerate(INDICATORS)
    ]
    income = _income(v, i)
    market = _market(valued, i, tx, as_of, c, lang)
    result = assessment.patents[result_index]
    failed = {r.code: r.message for r in result.reasons}
    gates = [GateResult(code, code not in failed, failed.get(code)) for code in GATES]
    rec = v.reconciled
    weights_used = {m: round(float(w), 6) for m, w in zip(METHODS, rec.weights[i], strict=True)}
    return PatentReport(
        number=number,
        title=registry.title,
        patent_type=registry.patent_type,
        legal_status=registry.legal_status,
        L=round(float(d.L[i]), 2),
        T=round(float(d.T[i]), 2),
        E=round(float(d.E[i]), 2),
        V=round(float(d.V[i]), 2),
        grade=GRADES[d.grade[i]],
        confidence=round(float(d.confidence[i]), 4),
        defaulted=[key for j, (key, _, _, _) in enumerate(INDICATORS) if d.source[i, j] == 2],
        indicators=indicators,
        methods=Methods(income, market, _opt(v.cost[i])),
        value=ValueRange(_opt(rec.low[i]), _opt(rec.base[i]), _opt(rec.high[i]), weights_used),
        gates=gates,
        eligible=result.eligible,
        pledge_rate=result.pledge_rate,
        collateral_value=round(result.collateral_value, 2),
        steps=_steps(v, i, income, market, c, lang),
    )


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
    req = pledge_request(valued, data, registry, enterprise.credit_code, enterprise.name, standing)
    result = assess_pledge(req, coeffs, lang)
    patents = [
        patent_report(valued, offer.number, registry[offer.number], k, result, tx, as_of, coeffs, lang)
        for k, offer in enumerate(data.patents)
    ]
    return ReportBody(
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
