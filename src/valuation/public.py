"""What other domains may ask of valuation: one public module, no reaching into its tables.

Matching (fit gates on a minimum grade) and roadshows (readiness ranking) need a per-enterprise
summary. An enterprise's value degree is the mean of its three best patents' value degrees, taken
from its latest pledge assessment when it has one (the patents it chose to offer), otherwise from
the latest completed batch run; the grade follows the active coefficient set's thresholds.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import msgspec
import numpy as np

from ipledge.db.types import Conn
from valuation.codes import GRADES, Grade
from valuation.degree import grade_codes
from valuation.store import active_coefficients

TOP_PATENTS = 3

_FROM_ASSESSMENTS = """
WITH latest AS (
    SELECT DISTINCT ON (enterprise_id) enterprise_id, patent_degrees, report_zh, report, collateral_value
    FROM assessments WHERE enterprise_id = ANY($1) ORDER BY enterprise_id, created_at DESC, id DESC
), scored AS (
    SELECT l.enterprise_id, d.v, row_number() OVER (PARTITION BY l.enterprise_id ORDER BY d.v DESC) AS k
    FROM latest l, LATERAL (
        -- the offered patents' value degrees: a column since migration 0015, read from the report before
        SELECT unnest(l.patent_degrees)
        UNION ALL
        SELECT (p ->> 'V')::float8
        FROM json_array_elements(coalesce(l.report_zh, (l.report -> 'zh')::json) -> 'patents') p
    ) AS d(v)
)
SELECT l.enterprise_id, l.collateral_value::float8 AS collateral, avg(s.v) AS v
FROM latest l JOIN scored s ON s.enterprise_id = l.enterprise_id AND s.k <= $2
GROUP BY l.enterprise_id, l.collateral_value
"""

_FROM_BATCH = """
WITH latest AS (
    SELECT DISTINCT ON (v.number) p.owner_id, v.value_degree::float8 AS v
    FROM patent_valuations v
    JOIN valuation_runs r ON r.id = v.run_id AND r.status = 'completed'
    JOIN patents p ON p.number = v.number
    WHERE p.owner_id = ANY($1)
    ORDER BY v.number, v.run_id DESC
), ranked AS (
    SELECT owner_id, v, row_number() OVER (PARTITION BY owner_id ORDER BY v DESC) AS k FROM latest
)
SELECT owner_id AS enterprise_id, avg(v) AS v FROM ranked WHERE k <= $2 GROUP BY owner_id
"""


class EnterpriseSummary(msgspec.Struct, frozen=True):
    """An enterprise's valuation at a glance."""

    grade: Grade
    value_degree: float
    collateral_value: float | None


async def enterprise_summaries(conn: Conn, enterprise_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, EnterpriseSummary]:
    """Summaries for the enterprises that have been valued; the others are absent."""
    ids = list(enterprise_ids)
    if not ids:
        return {}
    assessed = {r["enterprise_id"]: r for r in await conn.fetch(_FROM_ASSESSMENTS, ids, TOP_PATENTS)}
    batch = [r for r in await conn.fetch(_FROM_BATCH, ids, TOP_PATENTS) if r["enterprise_id"] not in assessed]
    rows = [(r["enterprise_id"], float(r["v"]), r["collateral"]) for r in assessed.values()]
    rows += [(r["enterprise_id"], float(r["v"]), None) for r in batch]
    if not rows:
        return {}
    grades = grade_codes(np.array([v for _, v, _ in rows]), await active_coefficients(conn))
    return {
        eid: EnterpriseSummary(grade=GRADES[int(g)], value_degree=round(v, 2), collateral_value=c)
        for (eid, v, c), g in zip(rows, grades, strict=True)
    }
