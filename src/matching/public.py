"""What other domains may ask matching: fit scores, pool members and pool states.

Roadshow pairs investors with enterprises by :func:`fit_scores`; roadshow and valuation ask who is
in the pool with :func:`pool_members` and :func:`pool_status`; valuation's risk flags read the SQL function
``matching_pool_withdrawal`` with its applicant's row and judge it with :func:`withdrawal_flags`. These are the
only entry points other domains use; everything else in ``matching`` is internal.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import msgspec

from ipledge.db.types import Conn
from ipledge.regions import province_code
from matching.fit_policy import DEFAULT_FIT_POLICY
from matching.fit_run import pair_scores, score_all
from matching.i18n import Lang
from matching.store_inputs import chain_labels, load_criteria, load_profiles

POOL_STATES = ("applied", "under_review", "admitted", "graduated", "withdrawn", "rejected")


def withdrawal_flags(reason_code: str | None) -> tuple[bool, bool]:
    """(withdrawn from the pool, withdrawn for a violation report).

    ``reason_code`` is what the SQL function ``matching_pool_withdrawal(enterprise)`` returned (migration 0012):
    the latest pool entry's reason code when that entry was withdrawn, else None.
    """
    from matching.progress import IMMEDIATE_WITHDRAWAL_REASONS

    if reason_code is None:
        return False, False
    return True, reason_code in IMMEDIATE_WITHDRAWAL_REASONS


class FitScore(msgspec.Struct, frozen=True):
    """How well one enterprise fits one institution: 0-100 and the top reasons."""

    score: float
    reasons: list[str]


async def fit_scores(
    conn: Conn,
    enterprise_ids: Sequence[uuid.UUID],
    institution_ids: Sequence[uuid.UUID],
    *,
    lang: str = "zh",
) -> dict[tuple[uuid.UUID, uuid.UUID], FitScore]:
    """Fit of every (enterprise, institution) pair; pairs failing a hard gate are absent.

    Institutions without registered criteria are scored with open criteria. Unknown ids are
    ignored. The text model is fitted on these enterprises' texts and these institutions' theses.

    Args:
        conn: A connection or pool.
        enterprise_ids: Enterprises (organisation ids).
        institution_ids: Banks and funds (organisation ids), approved or not.
        lang: ``"zh"`` or ``"en"`` for the reasons.

    Returns:
        ``{(enterprise_id, institution_id): FitScore}``.
    """
    if not enterprise_ids or not institution_ids:
        return {}
    language: Lang = "en" if lang == "en" else "zh"
    profiles = await load_profiles(conn, ids=list(dict.fromkeys(enterprise_ids)))
    criteria, _ = await load_criteria(conn, list(dict.fromkeys(institution_ids)), active_only=False)
    run = score_all(profiles, criteria, DEFAULT_FIT_POLICY)
    pairs = pair_scores(run, language, await chain_labels(conn))
    return {
        (uuid.UUID(e), uuid.UUID(i)): FitScore(score=score, reasons=reasons)
        for (e, i), (score, reasons) in pairs.items()
    }


async def pool_members(
    conn: Conn, *, chain: str | None = None, province: str | None = None, status: str = "admitted"
) -> list[uuid.UUID]:
    """Enterprises whose current pool state is ``status``, optionally of one chain and province.

    Args:
        conn: A connection or pool.
        chain: A chain code ("ic"); None for all chains.
        province: GB/T 2260 code or name ("44" / "广东"); None for all provinces.
        status: A pool state.

    Returns:
        Organisation ids ordered by admission (then id).

    Raises:
        ValueError: If ``province`` or ``status`` is unknown.
    """
    if status not in POOL_STATES:
        raise ValueError(f"unknown pool state {status!r}")
    code = None if province is None else province_code(province)
    if province is not None and code is None:
        raise ValueError(f"unknown province {province!r}")
    rows = await conn.fetch(
        "SELECT p.enterprise_id FROM pool_entries p JOIN enterprises e ON e.organisation_id = p.enterprise_id"
        " WHERE p.state = $1 AND ($2::text IS NULL OR e.chain_code = $2) AND ($3::text IS NULL OR p.province_code = $3)"
        " AND NOT EXISTS (SELECT 1 FROM pool_entries q WHERE q.enterprise_id = p.enterprise_id"
        "                 AND q.created_at > p.created_at)"
        " ORDER BY p.admitted_at NULLS LAST, p.enterprise_id",
        status,
        chain,
        code,
    )
    return [r["enterprise_id"] for r in rows]


async def pool_status(conn: Conn, enterprise_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Current pool state of each enterprise; enterprises that never applied are absent."""
    rows = await conn.fetch(
        "SELECT DISTINCT ON (enterprise_id) enterprise_id, state FROM pool_entries WHERE enterprise_id = ANY($1)"
        " ORDER BY enterprise_id, created_at DESC, id",
        list(enterprise_ids),
    )
    return {r["enterprise_id"]: r["state"] for r in rows}
