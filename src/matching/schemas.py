"""API types of the matching domain: pool, institution criteria, push runs and lists, feedback."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from ipledge.vocab import ChainCode, CreditCodeStr, ProvinceStr, Rate, Yuan, check_not_future, check_province, fail
from matching.fit_inputs import Grade, InstitutionKind, Stage
from matching.progress import WithdrawalReason

PoolStateName = Literal["applied", "under_review", "admitted", "graduated", "withdrawn", "rejected"]
CriterionCode = Literal[
    "registered_sme",
    "recognition",
    "patent_intensive_industry",
    "core_patents_filed",
    "industrialisation_rate",
    "rd_spend",
    "rd_staff",
    "trademark",
    "ip_management",
    "clean_record",
]
Reason = Annotated[str, msgspec.Meta(min_length=4, max_length=2000, description="Written reason (audited)")]
Note = Annotated[str, msgspec.Meta(max_length=2000)]
Growth = Annotated[float, msgspec.Meta(ge=-1.0, le=100.0, description="Growth as a fraction (0.25 = +25%)")]
Product = Literal["pledge_loan", "investment_loan_linkage", "credit_loan", "equity"]

# --- pool ---------------------------------------------------------------------------------------------


class Criterion(msgspec.Struct, kw_only=True):
    number: int
    code: str
    verdict: Literal["pass", "fail", "unknown"]
    reason: str
    override_justification: str | None = None


class Eligibility(msgspec.Struct, kw_only=True):
    """The ten entry criteria evaluated now from the enterprise's profile."""

    credit_code: str
    province: str
    outcome: Literal["eligible", "ineligible", "incomplete"]
    criteria: list[Criterion]
    policy_version: str


class PoolEntry(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    enterprise_id: uuid.UUID
    credit_code: str
    name: str
    province: str
    state: PoolStateName
    admission_kind: Literal["initial", "supplement"] | None
    reason_code: str | None
    applied_at: datetime
    admitted_at: datetime | None
    closed_at: datetime | None
    policy_version: str
    allowed_transitions: list[str]
    criteria: list[Criterion] = []


class PoolEntryPage(msgspec.Struct, kw_only=True):
    items: list[PoolEntry]
    next_cursor: str | None


class ApplicationCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An application to the pool of the enterprise's province (operators name the enterprise)."""

    credit_code: CreditCodeStr | None = None


class OverrideIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    code: CriterionCode
    justification: Annotated[str, msgspec.Meta(min_length=10, max_length=2000)]


class ReviewIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    note: Note = ""


class AdmitIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Admit under the quota; failed or unknown criteria need a written override each."""

    overrides: Annotated[list[OverrideIn], msgspec.Meta(max_length=10)] = []
    note: Note = ""

    def __post_init__(self) -> None:
        if len({o.code for o in self.overrides}) != len(self.overrides):
            raise fail("overrides", "同一标准重复覆盖 / a criterion is overridden twice")


class RejectIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Reason


class GraduateIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Note = ""


class WithdrawIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Withdraw with a reason code; violation reports withdraw at once, ``no_progress`` after two years."""

    reason_code: WithdrawalReason
    reason: Reason


class ProgressReportIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reported_on: date
    industrialisation_rate: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
    new_patent_intensive_products: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 0
    product_sales_growth: Growth | None = None
    product_profit_growth: Growth | None = None
    note: Note = ""

    def __post_init__(self) -> None:
        check_not_future("reported_on", self.reported_on)


class ProgressReport(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    reported_on: date
    industrialisation_rate: float | None
    new_patent_intensive_products: int
    product_sales_growth: float | None
    product_profit_growth: float | None
    note: str
    qualifies: bool
    grounds: list[str]
    reasons: list[str]
    created_at: datetime


class Candidate(msgspec.Struct, kw_only=True):
    enterprise_id: uuid.UUID
    credit_code: str
    name: str
    province: str
    admitted_at: datetime | None
    reasons: list[str]


class Quota(msgspec.Struct, kw_only=True):
    province: str
    province_name: str
    cap: int
    initial_admissions: int
    supplements: int
    graduations: int
    supplement_limit: int
    members: int
    initial_seats_left: int
    supplement_seats_left: int


class ConsentIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    consent_share: bool


class Consent(msgspec.Struct, kw_only=True):
    credit_code: str
    consent_share: bool


# --- institutions -------------------------------------------------------------------------------------


def _dedupe(field: str, values: list[Any]) -> None:
    if len(set(values)) != len(values):
        raise fail(field, "重复的取值 / duplicate values")


class CriteriaIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What a bank or fund lends to or invests in; empty lists mean no restriction."""

    kind: InstitutionKind
    provinces: Annotated[list[ProvinceStr], msgspec.Meta(max_length=31)] = []
    chains: Annotated[list[ChainCode], msgspec.Meta(max_length=64)] = []
    amount_min: Yuan | None = None
    amount_max: Yuan | None = None
    min_grade: Grade | None = None
    products: Annotated[list[Product], msgspec.Meta(max_length=4)] = []
    stages: Annotated[list[Stage], msgspec.Meta(max_length=5)] = []
    thesis: Annotated[str, msgspec.Meta(max_length=5000)] = ""
    region_mandate: Annotated[list[ProvinceStr], msgspec.Meta(max_length=31)] = []

    def __post_init__(self) -> None:
        for name in ("provinces", "region_mandate"):
            codes = [check_province(name, p) for p in getattr(self, name)]
            _dedupe(name, codes)
            msgspec.structs.force_setattr(self, name, codes)
        for name in ("chains", "products", "stages"):
            _dedupe(name, getattr(self, name))
        if self.amount_min is not None and self.amount_max is not None and self.amount_min > self.amount_max:
            raise fail("amount_min", "下限高于上限 / above amount_max")
        if self.region_mandate and self.kind != "guidance_fund":
            raise fail("region_mandate", "仅政府引导基金有返投地域要求 / only guidance funds have a region mandate")


class Criteria(msgspec.Struct, kw_only=True):
    organisation_id: uuid.UUID
    name: str
    version: int
    kind: InstitutionKind
    provinces: list[str]
    chains: list[str]
    amount_min: float | None
    amount_max: float | None
    min_grade: Grade | None
    products: list[str]
    stages: list[str]
    thesis: str
    region_mandate: list[str]
    created_at: datetime


# --- push runs, schedules and lists -------------------------------------------------------------------


class PushRun(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    trigger: str
    fit_policy: str
    top_n: int
    text_model: dict[str, Any]
    enterprises: int
    institutions: int
    lists_published: int
    rows_published: int
    duration_ms: float
    started_at: datetime


class PushRunPage(msgspec.Struct, kw_only=True):
    items: list[PushRun]
    next_cursor: str | None


Every = Literal["daily", "weekly", "monthly"]


class ScheduleIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    every: Every = "monthly"
    first_run_at: datetime

    def __post_init__(self) -> None:
        if self.first_run_at.tzinfo is None:
            raise fail("first_run_at", "须带时区 / needs a timezone (e.g. 2025-01-01T09:00:00+08:00)")


class ScheduleUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    enabled: bool | UnsetType = UNSET
    every: Every | UnsetType = UNSET
    next_run_at: datetime | UnsetType = UNSET

    def __post_init__(self) -> None:
        if isinstance(self.next_run_at, datetime) and self.next_run_at.tzinfo is None:
            raise fail("next_run_at", "须带时区 / needs a timezone")


class Schedule(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    every: Every
    next_run_at: datetime
    last_run_at: datetime | None
    last_run_id: uuid.UUID | None
    enabled: bool
    created_at: datetime


class PushListInfo(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    run_id: uuid.UUID
    organisation_id: uuid.UUID
    sequence: int
    criteria_version: int | None
    row_count: int
    new_count: int
    changed_count: int
    removed: list[uuid.UUID]
    created_at: datetime


class PushListIndex(msgspec.Struct, kw_only=True):
    items: list[PushListInfo]
    next_cursor: str | None


class PushListRow(msgspec.Struct, kw_only=True):
    rank: int
    enterprise_id: uuid.UUID
    credit_code: str
    name: str
    province: str
    province_name: str
    chain: str | None
    score: float
    financing_need: float | None
    change: Literal["new", "changed", "same"]
    reasons: list[str]


class PushListPage(msgspec.Struct, kw_only=True):
    push_list: PushListInfo
    items: list[PushListRow]
    next_cursor: str | None


# --- feedback ----------------------------------------------------------------------------------------

Outcome = Literal["contacted", "declined", "loan_granted", "investment_intention", "investment_made"]


class FeedbackIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An outcome for one enterprise; the fields each outcome needs are checked."""

    credit_code: CreditCodeStr
    outcome: Outcome
    decline_reason: Annotated[str, msgspec.Meta(min_length=2, max_length=2000)] | None = None
    amount: Yuan | None = None
    granted_on: date | None = None
    term_months: Annotated[int, msgspec.Meta(ge=1, le=600)] | None = None
    rate: Rate | None = None
    list_id: uuid.UUID | None = None
    note: Note = ""

    def __post_init__(self) -> None:
        check_not_future("granted_on", self.granted_on)
        need: dict[str, tuple[str, ...]] = {
            "declined": ("decline_reason",),
            "loan_granted": ("amount", "granted_on", "term_months", "rate"),
            "investment_made": ("amount",),
        }
        for name in need.get(self.outcome, ()):
            if getattr(self, name) is None:
                raise fail(name, f"结果 {self.outcome} 须填写此项 / required for outcome {self.outcome}")
        if self.outcome != "loan_granted":
            for name in ("granted_on", "term_months", "rate"):
                if getattr(self, name) is not None:
                    raise fail(name, "仅适用于 loan_granted / only for loan_granted")
        if self.outcome != "declined" and self.decline_reason is not None:
            raise fail("decline_reason", "仅适用于 declined / only for declined")
        if self.outcome in ("contacted", "declined") and self.amount is not None:
            raise fail("amount", f"结果 {self.outcome} 无金额 / no amount for outcome {self.outcome}")


class Feedback(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    organisation_id: uuid.UUID
    enterprise_id: uuid.UUID
    credit_code: str
    outcome: Outcome
    decline_reason: str | None
    amount: float | None
    granted_on: date | None
    term_months: int | None
    rate: float | None
    list_id: uuid.UUID | None
    note: str
    created_at: datetime


class FeedbackPage(msgspec.Struct, kw_only=True):
    items: list[Feedback]
    next_cursor: str | None


class StatsRow(msgspec.Struct, kw_only=True):
    key: str
    label: str
    enterprises: int
    contacted: int
    declined: int
    loans: int
    loan_amount: float
    intentions: int
    investments: int
    investment_amount: float


class Stats(msgspec.Struct, kw_only=True):
    by: Literal["province", "chain", "institution"]
    rows: list[StatsRow]
