"""API types of the valuation domain: requests (Create) and reports (Read), as msgspec Structs."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

from ipledge.vocab import (
    CreditCodeStr,
    PatentNumberStr,
    check_credit_code,
    check_not_future,
    check_patent_number,
    set_field,
)
from ipledge.vocab import fail as _fail
from valuation.coefficients import CoefficientSet
from valuation.degree import Source
from valuation.market import MarketResult
from valuation.pledge import Flag
from valuation.types import Declared, Fraction, Rate, Score, Years, Yuan

IndicatorKey = Literal[
    "validity",
    "family",
    "invalidation",
    "design_around",
    "claim_set",
    "claim_types",
    "dependency",
    "importance",
    "originality",
    "effect",
    "citations",
    "substitutes",
    "fields",
    "breadth",
    "complementary",
    "maturity",
    "lifecycle",
    "economic_life",
    "defensive",
    "control",
    "competitors",
    "sales",
    "market_share",
    "policy_fit",
    "licensing",
    "financing",
    "litigation",
]
Growth = Annotated[float, msgspec.Meta(ge=-0.9, le=1.0)]
CostIndex = Annotated[float, msgspec.Meta(gt=0.0, le=100.0)]
Amount = Annotated[
    float, msgspec.Meta(ge=0.01, le=1e15, description="Amount in yuan (元), at least 0.01 (stored to the fen)")
]
TermYears = Annotated[float, msgspec.Meta(gt=0.0, le=30.0)]
Note = Annotated[str, msgspec.Meta(max_length=500)]

#: The Patent Law of the PRC took effect on this day: no patent, and no transaction of one, is older.
PATENT_LAW_IN_FORCE = date(1985, 4, 1)


class PatentOffer(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An offered patent (by number) and what the enterprise declares about it beyond the registry."""

    number: PatentNumberStr
    sales: Yuan | None = None
    """Yearly sales of a product this patent alone embodies (else the enterprise's revenue is shared)."""
    sales_growth: Growth | None = None
    market_share: Fraction | None = None
    economic_life_years: Years | None = None
    rd_cost: Yuan | None = None
    cost_index: CostIndex | None = None
    fees: Yuan | None = None
    maturity: Literal["lab", "pilot", "mass_production"] | None = None
    lifecycle: Literal["emerging_growth", "mature", "declining"] | None = None
    substitutes: Literal["none", "few", "many"] | None = None
    complementary: Literal["self_sufficient", "moderate", "heavy"] | None = None
    competitors: Literal["few", "some", "many"] | None = None
    dependency: Literal["independent", "licensed_in", "unlicensed_third_party"] | None = None
    originality: Literal["pioneering", "improvement"] | None = None
    policy_fit: Literal["listed", "partly", "not_listed"] | None = None
    declared: dict[IndicatorKey, Declared] = {}

    def __post_init__(self) -> None:
        set_field(self, "number", check_patent_number("number", self.number))


class AssessmentCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A pledge-loan request: the offered patents and the loan asked for."""

    patents: Annotated[list[PatentOffer], msgspec.Meta(min_length=1, max_length=200)]
    requested_amount: Amount
    enterprise: CreditCodeStr | None = None
    """The applicant (an operator acting for it must name it; an enterprise may omit it)."""
    requested_term_years: TermYears | None = None
    liquidation_haircut: Rate = 0.0
    as_of: date | None = None

    def __post_init__(self) -> None:
        if self.enterprise is not None:
            set_field(self, "enterprise", check_credit_code("enterprise", self.enterprise))
        check_not_future("as_of", self.as_of)


class GateResult(msgspec.Struct, frozen=True):
    code: str
    passed: bool
    message: str | None = None


class IndicatorOut(msgspec.Struct, frozen=True):
    key: str
    dimension: str
    name: str
    score: float
    source: Source


class IncomeOut(msgspec.Struct, frozen=True):
    """The income approach as applied (relief from royalty, after tax)."""

    value: float
    low: float
    high: float
    royalty_rate: float
    royalty_share: float
    annual_royalty: float
    discount_rate: float
    tax_rate: float
    horizon_years: float
    basis: str = "after_tax"
    method: str = "royalty_relief"


class Methods(msgspec.Struct, frozen=True):
    income: IncomeOut | None
    market: MarketResult
    cost: float | None


class ValueRange(msgspec.Struct, frozen=True):
    low: float | None
    base: float | None
    high: float | None
    weights: dict[str, float]


class PatentReport(msgspec.Struct, frozen=True):
    """One offered patent in the report."""

    number: str
    title: str
    patent_type: str
    legal_status: str
    L: float
    T: float
    E: float
    V: float
    grade: str
    confidence: float
    defaulted: list[str]
    indicators: list[IndicatorOut]
    methods: Methods
    value: ValueRange
    gates: list[GateResult]
    eligible: bool
    pledge_rate: float
    collateral_value: float
    steps: list[str]


class EnterpriseRef(msgspec.Struct, frozen=True):
    credit_code: str
    name: str


class ReportBody(msgspec.Struct, frozen=True):
    """The computed report in one language (stored once per language, never changed)."""

    lang: str
    as_of: date
    model_version: str
    coefficient_version: str
    enterprise: EnterpriseRef
    requested_amount: float
    requested_term_years: float | None
    liquidation_haircut: float
    patents: list[PatentReport]
    collateral_value: float
    suggested_loan: float
    suggested_term_months: int
    flags: list[Flag]
    steps: list[str]


class Assessment(ReportBody, frozen=True, kw_only=True):
    """An immutable pledge assessment (快评) report, with the inputs it was computed from."""

    id: uuid.UUID
    created_at: datetime
    created_by: uuid.UUID
    inputs: dict[str, Any]


class AssessmentSummary(msgspec.Struct, frozen=True):
    id: uuid.UUID
    enterprise: str
    as_of: date
    model_version: str
    coefficient_version: str
    patent_count: int
    requested_amount: float
    collateral_value: float
    suggested_loan: float
    suggested_term_months: int
    created_at: datetime


class AssessmentPage(msgspec.Struct, frozen=True):
    items: list[AssessmentSummary]
    next_cursor: str | None


class CoefficientSetCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new coefficient-set version (the whole document; ``document.version`` names it)."""

    document: CoefficientSet
    note: Note = ""


class CoefficientSetInfo(msgspec.Struct, frozen=True):
    version: str
    note: str
    active: bool
    created_at: datetime
    created_by: uuid.UUID | None


class CoefficientSetOut(CoefficientSetInfo, frozen=True, kw_only=True):
    document: CoefficientSet


TransactionKind = Literal["pledge", "transfer", "licence"]
ChainCodeV = Literal[
    "ic", "nev", "ai", "biomed", "meddev", "equip", "robot", "materials", "pv_storage", "ict", "green", "agri_food"
]


class TransactionCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A priced transaction for the market approach; scores come from the patent when not given."""

    kind: TransactionKind
    chain: ChainCodeV
    date: date
    price: Amount
    revenue: Amount
    patent_number: PatentNumberStr | None = None
    indicator_scores: Annotated[list[Score], msgspec.Meta(min_length=27, max_length=27)] | None = None
    note: Note = ""

    def __post_init__(self) -> None:
        check_not_future("date", self.date)
        if self.date < PATENT_LAW_IN_FORCE:
            raise _fail("date", "早于 1985-04-01（专利法施行）/ before 1985-04-01, when the Patent Law took effect")
        if self.patent_number is not None:
            set_field(self, "patent_number", check_patent_number("patent_number", self.patent_number))
        if self.patent_number is None and self.indicator_scores is None:
            raise _fail(
                "indicator_scores", "需要指标得分或已登记的专利号 / give indicator_scores or a registered patent_number"
            )


class Transaction(msgspec.Struct, frozen=True):
    id: uuid.UUID
    kind: str
    chain: str
    date: date
    price: float
    revenue: float
    patent_number: str | None
    indicator_scores: list[float]
    note: str
    created_at: datetime


class TransactionPage(msgspec.Struct, frozen=True):
    items: list[Transaction]
    next_cursor: str | None


class RowError(msgspec.Struct, frozen=True):
    row: int
    errors: list[dict[str, str]]


class TransactionImport(msgspec.Struct, frozen=True):
    received: int
    imported: int
    rejected: list[RowError]


__all__ = ["Fraction", "Rate", "Years"]
