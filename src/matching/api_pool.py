"""HTTP controllers of the cultivation pool (thin: validate, call the service, return a Struct)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from ipledge.auth import Principal, requires
from ipledge.db.types import Pool
from ipledge.deps import Cursor, Limit
from matching import schemas as s
from matching import service_pool as svc
from matching import service_pool_views as views
from matching.api_common import BASE_URL, OPERATOR, lang_of, province_param

ENTERPRISE_OR_OPERATOR = requires("operator", "enterprise")
Req = Request[Principal, Any, Any]


class PoolApplicationController(Controller):
    """What an enterprise does: check the criteria, apply, keep its consent, file progress reports."""

    path = "/api/v1/pool"
    tags = ["pool"]
    guards = [ENTERPRISE_OR_OPERATOR]

    @get("/eligibility/{credit_code:str}", operation_id="poolEligibility", summary="The ten entry criteria, now")
    async def eligibility(
        self,
        request: Req,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        credit_code: FromPath[str],
    ) -> s.Eligibility:
        return await svc.eligibility(pool, principal, credit_code, lang_of(request))

    @post("/applications", operation_id="applyToPool", summary="Apply to the pool of the enterprise's province")
    async def apply(
        self,
        request: Req,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        data: JSONBody[s.ApplicationCreate],
    ) -> s.PoolEntry:
        return await svc.apply(pool, principal, data, lang_of(request))

    @get("/entries/{credit_code:str}", operation_id="getPoolEntry", summary="The enterprise's pool entry")
    async def entry(
        self,
        request: Req,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        credit_code: FromPath[str],
    ) -> s.PoolEntry:
        return await svc.get_entry(pool, principal, credit_code, lang_of(request))

    @put("/consent/{credit_code:str}", operation_id="setConsent", summary="Consent to share with banks and funds")
    async def consent(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        credit_code: FromPath[str],
        data: JSONBody[s.ConsentIn],
    ) -> s.Consent:
        return await views.set_consent(pool, principal, credit_code, data)

    @post("/entries/{credit_code:str}/progress-reports", operation_id="addProgressReport", summary="File progress")
    async def add_report(
        self,
        request: Req,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        credit_code: FromPath[str],
        data: JSONBody[s.ProgressReportIn],
    ) -> s.ProgressReport:
        return await views.add_report(pool, principal, credit_code, data, lang_of(request))

    @get("/entries/{credit_code:str}/progress-reports", operation_id="listProgressReports")
    async def reports(
        self,
        request: Req,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        credit_code: FromPath[str],
    ) -> list[s.ProgressReport]:
        return await views.list_reports(pool, principal, credit_code, lang_of(request))


class PoolOperatorController(Controller):
    """What an operator does: review, admit under the quota, reject, graduate, withdraw; lists and quotas."""

    path = "/api/v1/pool"
    tags = ["pool"]
    guards = [OPERATOR]
    dependencies = BASE_URL

    @get("/entries", operation_id="listPoolEntries", summary="Pool entries by province and state")
    async def index(
        self,
        pool: NamedDependency[Pool],
        province: FromQuery[str | None] = None,
        pool_state: Annotated[s.PoolStateName | None, QueryParameter(name="state")] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> s.PoolEntryPage:
        return await views.list_entries(pool, province_param(province), pool_state, cursor, limit)

    @post("/entries/{credit_code:str}/review", operation_id="reviewPoolEntry", status_code=200)
    async def review(
        self,
        request: Req,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        credit_code: FromPath[str],
        data: JSONBody[s.ReviewIn],
    ) -> s.PoolEntry:
        """Take an application under review."""
        return await svc.review(pool, principal, credit_code, data, lang_of(request))

    @post("/entries/{credit_code:str}/admit", operation_id="admitToPool", status_code=200)
    async def admit(
        self,
        request: Req,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        base_url: NamedDependency[str],
        credit_code: FromPath[str],
        data: JSONBody[s.AdmitIn],
    ) -> s.PoolEntry:
        """Admit under the province's quota; failed or unknown criteria need written overrides."""
        return await svc.admit(pool, principal, credit_code, data, base_url, lang_of(request))

    @post("/entries/{credit_code:str}/reject", operation_id="rejectPoolEntry", status_code=200)
    async def reject(
        self,
        request: Req,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        credit_code: FromPath[str],
        data: JSONBody[s.RejectIn],
    ) -> s.PoolEntry:
        return await svc.reject(pool, principal, credit_code, data, lang_of(request))

    @post("/entries/{credit_code:str}/graduate", operation_id="graduateFromPool", status_code=200)
    async def graduate(
        self,
        request: Req,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        base_url: NamedDependency[str],
        credit_code: FromPath[str],
        data: JSONBody[s.GraduateIn],
    ) -> s.PoolEntry:
        """Graduate (出库) an enterprise whose progress reports meet the exit standard."""
        return await svc.graduate(pool, principal, credit_code, data, base_url, lang_of(request))

    @post("/entries/{credit_code:str}/withdraw", operation_id="withdrawFromPool", status_code=200)
    async def withdraw(
        self,
        request: Req,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        base_url: NamedDependency[str],
        credit_code: FromPath[str],
        data: JSONBody[s.WithdrawIn],
    ) -> s.PoolEntry:
        """Withdraw (退库) with a reason code; a violation report withdraws at once."""
        return await svc.withdraw(pool, principal, credit_code, data, base_url, lang_of(request))

    @get("/candidates/graduation", operation_id="graduationCandidates", summary="Candidates for graduation")
    async def graduation_candidates(
        self, request: Req, pool: NamedDependency[Pool], province: FromQuery[str | None] = None
    ) -> list[s.Candidate]:
        return await views.graduation_candidates(pool, province_param(province), lang_of(request))

    @get("/candidates/withdrawal", operation_id="withdrawalCandidates", summary="Two years without progress")
    async def withdrawal_candidates(
        self,
        request: Req,
        pool: NamedDependency[Pool],
        province: FromQuery[str | None] = None,
        today: FromQuery[date | None] = None,
    ) -> list[s.Candidate]:
        return await views.withdrawal_candidates(pool, province_param(province), today, lang_of(request))

    @get("/quotas", operation_id="poolQuotas", summary="Cap, counters and free seats per province")
    async def quotas(self, request: Req, pool: NamedDependency[Pool]) -> list[s.Quota]:
        return await views.quotas(pool, lang_of(request))


CONTROLLERS = [PoolApplicationController, PoolOperatorController]
