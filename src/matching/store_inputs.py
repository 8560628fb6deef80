"""Read fit-scoring inputs from the database: enterprise profiles, institution criteria, chain labels.

Valuation grades come through ``valuation.public.enterprise_summaries`` when that module exists;
without it (or without a valuation of an enterprise) the profile has no grade and scoring still
works (the grade gate then follows ``FitPolicy.unknown_grade_passes_minimum``).
"""

from __future__ import annotations

import importlib
import logging
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from ipledge.db.types import Conn
from matching.fit_inputs import EnterpriseProfile, InstitutionCriteria, InstitutionKind
from matching.i18n import Text

log = logging.getLogger("matching")

_ENTERPRISES = """
WITH cur AS (
    SELECT DISTINCT ON (enterprise_id) enterprise_id, state FROM pool_entries
    ORDER BY enterprise_id, created_at DESC, id
)
SELECT o.id, o.province_code, e.chain_code, e.business_scope, e.financing_need::float8 AS financing_need,
       e.consent_share, cur.state AS pool_state,
       (SELECT string_agg(t.title, '；') FROM (SELECT title FROM patents WHERE owner_id = o.id
            ORDER BY number LIMIT 30) t) AS titles,
       (SELECT array_agg(DISTINCT c) FROM patents p, unnest(p.chain_codes) c WHERE p.owner_id = o.id) AS patent_chains,
       (SELECT r.product_sales_growth FROM progress_reports r WHERE r.enterprise_id = o.id
            ORDER BY r.reported_on DESC, r.created_at DESC LIMIT 1) AS growth
FROM enterprises e JOIN organisations o ON o.id = e.organisation_id
LEFT JOIN cur ON cur.enterprise_id = o.id
WHERE ($1::uuid[] IS NULL OR o.id = ANY($1)) AND ($2::text[] IS NULL OR cur.state = ANY($2))
ORDER BY o.id
"""

_INSTITUTIONS = """
SELECT o.id, o.name, o.kind AS org_kind, c.version, c.kind, c.provinces, c.chains,
       c.amount_min::float8 AS amount_min, c.amount_max::float8 AS amount_max, c.min_grade, c.stages, c.thesis,
       c.region_mandate
FROM organisations o
LEFT JOIN LATERAL (SELECT * FROM institution_criteria ic WHERE ic.organisation_id = o.id
                   ORDER BY ic.version DESC LIMIT 1) c ON true
WHERE o.kind IN ('bank', 'fund') AND ($1::uuid[] IS NULL OR o.id = ANY($1))
  AND (NOT $2 OR o.status = 'active') AND (NOT $3 OR c.version IS NOT NULL)
ORDER BY o.id
"""


async def valuation_summaries(conn: Conn, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Any]:
    """Grades and value degrees from valuation, or nothing when that domain has none to offer."""
    try:
        public = importlib.import_module("valuation.public")
    except ModuleNotFoundError:
        return {}
    try:
        summaries: dict[uuid.UUID, Any] = await public.enterprise_summaries(conn, list(ids))
    except (asyncpg.UndefinedTableError, asyncpg.UndefinedColumnError):  # valuation tables not migrated yet
        log.warning("valuation summaries unavailable; scoring without grades")
        return {}
    return summaries


def _profile(row: asyncpg.Record, summary: Any | None) -> EnterpriseProfile:
    chains = frozenset([row["chain_code"]] if row["chain_code"] else row["patent_chains"] or [])
    grade = getattr(summary, "grade", None)
    value = getattr(summary, "value_degree", None)
    text = row["business_scope"] or ""
    if row["titles"]:
        text = f"{text}。专利：{row['titles']}"
    return EnterpriseProfile(
        id=str(row["id"]),
        province=row["province_code"],
        chains=chains,
        consent=row["consent_share"],
        financing_need=row["financing_need"],
        grade=grade if grade in ("A", "B", "C", "D") else None,
        value_degree=float(value) if value is not None else None,
        growth=row["growth"],
        pool_status=row["pool_state"],
        text=text,
    )


async def load_profiles(
    conn: Conn, ids: Sequence[uuid.UUID] | None = None, states: Sequence[str] | None = None
) -> list[EnterpriseProfile]:
    """Profiles of the given enterprises (or of every enterprise whose current pool state is in ``states``)."""
    rows = await conn.fetch(_ENTERPRISES, None if ids is None else list(ids), None if states is None else list(states))
    summaries = await valuation_summaries(conn, [r["id"] for r in rows])
    return [_profile(r, summaries.get(r["id"])) for r in rows]


def _criteria(row: asyncpg.Record) -> InstitutionCriteria:
    if row["version"] is None:  # no registered criteria: open on every side
        kind: InstitutionKind = "bank" if row["org_kind"] == "bank" else "vc_pe"
        return InstitutionCriteria(id=str(row["id"]), name=row["name"], kind=kind)
    return InstitutionCriteria(
        id=str(row["id"]),
        name=row["name"],
        kind=row["kind"],
        provinces=frozenset(row["provinces"]),
        chains=frozenset(row["chains"]),
        amount_min=row["amount_min"],
        amount_max=row["amount_max"],
        min_grade=row["min_grade"],
        stages=frozenset(row["stages"]),
        thesis=row["thesis"],
        region_mandate=frozenset(row["region_mandate"]),
    )


async def load_criteria(
    conn: Conn, ids: Sequence[uuid.UUID] | None = None, *, active_only: bool = True, registered_only: bool = False
) -> tuple[list[InstitutionCriteria], dict[str, int | None]]:
    """Current criteria of banks and funds, and the criteria version each one used (None = open)."""
    rows = await conn.fetch(_INSTITUTIONS, None if ids is None else list(ids), active_only, registered_only)
    return [_criteria(r) for r in rows], {str(r["id"]): r["version"] for r in rows}


async def chain_labels(conn: Conn) -> dict[str, Text]:
    """Display names of the chain codes, both languages."""
    rows = await conn.fetch("SELECT code, name_zh, name_en FROM chains")
    return {r["code"]: Text(r["name_zh"], r["name_en"]) for r in rows}
