"""HTTP controllers of the valuation domain (thin: validate, call the core and the store, return a Struct)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, cast

from litestar import Controller, MediaType, Request, get, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, FromQuery, QueryParameter
from litestar.response import Response, Template

from ipledge.admission import limiter
from ipledge.auth import Principal, requires
from ipledge.db.types import Pool
from ipledge.deps import Cursor, Limit
from valuation import service
from valuation.cost import CostRequest, CostResult, cost_value
from valuation.income import IncomeRequest, IncomeResult, income_value
from valuation.report_labels import page_context
from valuation.schemas import (
    Assessment,
    AssessmentCreate,
    AssessmentPage,
    ChainCodeV,
    CoefficientSetCreate,
    CoefficientSetInfo,
    CoefficientSetOut,
    Transaction,
    TransactionCreate,
    TransactionImport,
    TransactionPage,
)
from valuation.types import Lang, Version

OPERATOR = requires("operator")
ANYONE = requires("operator", "enterprise", "bank", "fund")
APPLICANT = requires("operator", "enterprise")
READER = requires("operator", "enterprise", "bank")

_INCOME_EXAMPLE = Example(
    summary="Relief from royalty: 1,000 a year for 5 years, K 3%, tax 25%, r 10% → 85.29",
    value={
        "method": "royalty_relief",
        "discount_rate": 0.10,
        "tax_rate": 0.25,
        "years": 5,
        "revenue": 1000,
        "royalty_rate": 0.03,
    },
)
_SPLIT_EXAMPLE = Example(
    summary="Profit split by equivalent investment (约当投资分成法)",
    value={
        "method": "profit_split",
        "discount_rate": 0.12,
        "tax_rate": 0.15,
        "profit": [200000, 220000, 240000],
        "equivalent_investment": {
            "patent_cost": 500000,
            "patent_cost_profit_rate": 0.2,
            "licensee_assets": 4000000,
            "licensee_cost_profit_rate": 0.1,
        },
    },
)
_COST_EXAMPLE = Example(
    summary="R&D 800,000 indexed 1.1, fees 20,000, 4 years old, 8 years of economic life left",
    value={"rd_cost": 800000, "cost_index": 1.1, "fees": 20000, "age_years": 4, "remaining_economic_life_years": 8},
)
_ASSESSMENT_EXAMPLE = Example(
    summary="Two patents offered for a 2,000,000 yuan loan over 2 years",
    value={
        "enterprise": "91440300MA5FUTQ91Q",
        "requested_amount": 2000000,
        "requested_term_years": 2,
        "patents": [
            {"number": "201710601862.3", "maturity": "mass_production", "declared": {"importance": 4}},
            {"number": "202020123456.7"},
        ],
    },
)
_TRANSACTION_EXAMPLE = Example(
    summary="A recorded pledge with its price and the product's yearly revenue",
    value={
        "kind": "pledge",
        "chain": "ic",
        "date": "2024-03-15",
        "price": 3200000,
        "revenue": 45000000,
        "patent_number": "201710601862.3",
    },
)


def _lang(request: Request[Any, Any, Any]) -> Lang:
    """``ipledge.errors.wants_english`` on the raw ASGI headers (building Litestar's Headers costs more)."""
    for name, value in request.scope["headers"]:
        if name == b"accept-language":
            return "en" if value.decode("latin-1").strip().lower().startswith("en") else "zh"
    return "zh"


class MethodController(Controller):
    path = "/api/v1/valuation/methods"
    tags = ["valuation"]
    guards = [ANYONE]

    @post("/income", operation_id="incomeMethod", status_code=200, summary="Income-approach calculator (stateless)")
    async def income(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[IncomeRequest, Body(examples=[_INCOME_EXAMPLE, _SPLIT_EXAMPLE])],
    ) -> IncomeResult:
        """The public contract of VALUATION.md §4; steps in Chinese, English with ``Accept-Language: en``."""
        return service.calculate(income_value, data, _lang(request))

    @post("/cost", operation_id="costMethod", status_code=200, summary="Cost-approach calculator (stateless)")
    async def cost(
        self, request: Request[Any, Any, Any], data: Annotated[CostRequest, Body(examples=[_COST_EXAMPLE])]
    ) -> CostResult:
        return service.calculate(cost_value, data, _lang(request))


class AssessmentController(Controller):
    path = "/api/v1/assessments"
    tags = ["valuation"]

    @post(
        operation_id="createAssessment",
        guards=[APPLICANT],
        summary="Pledge assessment (快评): a new immutable report",
        responses={
            503: ResponseSpec(
                None, description="Too many assessments waiting in this server process: retry after Retry-After"
            )
        },
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        data: Annotated[AssessmentCreate, Body(examples=[_ASSESSMENT_EXAMPLE])],
    ) -> Response[Assessment]:
        async with limiter(request, "assessments"):  # a few at a time per process, first come first served
            created = await service.create_assessment(pool, principal, data, _lang(request))
        # The Assessment's JSON, made from the documents encoded for storage (service.assessment_json).
        return cast("Response[Assessment]", Response(created, status_code=201, media_type=MediaType.JSON))

    @get(operation_id="listAssessments", guards=[READER], summary="An enterprise's assessments, newest first")
    async def index(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        enterprise: Annotated[
            str | None, QueryParameter(pattern=r"^[0-9A-Za-z]{18}$", description="统一社会信用代码")
        ] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> AssessmentPage:
        """Enterprises list their own; banks only enterprises that consented to share (audited)."""
        return await service.list_assessments(pool, principal, enterprise, cursor, limit)

    @get("/{assessment_id:uuid}", operation_id="getAssessment", guards=[READER], summary="One assessment report")
    async def get_one(
        self,
        request: Request[Any, Any, Any],
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        assessment_id: FromPath[uuid.UUID],
    ) -> Assessment:
        return await service.get_assessment(pool, principal, assessment_id, _lang(request))

    @get(
        "/{assessment_id:uuid}/html",
        operation_id="getAssessmentHtml",
        guards=[READER],
        media_type=MediaType.HTML,
        summary="One assessment report as a printable HTML page",
    )
    async def html(
        self,
        request: Request[Any, Any, Any],
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        assessment_id: FromPath[uuid.UUID],
    ) -> Template:
        report = await service.get_assessment(pool, principal, assessment_id, _lang(request))
        return Template(template_name="assessment.html", context=page_context(report))


class CoefficientController(Controller):
    path = "/api/v1/valuation/coefficient-sets"
    tags = ["valuation"]

    @get(operation_id="listCoefficientSets", guards=[ANYONE], summary="Coefficient sets (which one is active)")
    async def index(self, pool: NamedDependency[Pool]) -> list[CoefficientSetInfo]:
        return await service.list_coefficient_sets(pool)

    @get("/{version:str}", operation_id="getCoefficientSet", guards=[ANYONE], summary="One coefficient set")
    async def get_one(self, pool: NamedDependency[Pool], version: FromPath[Version]) -> CoefficientSetOut:
        return await service.get_coefficient_set(pool, version)

    @post(operation_id="createCoefficientSet", guards=[OPERATOR], summary="Create a new coefficient-set version")
    async def create(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        data: Annotated[CoefficientSetCreate, Body()],
    ) -> CoefficientSetOut:
        """The whole document, validated (weights sum to 1, bands ordered …); 422 names the field."""
        return await service.create_coefficient_set(pool, principal, data)

    @post("/{version:str}/activate", operation_id="activateCoefficientSet", guards=[OPERATOR], status_code=200)
    async def activate(
        self, pool: NamedDependency[Pool], principal: NamedDependency[Principal], version: FromPath[Version]
    ) -> CoefficientSetOut:
        """Make this version the one new valuations use (one active at a time; history kept)."""
        return await service.activate_coefficient_set(pool, principal, version)


class TransactionController(Controller):
    path = "/api/v1/valuation/transactions"
    tags = ["valuation"]
    guards = [OPERATOR]

    @post(operation_id="createTransaction", summary="Record a priced transaction (market approach)")
    async def create(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        data: Annotated[TransactionCreate, Body(examples=[_TRANSACTION_EXAMPLE])],
    ) -> Transaction:
        return await service.create_transaction(pool, principal, data)

    @post("/import", operation_id="importTransactions", status_code=200, request_max_body_size=8 * 1024 * 1024)
    async def import_(
        self, request: Request[Any, Any, Any], pool: NamedDependency[Pool], principal: NamedDependency[Principal]
    ) -> TransactionImport:
        """A JSON list of transactions: good rows land, bad rows are listed with the field named."""
        return await service.import_transactions(pool, principal, await request.body())

    @get(operation_id="listTransactions", summary="Recorded transactions")
    async def index(
        self,
        pool: NamedDependency[Pool],
        chain: FromQuery[ChainCodeV | None] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> TransactionPage:
        return await service.list_transactions(pool, chain, cursor, limit)


CONTROLLERS: list[type[Controller]] = [
    MethodController,
    AssessmentController,
    CoefficientController,
    TransactionController,
]
