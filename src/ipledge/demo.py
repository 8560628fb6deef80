"""Load the demo world into a database once, and hand out one demo key per role."""

from __future__ import annotations

from typing import Any, cast

from ipledge.db.types import Pool
from ipledge.demo_data import DemoOrg, generate
from ipledge.identifiers import patent_type_of
from ipledge.registry import enterprise_store as es
from ipledge.registry import patent_store as ps
from ipledge.registry import schemas as s
from ipledge.registry import store
from ipledge.registry.rules import expiry_date, tag_chains

DEMO_LABEL = "demo"


async def _insert_org(conn: Any, org: DemoOrg) -> Any:
    create = s.OrganisationCreate(
        kind=cast(s.OrgKind, org.kind), name=org.name, credit_code=org.credit_code, province=org.province, city=org.city
    )
    org_id = await store.insert_organisation(conn, create, org.kind)
    if org.active:
        await store.set_status(conn, org_id, "active")
    return org_id


async def load_demo(pool: Pool, seed: int) -> bool:
    """Insert the demo data unless it is there already; True when it was loaded now."""
    catalogue = await store.chain_catalogue(pool)
    data = generate(seed, chain_prefixes=dict(catalogue))
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(7002)")
        if await store.organisation_id_by_credit_code(conn, data.operators[0].credit_code):
            return False
        ids: dict[str, Any] = {}
        for org in [*data.operators, *data.banks, *data.funds]:
            ids[org.credit_code] = await _insert_org(conn, org)
        for ent in data.enterprises:
            org_id = await _insert_org(conn, ent)
            ids[ent.credit_code] = org_id
            await es.insert_profile(conn, org_id)
            await es.write_profile(conn, org_id, ent.profile, bump=False)
            current = await es.get_enterprise(conn, org_id)
            assert current is not None
            await es.record_version(conn, current, None)
        names = {e.credit_code: e.name for e in data.enterprises}
        rows = []
        for p in data.patents:
            ptype = patent_type_of(p.number)
            rows.append(
                (
                    p.number,
                    ptype,
                    p.title,
                    p.abstract,
                    ids[p.owner_code],
                    names[p.owner_code],
                    p.filing_date,
                    p.grant_date,
                    expiry_date(ptype, p.filing_date),
                    p.legal_status,
                    True,
                    p.claims_total,
                    p.claims_independent,
                    p.claim_types,
                    p.first_claim,
                    p.ipc_codes,
                    p.family_offices,
                    p.forward_citations,
                    p.backward_citations,
                    tag_chains(p.ipc_codes, catalogue),
                )
            )
        await ps.write_patents(conn, rows, upsert=False)
        await ps.write_events(conn, [(p.number, kind, day, {}) for p in data.patents for kind, day in p.events])
        await store.audit(
            conn,
            None,
            "demo.loaded",
            "demo",
            str(seed),
            {"enterprises": len(data.enterprises), "patents": len(data.patents)},
        )
    return True


async def demo_keys(pool: Pool) -> list[tuple[str, str, str]]:
    """Revoke earlier demo keys and create one per role: (role, organisation name, key)."""
    out: list[tuple[str, str, str]] = []
    async with pool.acquire() as conn, conn.transaction():
        await store.revoke_keys_labelled(conn, DEMO_LABEL)
        for role in ("operator", "enterprise", "bank", "fund"):
            row = await conn.fetchrow(
                "SELECT o.id, o.name FROM organisations o LEFT JOIN enterprises e ON e.organisation_id = o.id"
                " WHERE o.kind = $1 AND o.status = 'active'"
                " ORDER BY (e.consent_share IS NOT TRUE), o.created_at, o.name LIMIT 1",
                role,
            )
            if row is not None:
                key = await store.create_key(conn, row["id"], role, DEMO_LABEL)
                out.append((role, row["name"], key.key))
    return out


async def load_all_demos(pool: Pool, seed: int, *, base_url: str) -> list[str]:
    """The registry demo, then each domain's own demo on top of it; each step is idempotent.

    Returns the names of the steps that loaded something now.
    """
    from matching.demo import load_matching_demo
    from roadshow.demo import load_roadshow_demo

    loaded = ["registry"] if await load_demo(pool, seed) else []
    if await load_matching_demo(pool, base_url=base_url, seed=seed):
        loaded.append("matching")
    if await load_roadshow_demo(pool):
        loaded.append("roadshow")
    return loaded
