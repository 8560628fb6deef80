"""Patent facts from the registry: one SQL query, read as fixed-width binary COPY rows.

The batch command and a single assessment read their patents through the same query text and the
same decoder (:func:`rows_to_batch`), so a patent valued alone gets exactly the numbers it gets in
the batch. Every column is fixed-width and never NULL (unknown numbers are ``NaN``, unknown codes
0), which lets :mod:`valuation.copybin` decode a chunk with one ``np.frombuffer``.

What the registry says and how it becomes a fact of :class:`valuation.batch.PatentBatch`:

- type: invention and PCT invention 1, utility model (and PCT) 2, design 3;
- legal status: granted with term left 1, pending 2, lapsed/expired (or granted past expiry) 3,
  invalidated/withdrawn/rejected 4; term left = expiry - as-of for granted and pending, else 0;
- events up to the valuation date: invalidation history, licences/transfers, pledge releases or
  insurance, litigation, and the gate facts (pledged without release, invalidation request
  without a decision, ownership dispute);
- the enterprise: chain (else the patent's first tagged chain), 高新技术企业 (``hnte``), and its
  revenue x patent industrialisation rate as the sales of one product shared by its granted
  patents (the core splits the royalty in proportion to their value degrees);
- related patents: the owner's other patents in the same IPC subclass (first code).
"""

import datetime as dt
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from valuation.batch import PatentBatch, empty_batch
from valuation.codes import CHAIN_CODES
from valuation.cohorts import cohort_key, histogram_percentiles
from valuation.copybin import Field

NIL_OWNER = "00000000-0000-0000-0000-000000000000"

# name, NumPy type, width; the order is the SELECT order of FEATURES_SQL.
FIELDS: tuple[Field, ...] = (
    ("number", "S14", 14),
    ("owner", "V16", 16),
    ("patent_type", ">i2", 2),
    ("ipc_section", ">i2", 2),
    ("chain", ">i2", 2),
    ("high_tech", "u1", 1),
    ("legal_status", ">i2", 2),
    ("invalidation", ">i2", 2),
    ("claim_types", ">i2", 2),
    ("licensing", ">i2", 2),
    ("financing", ">i2", 2),
    ("litigation", ">i2", 2),
    ("filing_year", ">i2", 2),
    ("age_years", ">f8", 8),
    ("remaining_term_years", ">f8", 8),
    ("family_major", ">f8", 8),
    ("family_other", ">f8", 8),
    ("first_claim_chars", ">f8", 8),
    ("claim_count", ">f8", 8),
    ("independent_claims", ">f8", 8),
    ("backward_citations", ">f8", 8),
    ("forward_citations", ">i4", 4),
    ("ipc_subclasses", ">f8", 8),
    ("ipc_sections", ">f8", 8),
    ("related_patents", ">f8", 8),
    ("sales", ">f8", 8),
    ("chain_median_sales", ">f8", 8),
    ("already_pledged", "u1", 1),
    ("pending_invalidation", "u1", 1),
    ("ownership_dispute", "u1", 1),
    ("fees_paid", "u1", 1),
)

_SELECT = """
SELECT p.number::text,
    coalesce(p.owner_id, '00000000-0000-0000-0000-000000000000'::uuid),
    (CASE WHEN p.patent_type IN ('invention', 'pct_invention') THEN 1 WHEN p.patent_type = 'design' THEN 3
          ELSE 2 END)::int2,
    coalesce(position(left(p.ipc_codes[1], 1) IN 'ABCDEFGH'), 0)::int2,
    coalesce(array_position($2::text[], coalesce(e.chain_code, p.chain_codes[1])) - 1, -1)::int2,
    coalesce('hnte' = ANY (e.certifications), false),
    (CASE WHEN p.legal_status = 'granted' AND p.expiry_date > $1::date THEN 1 WHEN p.legal_status = 'pending' THEN 2
          WHEN p.legal_status IN ('granted', 'lapsed', 'expired') THEN 3 ELSE 4 END)::int2,
    (CASE WHEN ev.inv_req IS NOT NULL AND (ev.inv_dec IS NULL OR ev.inv_dec < ev.inv_req) THEN 4
          WHEN ev.partly THEN 3 WHEN ev.survived THEN 1 ELSE 2 END)::int2,
    (CASE p.claim_types WHEN 'product_and_method' THEN 1 WHEN 'product' THEN 2 WHEN 'method' THEN 3
          WHEN 'design' THEN 4 ELSE 0 END)::int2,
    (CASE WHEN ev.licensed THEN 1 WHEN ev.transferred THEN 2 ELSE 3 END)::int2,
    (CASE WHEN ev.financed THEN 1 ELSE 2 END)::int2,
    (CASE WHEN coalesce(ev.filed > greatest(ev.won, ev.lost), ev.filed IS NOT NULL)
               OR coalesce(ev.lost >= ev.won, ev.lost IS NOT NULL) THEN 3
          WHEN ev.won IS NOT NULL THEN 1 ELSE 2 END)::int2,
    extract(year FROM p.filing_date)::int2,
    (($1::date - p.filing_date) / 365.25)::float8,
    (CASE WHEN p.legal_status IN ('granted', 'pending') THEN greatest(0, (p.expiry_date - $1::date) / 365.25)
          ELSE 0 END)::float8,
    fam.major::float8,
    fam.other::float8,
    (CASE WHEN p.first_claim = '' THEN 'NaN'::float8 ELSE length(p.first_claim)::float8 END),
    (CASE WHEN p.claims_total = 0 THEN 'NaN'::float8 ELSE p.claims_total::float8 END),
    (CASE WHEN p.claims_independent = 0 THEN 'NaN'::float8 ELSE p.claims_independent::float8 END),
    p.backward_citations::float8,
    p.forward_citations::int4,
    (CASE WHEN fam.subclasses = 0 THEN 'NaN'::float8 ELSE fam.subclasses::float8 END),
    (CASE WHEN fam.sections = 0 THEN 'NaN'::float8 ELSE fam.sections::float8 END),
    coalesce((rel.n - 1)::float8, 'NaN'),
    (CASE WHEN p.legal_status = 'granted' AND p.expiry_date > $1::date AND e.revenue IS NOT NULL
          THEN e.revenue * coalesce(e.patent_industrialisation_rate, 1) ELSE 'NaN' END)::float8,
    coalesce(med.m, 'NaN')::float8,
    coalesce(ev.pledged IS NOT NULL AND (ev.released IS NULL OR ev.released < ev.pledged), false),
    coalesce(ev.inv_req IS NOT NULL AND (ev.inv_dec IS NULL OR ev.inv_dec < ev.inv_req), false),
    coalesce(ev.dispute, false),
    p.fees_paid
FROM patents p
LEFT JOIN organisations o ON o.id = p.owner_id
LEFT JOIN enterprises e ON e.organisation_id = p.owner_id
LEFT JOIN ev ON ev.number = p.number
LEFT JOIN rel ON rel.owner_id = p.owner_id AND rel.sub = upper(left(replace(p.ipc_codes[1], ' ', ''), 4))
LEFT JOIN med ON med.chain_code = coalesce(e.chain_code, p.chain_codes[1])
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE f = ANY ('{US,EP,JP,KR}')) AS major,
           count(*) FILTER (WHERE f <> ALL ('{US,EP,JP,KR,CN}')) AS other,
           (SELECT count(DISTINCT upper(left(replace(c, ' ', ''), 4))) FROM unnest(p.ipc_codes) c) AS subclasses,
           (SELECT count(DISTINCT left(c, 1)) FROM unnest(p.ipc_codes) c) AS sections
    FROM unnest(p.family_offices) f
) fam
"""

_EVENTS = """
ev AS (
    SELECT number,
        max(event_date) FILTER (WHERE kind = 'pledge') AS pledged,
        max(event_date) FILTER (WHERE kind = 'pledge_release') AS released,
        max(event_date) FILTER (WHERE kind = 'invalidation_request') AS inv_req,
        max(event_date) FILTER (WHERE kind IN ('invalidation_upheld', 'invalidation_partial',
                                               'invalidation_rejected')) AS inv_dec,
        bool_or(kind IN ('invalidation_partial', 'invalidation_upheld')) AS partly,
        bool_or(kind = 'invalidation_rejected') AS survived,
        bool_or(kind = 'licence') AS licensed,
        bool_or(kind = 'transfer') AS transferred,
        bool_or(kind IN ('pledge_release', 'insurance')) AS financed,
        max(event_date) FILTER (WHERE kind = 'litigation_won') AS won,
        max(event_date) FILTER (WHERE kind = 'litigation_lost') AS lost,
        max(event_date) FILTER (WHERE kind = 'litigation_filed') AS filed,
        bool_or(kind = 'ownership_dispute') AS dispute
    FROM patent_events WHERE event_date <= $1::date AND {event_scope}
    GROUP BY number
)"""

_RELATED = """
rel AS (
    SELECT owner_id, upper(left(replace(ipc_codes[1], ' ', ''), 4)) AS sub, count(*) AS n
    FROM patents WHERE owner_id IS NOT NULL AND cardinality(ipc_codes) > 0 AND {owner_scope}
    GROUP BY 1, 2
)"""

_MEDIAN = """
med AS (
    SELECT chain_code, percentile_cont(0.5) WITHIN GROUP (ORDER BY revenue * coalesce(patent_industrialisation_rate, 1))
        AS m
    FROM enterprises WHERE revenue IS NOT NULL AND chain_code IS NOT NULL GROUP BY chain_code
)"""

# Batch: $3 enterprise chain, $4 province, $5/$6 keyset (owner, number) after which to start.
_BATCH_SCOPE = """(
    ($3::text IS NULL OR e.chain_code = $3 OR (p.owner_id IS NULL AND p.chain_codes @> ARRAY[$3::text]))
    AND ($4::text IS NULL OR o.province_code = $4)
)"""
# An enterprise's patents ($3) and any other offered numbers ($4).
_ENTERPRISE_SCOPE = "(p.owner_id = $3 OR p.number = ANY ($4::text[]))"

OWNER_KEY = "(coalesce(p.owner_id, '00000000-0000-0000-0000-000000000000'::uuid), p.number)"


def features_sql(kind: Literal["batch", "enterprise", "count"]) -> str:
    """The feature query of a batch (ordered by owner then number, after a keyset) or of one enterprise.

    Parameters: ``$1`` valuation date, ``$2`` the chain codes in :data:`CHAIN_CODES` order, then
    ``$3``/``$4`` the scope (batch: enterprise chain, province; enterprise: its id, offered numbers)
    and, for a batch, ``$5``/``$6`` the keyset. ``count`` counts the batch's patents after the keyset.
    """
    if kind == "enterprise":
        ctes = [
            _EVENTS.format(event_scope="number IN (SELECT p.number FROM patents p WHERE " + _ENTERPRISE_SCOPE + ")"),
            _RELATED.format(
                owner_scope="owner_id IN (SELECT p.owner_id FROM patents p WHERE " + _ENTERPRISE_SCOPE + ")"
            ),
            _MEDIAN,
        ]
        return "WITH " + ",".join(ctes) + _SELECT + f"WHERE {_ENTERPRISE_SCOPE} ORDER BY {OWNER_KEY}"
    where = f"WHERE {_BATCH_SCOPE} AND ($5::uuid IS NULL OR {OWNER_KEY} > ($5::uuid, $6::text))"
    if kind == "count":
        return (
            "SELECT count(*) FROM patents p LEFT JOIN organisations o ON o.id = p.owner_id"
            " LEFT JOIN enterprises e ON e.organisation_id = p.owner_id "
            + where
            + " AND $1::date IS NOT NULL AND $2::text[] IS NOT NULL"
        )
    ctes = [_EVENTS.format(event_scope="true"), _RELATED.format(owner_scope="true"), _MEDIAN]
    return "WITH " + ",".join(ctes) + _SELECT + f"{where} ORDER BY {OWNER_KEY}"


COHORTS_REFRESH_SQL = """
INSERT INTO citation_cohorts (filing_year, ipc_section, citations, patents)
SELECT extract(year FROM filing_date)::int, position(left(ipc_codes[1], 1) IN 'ABCDEFGH'), forward_citations, count(*)
FROM patents WHERE position(left(ipc_codes[1], 1) IN 'ABCDEFGH') > 0
GROUP BY 1, 2, 3
"""


class Histogram:
    """The stored citation cohorts as arrays (see :mod:`valuation.cohorts`)."""

    def __init__(
        self, year: NDArray[np.int64], section: NDArray[np.int64], value: NDArray[np.int64], count: NDArray[np.int64]
    ):
        self.cohort = cohort_key(year, section)
        self.value = value
        self.count = count

    @classmethod
    def empty(cls) -> "Histogram":
        """No stored cohorts (every patent falls back to the core's own ranking)."""
        z = np.zeros(0, np.int64)
        return cls(z, z, z, z)


def owner_products(owner: NDArray[np.void], sales: NDArray[np.float64]) -> NDArray[np.int64]:
    """Product id per patent: patents of one owner with sales share one product; the others -1."""
    product = np.full(owner.shape[0], -1, np.int64)
    shared = ~np.isnan(sales) & (owner != np.void(bytes(16)))
    if shared.any():
        _, group = np.unique(owner[shared], return_inverse=True)
        product[shared] = group
    return product


def rows_to_batch(rows: NDArray[np.void], histogram: Histogram, min_cohort: int) -> PatentBatch:
    """Fill a :class:`PatentBatch` from decoded feature rows.

    Args:
        rows: Rows of :data:`FIELDS` (see :func:`valuation.copybin.decode_rows`).
        histogram: Stored citation cohorts for the percentile.
        min_cohort: Smallest cohort ranked by percentile (the coefficient set's rule).

    Returns:
        The batch, one row per feature row, in the same order.
    """
    n = rows.shape[0]
    b = empty_batch(n)
    b.patent_type[:] = rows["patent_type"]
    b.ipc_section[:] = rows["ipc_section"]
    b.chain[:] = rows["chain"]
    b.high_tech[:] = rows["high_tech"].astype(bool)
    for kind in ("legal_status", "invalidation", "claim_types", "licensing", "financing", "litigation"):
        b.categorical[kind][:] = rows[kind]
    names = rows.dtype.names or ()
    for name in b.numeric:
        if name in names and name != "forward_citations":
            b.numeric[name][:] = rows[name]
    forward = rows["forward_citations"].astype(np.int64)
    b.numeric["forward_citations"][:] = forward
    year = rows["filing_year"].astype(np.int64)
    b.numeric["filing_year"][:] = year
    b.product[:] = owner_products(rows["owner"], b.numeric["sales"])
    cohort = cohort_key(year, rows["ipc_section"].astype(np.int64))
    b.numeric["citation_percentile"][:] = histogram_percentiles(
        histogram.cohort, histogram.value, histogram.count, cohort, forward, min_cohort
    )
    return b


def as_of_date(value: dt.date | None) -> dt.date:
    """The valuation date: the given one, else today (UTC)."""
    return value or dt.datetime.now(dt.UTC).date()


CHAINS_PARAM: list[str] = list(CHAIN_CODES)
