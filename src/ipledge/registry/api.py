"""HTTP controllers of the registry: thin handlers delegating to ``service``."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Annotated, Any, Literal

from litestar import Controller, Request, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from ipledge.auth import Principal, requires
from ipledge.db.types import Pool
from ipledge.deps import Cursor, Limit
from ipledge.errors import Conflict, InvalidInput
from ipledge.regions import province_code
from ipledge.registry import enterprise_store as es
from ipledge.registry import patent_store as ps
from ipledge.registry import schemas as s
from ipledge.registry import service, store
from ipledge.registry.importing import decode_csv_rows, decode_json_rows, validate_rows
from ipledge.registry.pagination import decode_cursor, encode_cursor
from ipledge.vocab import ChainCode

CHAIN_CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")

OPERATOR = requires("operator")
ANYONE = requires("operator", "enterprise", "bank", "fund")
ANYONE_PENDING_OK = requires("operator", "enterprise", "bank", "fund", allow_pending=True)


def _province(value: str | None) -> str | None:
    if value is None:
        return None
    code = province_code(value)
    if code is None:
        raise InvalidInput("province", f"未知省份 {value!r} / unknown province")
    return code


async def _review(
    request: Request[Principal, Any, Any], pool: Pool, principal: Principal, org_id: uuid.UUID, action: str, reason: str
) -> s.Organisation:
    changed = await service.change_status(pool, principal, org_id, action, reason)
    request.app.state.key_cache.clear()  # the new status applies to the organisation's keys at once
    return changed


class MeController(Controller):
    path = "/api/v1/me"
    tags = ["organisations"]

    @get(operation_id="getMe", guards=[ANYONE_PENDING_OK], summary="The caller's organisation and role")
    async def me(self, pool: NamedDependency[Pool], principal: NamedDependency[Principal]) -> s.Organisation:
        return await service.get_organisation(pool, principal, principal.organisation_id)


class OrganisationController(Controller):
    path = "/api/v1/organisations"
    tags = ["organisations"]

    @post(operation_id="createOrganisation", guards=[OPERATOR], summary="Register an organisation")
    async def create(
        self, pool: NamedDependency[Pool], principal: NamedDependency[Principal], data: JSONBody[s.OrganisationCreate]
    ) -> s.Organisation:
        return await service.create_organisation(pool, principal, data)

    @get(operation_id="listOrganisations", guards=[OPERATOR], summary="List organisations")
    async def index(
        self,
        pool: NamedDependency[Pool],
        kind: FromQuery[s.OrgKind | None] = None,
        province: FromQuery[str | None] = None,
        status: FromQuery[s.OrgStatus | None] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> s.OrganisationPage:
        after = decode_cursor(cursor, "tu")
        rows = await store.list_organisations(
            pool, kind=kind, province=_province(province), status=status, after=after, limit=limit
        )
        more = len(rows) > limit
        rows = rows[:limit]
        nxt = encode_cursor([rows[-1].created_at.isoformat(), str(rows[-1].id)]) if more else None
        return s.OrganisationPage(items=rows, next_cursor=nxt)

    @get("/{org_id:uuid}", operation_id="getOrganisation", guards=[ANYONE], summary="One organisation")
    async def get_one(
        self, pool: NamedDependency[Pool], principal: NamedDependency[Principal], org_id: FromPath[uuid.UUID]
    ) -> s.Organisation:
        return await service.get_organisation(pool, principal, org_id)

    @patch("/{org_id:uuid}", operation_id="updateOrganisation", guards=[ANYONE], summary="Update name or contact")
    async def update(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        org_id: FromPath[uuid.UUID],
        data: JSONBody[s.OrganisationUpdate],
    ) -> s.Organisation:
        return await service.update_organisation(pool, principal, org_id, data)

    @post("/{org_id:uuid}/approve", operation_id="approveOrganisation", guards=[OPERATOR], status_code=200)
    async def approve(
        self,
        request: Request[Principal, Any, Any],
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        org_id: FromPath[uuid.UUID],
        data: JSONBody[s.StatusChange],
    ) -> s.Organisation:
        """Approve a bank or fund (or reinstate a suspended organisation)."""
        return await _review(request, pool, principal, org_id, "approve", data.reason)

    @post("/{org_id:uuid}/reject", operation_id="rejectOrganisation", guards=[OPERATOR], status_code=200)
    async def reject(
        self,
        request: Request[Principal, Any, Any],
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        org_id: FromPath[uuid.UUID],
        data: JSONBody[s.StatusChange],
    ) -> s.Organisation:
        return await _review(request, pool, principal, org_id, "reject", data.reason)

    @post("/{org_id:uuid}/suspend", operation_id="suspendOrganisation", guards=[OPERATOR], status_code=200)
    async def suspend(
        self,
        request: Request[Principal, Any, Any],
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        org_id: FromPath[uuid.UUID],
        data: JSONBody[s.StatusChange],
    ) -> s.Organisation:
        return await _review(request, pool, principal, org_id, "suspend", data.reason)

    @post("/{org_id:uuid}/keys", operation_id="createKey", guards=[ANYONE], summary="Create an API key (shown once)")
    async def create_key(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        org_id: FromPath[uuid.UUID],
        data: JSONBody[s.KeyCreate],
    ) -> s.KeyCreated:
        return await service.create_key(pool, principal, org_id, data.label)

    @get("/{org_id:uuid}/keys", operation_id="listKeys", guards=[ANYONE], summary="List API keys (no secrets)")
    async def list_keys(
        self, pool: NamedDependency[Pool], principal: NamedDependency[Principal], org_id: FromPath[uuid.UUID]
    ) -> list[s.KeyInfo]:
        return await service.list_keys(pool, principal, org_id)


class KeyController(Controller):
    path = "/api/v1/keys"
    tags = ["organisations"]

    @delete("/{key_id:uuid}", operation_id="revokeKey", guards=[ANYONE], status_code=200)
    async def revoke(
        self,
        request: Request[Principal, Any, Any],
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        key_id: FromPath[uuid.UUID],
    ) -> s.KeyInfo:
        """Revoke a key; it stops working at once in this process and within the key cache TTL elsewhere."""
        revoked = await service.revoke_key(pool, principal, key_id)
        request.app.state.key_cache.clear()
        return revoked


class EnterpriseController(Controller):
    path = "/api/v1/enterprises"
    tags = ["enterprises"]

    @post(operation_id="createEnterprise", guards=[OPERATOR], summary="Register an enterprise with its profile")
    async def create(
        self, pool: NamedDependency[Pool], principal: NamedDependency[Principal], data: JSONBody[s.EnterpriseCreate]
    ) -> s.Enterprise:
        return await service.create_enterprise(pool, principal, data)

    @get(operation_id="listEnterprises", guards=[requires("operator", "bank", "fund")], summary="List enterprises")
    async def index(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        province: FromQuery[str | None] = None,
        chain: FromQuery[ChainCode | None] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> s.EnterprisePage:
        """Operators see every enterprise; banks and funds only those that consented to share."""
        after = decode_cursor(cursor, "s")
        rows = await es.list_enterprises(
            pool,
            province=_province(province),
            chain=chain,
            consented_only=not principal.is_operator,
            after=after[0] if after else None,
            limit=limit,
        )
        more = len(rows) > limit
        rows = rows[:limit]
        return s.EnterprisePage(items=rows, next_cursor=encode_cursor([rows[-1].credit_code]) if more else None)

    @get("/{credit_code:str}", operation_id="getEnterprise", guards=[ANYONE], summary="One enterprise")
    async def get_one(
        self, pool: NamedDependency[Pool], principal: NamedDependency[Principal], credit_code: FromPath[str]
    ) -> s.Enterprise:
        return await service.get_enterprise(pool, principal, credit_code)

    @patch("/{credit_code:str}", operation_id="updateEnterprise", guards=[requires("operator", "enterprise")])
    async def update(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        credit_code: FromPath[str],
        data: JSONBody[s.EnterpriseProfile],
    ) -> s.Enterprise:
        """Change profile fields (unset fields stay); every change is a new version."""
        return await service.update_profile(pool, principal, credit_code, data)

    @get("/{credit_code:str}/history", operation_id="enterpriseHistory", guards=[requires("operator", "enterprise")])
    async def history(
        self, pool: NamedDependency[Pool], principal: NamedDependency[Principal], credit_code: FromPath[str]
    ) -> list[s.EnterpriseVersion]:
        return await service.enterprise_history(pool, principal, credit_code)


PatentTypeQ = Annotated[
    Literal["invention", "utility_model", "design", "pct_invention", "pct_utility_model"] | None, QueryParameter()
]


class PatentController(Controller):
    path = "/api/v1/patents"
    tags = ["patents"]

    @post(operation_id="createPatent", guards=[requires("operator", "enterprise")], summary="Register one patent")
    async def create(
        self, pool: NamedDependency[Pool], principal: NamedDependency[Principal], data: JSONBody[s.PatentCreate]
    ) -> s.Patent:
        result = await service.import_patents(pool, principal, [(1, data)], [], upsert=False)
        if result.rejected:
            err = result.rejected[0].errors[0]
            if err["field"] == "number":
                raise Conflict(err["message"])
            raise InvalidInput(err["field"], err["message"])
        return await service.get_patent(pool, principal, data.number)

    @post(
        "/import",
        operation_id="importPatents",
        guards=[requires("operator", "enterprise")],
        status_code=200,
        request_max_body_size=32 * 1024 * 1024,
    )
    async def import_(
        self,
        request: Request[Principal, Any, Any],
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        mode: FromQuery[Literal["insert", "upsert"]] = "insert",
    ) -> s.ImportResult:
        """Bulk import from JSON (a list) or CSV (``Content-Type: text/csv``): good rows land, bad rows are listed."""
        body = await request.body()
        content_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
        raw = decode_csv_rows(body) if content_type in ("text/csv", "application/csv") else decode_json_rows(body)
        good, bad = validate_rows(raw)
        return await service.import_patents(pool, principal, good, bad, upsert=mode == "upsert")

    @get(operation_id="listPatents", guards=[ANYONE], summary="List patents with filters")
    async def index(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        owner: FromQuery[str | None] = None,
        patent_type: PatentTypeQ = None,
        legal_status: FromQuery[s.LegalStatus | None] = None,
        chain: FromQuery[ChainCode | None] = None,
        ipc: FromQuery[str | None] = None,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        filed_from: FromQuery[date | None] = None,
        filed_to: FromQuery[date | None] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> s.PatentPage:
        owner_id = await service.listing_owner(pool, principal, owner) if owner else None
        owner_id, consented = service.patent_scope(principal, owner_id)
        after = decode_cursor(cursor, "s")
        flt = ps.PatentFilter(
            owner_id=owner_id,
            consented_only=consented,
            patent_type=patent_type,
            legal_status=legal_status,
            chain=chain,
            ipc=ipc,
            q=q,
            filed_from=filed_from,
            filed_to=filed_to,
        )
        rows = await ps.list_patents(pool, flt, after[0] if after else None, limit)
        more = len(rows) > limit
        rows = rows[:limit]
        return s.PatentPage(items=rows, next_cursor=encode_cursor([rows[-1].number]) if more else None)

    @get("/{number:str}", operation_id="getPatent", guards=[ANYONE], summary="One patent with its legal events")
    async def get_one(
        self, pool: NamedDependency[Pool], principal: NamedDependency[Principal], number: FromPath[str]
    ) -> s.Patent:
        return await service.get_patent(pool, principal, number.upper())

    @post("/{number:str}/events", operation_id="addPatentEvent", guards=[requires("operator", "enterprise")])
    async def add_event(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        number: FromPath[str],
        data: JSONBody[s.PatentEventIn],
    ) -> s.Patent:
        """Record a legal event (pledge, licence, transfer, invalidation, litigation …)."""
        return await service.add_event(pool, principal, number.upper(), data)


class CatalogueController(Controller):
    path = "/api/v1"
    tags = ["catalogue"]

    @get("/chains", operation_id="listChains", guards=[ANYONE], summary="The industrial chain catalogue")
    async def chains(self, pool: NamedDependency[Pool]) -> list[s.Chain]:
        return await store.list_chains(pool)

    @put("/chains/{code:str}", operation_id="upsertChain", guards=[OPERATOR], summary="Create or edit a chain")
    async def upsert_chain(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        code: FromPath[ChainCode],
        data: JSONBody[s.ChainUpsert],
    ) -> s.Chain:
        if not CHAIN_CODE.match(code):
            raise InvalidInput("code", "产业链代码须为小写字母开头的2-32位字母数字或下划线 / invalid chain code")
        async with pool.acquire() as conn, conn.transaction():
            await store.upsert_chain(conn, code, data)
            await store.audit(conn, principal, "chain.upserted", "chain", code)
        return next(c for c in await store.list_chains(pool) if c.code == code)

    @get("/provinces", operation_id="listProvinces", guards=[ANYONE], summary="The 31 provinces")
    async def provinces(self, pool: NamedDependency[Pool]) -> list[s.ProvinceInfo]:
        return await store.list_provinces(pool)


CONTROLLERS = [
    MeController,
    OrganisationController,
    KeyController,
    EnterpriseController,
    PatentController,
    CatalogueController,
]
