"""API types of the registry: separate Create / Update / Read Structs per resource."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from ipledge.auth import Role
from ipledge.vocab import (
    ChainCode,
    Count,
    CreditCodeStr,
    Email,
    IpcCode,
    LongText,
    PatentNumberStr,
    Phone,
    ProvinceStr,
    ShortText,
    SignedYuan,
    Yuan,
    check_credit_code,
    check_not_future,
    check_patent_number,
    check_province,
    fail,
    set_field,
)

OrgKind = Literal["operator", "enterprise", "bank", "fund"]
OrgStatus = Literal["pending", "active", "rejected", "suspended"]
SizeClass = Literal["micro", "small", "medium", "large"]
Certification = Literal["zjtx", "hnte", "ip_advantage", "ip_demo"]
ViolationFlag = Literal["abnormal_filing", "safety_accident", "violation", "dishonesty", "tax_evasion", "data_fraud"]
LegalStatus = Literal["pending", "granted", "lapsed", "invalidated", "expired", "withdrawn", "rejected"]
ClaimTypes = Literal["product_and_method", "product", "method", "design", "unknown"]
EventKind = Literal[
    "pledge",
    "pledge_release",
    "licence",
    "transfer",
    "invalidation_request",
    "invalidation_upheld",
    "invalidation_partial",
    "invalidation_rejected",
    "litigation_filed",
    "litigation_won",
    "litigation_lost",
    "ownership_dispute",
    "insurance",
]
Office = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$", examples=["US", "EP"])]
Name = Annotated[str, msgspec.Meta(min_length=2, max_length=200)]


class Contact(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    contact_name: ShortText | None = None
    contact_phone: Phone | None = None
    contact_email: Email | None = None


class OrganisationCreate(Contact, kw_only=True, forbid_unknown_fields=True):
    """A new organisation; banks and funds start ``pending`` until an operator approves them."""

    kind: OrgKind
    name: Name
    credit_code: CreditCodeStr
    province: ProvinceStr
    city: ShortText | None = None

    def __post_init__(self) -> None:
        set_field(self, "credit_code", check_credit_code("credit_code", self.credit_code))
        set_field(self, "province", check_province("province", self.province))


class OrganisationUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    city: ShortText | UnsetType | None = UNSET
    contact_name: ShortText | UnsetType | None = UNSET
    contact_phone: Phone | UnsetType | None = UNSET
    contact_email: Email | UnsetType | None = UNSET


class Organisation(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    kind: OrgKind
    name: str
    credit_code: str
    province: str
    province_name: str
    city: str | None
    contact_name: str | None
    contact_phone: str | None
    contact_email: str | None
    status: OrgStatus
    created_at: datetime
    updated_at: datetime


class OrganisationPage(msgspec.Struct, kw_only=True):
    items: list[Organisation]
    next_cursor: str | None


class StatusChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class KeyCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    label: ShortText = ""


class KeyInfo(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    organisation_id: uuid.UUID
    role: Role
    prefix: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


class KeyCreated(KeyInfo, kw_only=True):
    key: str
    """The secret key; shown only in this response."""


class EnterpriseProfile(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An enterprise's profile: what the pool criteria and the valuation need. Every field optional."""

    size_class: SizeClass | UnsetType | None = UNSET
    independent_legal_person: bool | UnsetType | None = UNSET
    certifications: Annotated[list[Certification], msgspec.Meta(max_length=4)] | UnsetType = UNSET
    chain: ChainCode | UnsetType | None = UNSET
    business_scope: LongText | UnsetType = UNSET
    revenue: Yuan | UnsetType | None = UNSET
    profit: SignedYuan | UnsetType | None = UNSET
    rd_spend: Yuan | UnsetType | None = UNSET
    employees: Count | UnsetType | None = UNSET
    rd_staff: Count | UnsetType | None = UNSET
    university_partnership: bool | UnsetType | None = UNSET
    patent_industrialisation_rate: Annotated[float, msgspec.Meta(ge=0, le=1)] | UnsetType | None = UNSET
    patent_intensive_industry: bool | UnsetType | None = UNSET
    patent_product_filed: bool | UnsetType | None = UNSET
    patent_intensive_products: Count | UnsetType | None = UNSET
    has_trademark: bool | UnsetType | None = UNSET
    has_ip_management: bool | UnsetType | None = UNSET
    violation_flags: Annotated[list[ViolationFlag], msgspec.Meta(max_length=6)] | UnsetType = UNSET
    financing_need: Yuan | UnsetType | None = UNSET
    consent_share: bool | UnsetType = UNSET

    def __post_init__(self) -> None:
        for name in ("certifications", "violation_flags"):
            value = getattr(self, name)
            if value is not UNSET and len(set(value)) != len(value):
                raise fail(name, "重复的取值 / duplicate values")
        if isinstance(self.rd_staff, int) and isinstance(self.employees, int) and self.rd_staff > self.employees:
            raise fail("rd_staff", "研发人员数不能超过职工总数 / must not exceed employees")


class EnterpriseCreate(Contact, kw_only=True, forbid_unknown_fields=True):
    name: Name
    credit_code: CreditCodeStr
    province: ProvinceStr
    city: ShortText | None = None
    profile: EnterpriseProfile = msgspec.field(default_factory=EnterpriseProfile)

    def __post_init__(self) -> None:
        set_field(self, "credit_code", check_credit_code("credit_code", self.credit_code))
        set_field(self, "province", check_province("province", self.province))


class Enterprise(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    credit_code: str
    province: str
    province_name: str
    city: str | None
    status: OrgStatus
    version: int
    size_class: SizeClass | None
    independent_legal_person: bool | None
    certifications: list[str]
    chain: str | None
    business_scope: str
    revenue: float | None
    profit: float | None
    rd_spend: float | None
    employees: int | None
    rd_staff: int | None
    university_partnership: bool | None
    patent_industrialisation_rate: float | None
    patent_intensive_industry: bool | None
    patent_product_filed: bool | None
    patent_intensive_products: int | None
    has_trademark: bool | None
    has_ip_management: bool | None
    violation_flags: list[str]
    financing_need: float | None
    consent_share: bool
    updated_at: datetime
    patent_chains: list[str] = []
    """Chains its patents are tagged with by IPC prefix (the declared ``chain`` is the enterprise's own)."""


class EnterprisePage(msgspec.Struct, kw_only=True):
    items: list[Enterprise]
    next_cursor: str | None


class EnterpriseVersion(msgspec.Struct, kw_only=True):
    version: int
    profile: dict[str, Any]
    changed_by: uuid.UUID | None
    created_at: datetime


class PatentEventIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    kind: EventKind
    date: date
    detail: Annotated[dict[str, Any], msgspec.Meta(max_length=50)] = {}

    def __post_init__(self) -> None:
        check_not_future("date", self.date)


class PatentEvent(msgspec.Struct, kw_only=True):
    id: int
    kind: str
    date: date
    detail: dict[str, Any]
    created_at: datetime


class PatentCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One patent; its type comes from the number and its expiry from the type and filing date."""

    number: PatentNumberStr
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    abstract: LongText = ""
    owner: CreditCodeStr | None = None
    owner_name: Name | None = None
    filing_date: date
    grant_date: date | None = None
    legal_status: LegalStatus
    fees_paid: bool = True
    claims_total: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 0
    claims_independent: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 0
    claim_types: ClaimTypes = "unknown"
    first_claim: LongText = ""
    ipc_codes: Annotated[list[IpcCode], msgspec.Meta(max_length=100)] = []
    family_offices: Annotated[list[Office], msgspec.Meta(max_length=100)] = []
    forward_citations: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 0
    backward_citations: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 0
    events: Annotated[list[PatentEventIn], msgspec.Meta(max_length=200)] = []

    def __post_init__(self) -> None:
        set_field(self, "number", check_patent_number("number", self.number))
        if self.owner is not None:
            set_field(self, "owner", check_credit_code("owner", self.owner))
        elif self.owner_name is None:
            raise fail("owner", "须提供权利人统一社会信用代码或名称 / give owner or owner_name")
        check_not_future("filing_date", self.filing_date)
        check_not_future("grant_date", self.grant_date)
        if self.grant_date is not None and self.grant_date < self.filing_date:
            raise fail("grant_date", "授权日不能早于申请日 / grant date before filing date")
        if self.legal_status == "granted" and self.grant_date is None:
            raise fail("grant_date", "已授权专利须有授权日 / a granted patent needs its grant date")
        if self.claims_independent > self.claims_total:
            raise fail("claims_independent", "独立权利要求数不能超过权利要求总数 / exceeds claims_total")
        if len(set(self.family_offices)) != len(self.family_offices):
            raise fail("family_offices", "重复的受理局 / duplicate offices")


class Patent(msgspec.Struct, kw_only=True):
    number: str
    patent_type: str
    title: str
    abstract: str
    owner: str | None
    owner_name: str
    filing_date: date
    grant_date: date | None
    expiry_date: date
    legal_status: str
    fees_paid: bool
    claims_total: int
    claims_independent: int
    claim_types: str
    first_claim: str
    ipc_codes: list[str]
    family_offices: list[str]
    forward_citations: int
    backward_citations: int
    chains: list[str]
    events: list[PatentEvent] = []


class PatentPage(msgspec.Struct, kw_only=True):
    items: list[Patent]
    next_cursor: str | None


class RowError(msgspec.Struct, kw_only=True):
    row: int
    """1-based row number in the upload (the CSV header is row 0)."""
    number: str | None
    errors: list[dict[str, str]]


class ImportResult(msgspec.Struct, kw_only=True):
    received: int
    imported: int
    rejected: list[RowError]


class Chain(msgspec.Struct, kw_only=True):
    code: str
    name_zh: str
    name_en: str
    ipc_prefixes: list[str]
    keywords: list[str]
    patent_intensive: bool


class ChainUpsert(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name_zh: Annotated[str, msgspec.Meta(min_length=2, max_length=50)]
    name_en: Annotated[str, msgspec.Meta(min_length=2, max_length=100)]
    ipc_prefixes: Annotated[
        list[Annotated[str, msgspec.Meta(pattern=r"^[A-H][0-9]{2}[A-Z]?[0-9/]*$")]], msgspec.Meta(max_length=100)
    ] = []
    keywords: Annotated[
        list[Annotated[str, msgspec.Meta(min_length=1, max_length=30)]], msgspec.Meta(max_length=100)
    ] = []
    patent_intensive: bool = True


class ProvinceInfo(msgspec.Struct, kw_only=True):
    code: str
    name_zh: str
    name_en: str
