"""Registry use cases: access rules, transactions and audit around the store."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from msgspec import UNSET

from ipledge.auth import Principal, Role
from ipledge.context import request_id_var
from ipledge.db.types import Conn, Pool
from ipledge.errors import Conflict, Forbidden, InvalidInput, NotFound
from ipledge.identifiers import patent_type_of
from ipledge.registry import enterprise_store as es
from ipledge.registry import patent_store as ps
from ipledge.registry import schemas as s
from ipledge.registry import store
from ipledge.registry.importing import row_error
from ipledge.registry.rules import expiry_date, tag_chains


async def _audit(conn: Conn, actor: Principal | None, action: str, subject: str, sid: str, **detail: Any) -> None:
    await store.audit(conn, actor, action, subject, sid, detail, request_id_var.get())


# --- organisations and keys ------------------------------------------------------------------------


async def create_organisation(pool: Pool, actor: Principal | None, data: s.OrganisationCreate) -> s.Organisation:
    async with pool.acquire() as conn, conn.transaction():
        if await store.organisation_id_by_credit_code(conn, data.credit_code):
            raise Conflict(f"统一社会信用代码 {data.credit_code} 已登记 / credit code already registered")
        org_id = await store.insert_organisation(conn, data, data.kind)
        if data.kind == "enterprise":
            await es.insert_profile(conn, org_id)
            enterprise = await es.get_enterprise(conn, org_id)
            assert enterprise is not None
            await es.record_version(conn, enterprise, actor.key_id if actor else None)
        await _audit(conn, actor, "organisation.created", "organisation", str(org_id), kind=data.kind)
        org = await store.get_organisation(conn, org_id)
    assert org is not None
    return org


def can_manage(actor: Principal, org_id: uuid.UUID) -> bool:
    return actor.is_operator or actor.organisation_id == org_id


async def get_organisation(pool: Pool, actor: Principal, org_id: uuid.UUID) -> s.Organisation:
    org = await store.get_organisation(pool, org_id) if can_manage(actor, org_id) else None
    if org is None:
        raise NotFound("机构不存在 / organisation not found")
    return org


async def update_organisation(
    pool: Pool, actor: Principal, org_id: uuid.UUID, data: s.OrganisationUpdate
) -> s.Organisation:
    await get_organisation(pool, actor, org_id)
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}
    async with pool.acquire() as conn, conn.transaction():
        await store.update_organisation(conn, org_id, changes)
        await _audit(conn, actor, "organisation.updated", "organisation", str(org_id), fields=sorted(changes))
    return await get_organisation(pool, actor, org_id)


_TRANSITIONS = {
    "approve": ("active", {"pending", "suspended"}),
    "reject": ("rejected", {"pending"}),
    "suspend": ("suspended", {"active"}),
}


async def change_status(pool: Pool, actor: Principal, org_id: uuid.UUID, action: str, reason: str) -> s.Organisation:
    """Operator review of an organisation: approve, reject or suspend, with the reason audited."""
    target, allowed_from = _TRANSITIONS[action]
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow("SELECT status, kind FROM organisations WHERE id = $1 FOR UPDATE", org_id)
        if row is None:
            raise NotFound("机构不存在 / organisation not found")
        if row["kind"] == "operator":
            raise Forbidden("运营方机构不能被审核 / operator organisations are not reviewed")
        if row["status"] not in allowed_from:
            raise Conflict(f"当前状态 {row['status']} 不能执行 {action} / cannot {action} from {row['status']}")
        await store.set_status(conn, org_id, target)
        await _audit(conn, actor, f"organisation.{action}", "organisation", str(org_id), reason=reason)
    return await get_organisation(pool, actor, org_id)


async def create_key(pool: Pool, actor: Principal | None, org_id: uuid.UUID, label: str) -> s.KeyCreated:
    if actor is not None and not can_manage(actor, org_id):
        raise NotFound("机构不存在 / organisation not found")
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow("SELECT kind FROM organisations WHERE id = $1", org_id)
        if row is None:
            raise NotFound("机构不存在 / organisation not found")
        role: Role = row["kind"]
        created = await store.create_key(conn, org_id, role, label)
        await _audit(conn, actor, "key.created", "api_key", str(created.id), organisation=str(org_id))
    return created


async def list_keys(pool: Pool, actor: Principal, org_id: uuid.UUID) -> list[s.KeyInfo]:
    await get_organisation(pool, actor, org_id)
    return await store.list_keys(pool, org_id)


async def revoke_key(pool: Pool, actor: Principal | None, key_id: uuid.UUID) -> s.KeyInfo:
    key = await store.get_key(pool, key_id)
    if key is None or (actor is not None and not can_manage(actor, key.organisation_id)):
        raise NotFound("密钥不存在 / key not found")
    async with pool.acquire() as conn, conn.transaction():
        await store.revoke_key(conn, key_id)
        await _audit(conn, actor, "key.revoked", "api_key", str(key_id))
    revoked = await store.get_key(pool, key_id)
    assert revoked is not None
    return revoked


# --- enterprises -----------------------------------------------------------------------------------


async def enterprise_id(pool: Conn, credit_code: str) -> uuid.UUID:
    org_id = await store.organisation_id_by_credit_code(pool, credit_code.upper())
    if org_id is None:
        raise NotFound("企业不存在 / enterprise not found")
    return org_id


async def create_enterprise(pool: Pool, actor: Principal, data: s.EnterpriseCreate) -> s.Enterprise:
    """Register an enterprise and its first profile in one transaction."""
    org = s.OrganisationCreate(
        kind="enterprise",
        name=data.name,
        credit_code=data.credit_code,
        province=data.province,
        city=data.city,
        contact_name=data.contact_name,
        contact_phone=data.contact_phone,
        contact_email=data.contact_email,
    )
    async with pool.acquire() as conn, conn.transaction():
        if await store.organisation_id_by_credit_code(conn, data.credit_code):
            raise Conflict(f"统一社会信用代码 {data.credit_code} 已登记 / credit code already registered")
        org_id = await store.insert_organisation(conn, org, "enterprise")
        await es.insert_profile(conn, org_id)
        created = await _apply_profile(conn, actor, org_id, data.profile, "profile.", creating=True)
    return created


#: What a bank or fund is told about an enterprise it may not see, registered or not (no registry oracle).
NOT_SHARED = "企业不存在或未授权共享 / enterprise not found or not shared"


async def _shared(pool: Pool, credit_code: str) -> s.Enterprise:
    """An enterprise a bank or fund may read: registered and consenting, else the one 404 for both cases."""
    try:
        org_id = await enterprise_id(pool, credit_code)
    except NotFound:
        raise NotFound(NOT_SHARED) from None
    enterprise = await es.get_enterprise(pool, org_id)
    if enterprise is None or not enterprise.consent_share:
        raise NotFound(NOT_SHARED)
    return enterprise


async def get_enterprise(pool: Pool, actor: Principal, credit_code: str) -> s.Enterprise:
    """Operators see all; an enterprise itself; banks and funds only enterprises that consented (audited)."""
    if actor.role in ("bank", "fund"):
        shared = await _shared(pool, credit_code)
        await _audit(pool, actor, "enterprise.read", "enterprise", str(shared.id))
        return shared
    org_id = await enterprise_id(pool, credit_code)
    enterprise = await es.get_enterprise(pool, org_id)
    if enterprise is None or (actor.role == "enterprise" and actor.organisation_id != org_id):
        raise NotFound("企业不存在 / enterprise not found")
    return enterprise


async def listing_owner(pool: Pool, actor: Principal, credit_code: str) -> uuid.UUID:
    """The enterprise a patent listing is filtered by.

    A bank or fund gets the same 404 for an unknown enterprise and for one that did not consent (an empty page
    for the one and a 404 for the other told them apart).
    """
    if actor.role in ("bank", "fund"):
        return (await _shared(pool, credit_code)).id
    return await enterprise_id(pool, credit_code)


async def update_profile(pool: Pool, actor: Principal, credit_code: str, profile: s.EnterpriseProfile) -> s.Enterprise:
    """Apply a partial profile update as a new version; the previous versions stay."""
    org_id = await enterprise_id(pool, credit_code)
    if not can_manage(actor, org_id):
        raise NotFound("企业不存在 / enterprise not found")
    async with pool.acquire() as conn, conn.transaction():
        return await _apply_profile(conn, actor, org_id, profile, "", creating=False)


async def _apply_profile(
    conn: Conn, actor: Principal | None, org_id: uuid.UUID, profile: s.EnterpriseProfile, prefix: str, *, creating: bool
) -> s.Enterprise:
    changes = {k: v for k, v in msgspec.structs.asdict(profile).items() if v is not UNSET}
    current = await es.get_enterprise(conn, org_id, for_update=True)
    if current is None:
        raise NotFound("企业不存在 / enterprise not found")
    if changes.get("chain") is not None and not await es.chain_exists(conn, changes["chain"]):
        raise InvalidInput(prefix + "chain", f"未知产业链 {changes['chain']!r} / unknown chain")
    staff = changes.get("rd_staff", current.rd_staff)
    employees = changes.get("employees", current.employees)
    if staff is not None and employees is not None and staff > employees:
        raise InvalidInput(prefix + "rd_staff", "研发人员数不能超过职工总数 / must not exceed employees")
    if changes:
        await es.write_profile(conn, org_id, changes, bump=not creating)
    updated = await es.get_enterprise(conn, org_id)
    assert updated is not None
    if changes or creating:
        await es.record_version(conn, updated, actor.key_id if actor else None)
    action = "enterprise.created" if creating else "enterprise.updated"
    await _audit(conn, actor, action, "enterprise", str(org_id), fields=sorted(changes))
    return updated


async def enterprise_history(pool: Pool, actor: Principal, credit_code: str) -> list[s.EnterpriseVersion]:
    org_id = await enterprise_id(pool, credit_code)
    if not can_manage(actor, org_id):
        raise NotFound("企业不存在 / enterprise not found")
    return await es.list_versions(pool, org_id)


# --- patents ---------------------------------------------------------------------------------------


def _row(
    p: s.PatentCreate, owner_id: uuid.UUID | None, owner_name: str, catalogue: list[tuple[str, list[str]]]
) -> ps.PatentRow:
    ptype = patent_type_of(p.number)
    return (
        p.number,
        ptype,
        p.title,
        p.abstract,
        owner_id,
        owner_name,
        p.filing_date,
        p.grant_date,
        expiry_date(ptype, p.filing_date),
        p.legal_status,
        p.fees_paid,
        p.claims_total,
        p.claims_independent,
        p.claim_types,
        p.first_claim,
        [c.upper() for c in p.ipc_codes],
        p.family_offices,
        p.forward_citations,
        p.backward_citations,
        tag_chains(p.ipc_codes, catalogue),
    )


async def import_patents(
    pool: Pool, actor: Principal, good: list[tuple[int, s.PatentCreate]], rejected: list[s.RowError], *, upsert: bool
) -> s.ImportResult:
    """Write every valid row in one transaction; rows failing ownership or uniqueness are listed, not written."""
    received = len(good) + len(rejected)
    rejected = list(rejected)
    owners = await ps.owners_by_credit_code(pool, sorted({p.owner for _, p in good if p.owner}))
    numbers = [p.number for _, p in good]
    existing = set() if upsert else await ps.existing_numbers(pool, numbers)
    # An enterprise may update its own patents only: a registered number of another owner (or of none) is not its.
    foreign = set()
    if upsert and actor.role == "enterprise":
        foreign = {
            n for n, owner in (await ps.existing_owners(pool, numbers)).items() if owner != actor.organisation_id
        }
    catalogue = await store.chain_catalogue(pool)
    rows: list[ps.PatentRow] = []
    events: list[tuple[str, str, Any, dict[str, Any]]] = []
    for index, p in good:
        owner = owners.get(p.owner) if p.owner else None
        if actor.role == "enterprise" and (owner is None or owner[0] != actor.organisation_id):
            rejected.append(row_error(index, p.number, "owner", "只能导入本企业的专利 / only your own patents"))
        elif p.owner and owner is None:
            rejected.append(row_error(index, p.number, "owner", f"权利人 {p.owner} 未登记 / owner not registered"))
        elif p.number in existing:
            rejected.append(row_error(index, p.number, "number", "该申请号已存在 / patent already exists"))
        elif p.number in foreign:
            rejected.append(row_error(index, p.number, "number", "只能更新本企业的专利 / only your own patents"))
        else:
            owner_name = p.owner_name or (owner[1] if owner else "")
            rows.append(_row(p, owner[0] if owner else None, owner_name, catalogue))
            events.extend((p.number, e.kind, e.date, e.detail) for e in p.events)
    if rows:
        async with pool.acquire() as conn, conn.transaction():
            await ps.write_patents(conn, rows, upsert=upsert, own_only=actor.role == "enterprise")
            await ps.write_events(conn, events)
            await _audit(
                conn, actor, "patents.imported", "patent", "batch", count=len(rows), numbers=[r[0] for r in rows[:50]]
            )
    rejected.sort(key=lambda r: r.row)
    return s.ImportResult(received=received, imported=len(rows), rejected=rejected)


async def _visible_patent(pool: Pool, actor: Principal, number: str) -> tuple[s.Patent, uuid.UUID | None]:
    found = await ps.get_patent(pool, number)
    if found is None:
        raise NotFound("专利不存在 / patent not found")
    patent, owner_id = found
    if actor.is_operator or (owner_id is not None and owner_id == actor.organisation_id):
        return patent, owner_id
    if actor.role in ("bank", "fund") and owner_id is not None:
        enterprise = await es.get_enterprise(pool, owner_id)
        if enterprise is not None and enterprise.consent_share:
            await _audit(pool, actor, "patent.read", "patent", number)
            return patent, owner_id
    raise NotFound("专利不存在 / patent not found")


async def get_patent(pool: Pool, actor: Principal, number: str) -> s.Patent:
    return (await _visible_patent(pool, actor, number))[0]


async def add_event(pool: Pool, actor: Principal, number: str, event: s.PatentEventIn) -> s.Patent:
    _, owner_id = await _visible_patent(pool, actor, number)
    if not (actor.is_operator or owner_id == actor.organisation_id):
        raise Forbidden("只有运营方或权利人可以登记法律事件 / only operators or the owner")
    async with pool.acquire() as conn, conn.transaction():
        await ps.write_events(conn, [(number, event.kind, event.date, event.detail)])
        await _audit(conn, actor, "patent.event_added", "patent", number, kind=event.kind)
    return await get_patent(pool, actor, number)


def patent_scope(actor: Principal, owner_id: uuid.UUID | None) -> tuple[uuid.UUID | None, bool]:
    """(owner filter, consented-only) for a listing by this actor."""
    if actor.role == "enterprise":
        if owner_id is not None and owner_id != actor.organisation_id:
            raise NotFound("企业不存在 / enterprise not found")
        return actor.organisation_id, False
    return owner_id, actor.role in ("bank", "fund")
