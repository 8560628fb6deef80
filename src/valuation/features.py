"""Patent facts from the registry, read as fixed-width binary COPY rows and assembled in NumPy.

The batch command and a single assessment read their patents through the same queries and the
same assembly (:func:`rows_to_batch`), so a patent valued alone gets exactly the numbers it gets in
the batch. The patent stream is one table read in (owner, number) order with no join, so it
streams from the index while the rows already read are valued; the enterprises' facts, the legal
events' summary and the chains' median sales are read once as small side tables and joined in
NumPy. Every column is fixed-width and never NULL (unknown numbers are ``NaN``, unknown codes 0).

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
- IPC: the first four codes' subclasses (fields, breadth, the cohort's section, and related
  patents = the owner's other patents in the first code's subclass).
"""

import dataclasses
import datetime as dt
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from valuation.batch import PatentBatch, empty_batch
from valuation.codes import CHAIN_CODES, IPC_SECTIONS
from valuation.cohorts import cohort_key, sort_histogram, sorted_percentiles
from valuation.copybin import Field

NIL_OWNER = "00000000-0000-0000-0000-000000000000"
CHAINS_PARAM: list[str] = list(CHAIN_CODES)
COPY_EPOCH = dt.date(2000, 1, 1)  # binary COPY dates are days since 2000-01-01

# --- the patent stream -------------------------------------------------------------------------------

PATENT_FIELDS: tuple[Field, ...] = (
    ("number", "S14", 14),
    ("owner", "V16", 16),
    ("patent_type", ">i2", 2),
    ("patent_chain", ">i2", 2),
    ("legal_status", ">i2", 2),
    ("claim_types", ">i2", 2),
    ("filing_date", ">i4", 4),
    ("expiry_date", ">i4", 4),
    ("family_major", ">f8", 8),
    ("family_other", ">f8", 8),
    ("first_claim_chars", ">f8", 8),
    ("claim_count", ">f8", 8),
    ("independent_claims", ">f8", 8),
    ("backward_citations", ">f8", 8),
    ("forward_citations", ">i4", 4),
    ("ipc1", "S4", 4),
    ("ipc2", "S4", 4),
    ("ipc3", "S4", 4),
    ("ipc4", "S4", 4),
    ("fees_paid", "u1", 1),
)
FIELDS = PATENT_FIELDS

# IPC codes are validated upper-case with the subclass in their first four characters.
_PATENT_SELECT = """
SELECT p.number::text,
    coalesce(p.owner_id, '00000000-0000-0000-0000-000000000000'::uuid),
    (CASE WHEN p.patent_type IN ('invention', 'pct_invention') THEN 1 WHEN p.patent_type = 'design' THEN 3
          ELSE 2 END)::int2,
    coalesce(array_position($2::text[], p.chain_codes[1]) - 1, -1)::int2,
    (CASE WHEN p.legal_status = 'granted' AND p.expiry_date > $1::date THEN 1 WHEN p.legal_status = 'pending' THEN 2
          WHEN p.legal_status IN ('granted', 'lapsed', 'expired') THEN 3 ELSE 4 END)::int2,
    (CASE p.claim_types WHEN 'product_and_method' THEN 1 WHEN 'product' THEN 2 WHEN 'method' THEN 3
          WHEN 'design' THEN 4 ELSE 0 END)::int2,
    p.filing_date,
    p.expiry_date,
    (cardinality(p.family_offices) - cardinality(array_remove(array_remove(array_remove(array_remove(
        p.family_offices, 'US'), 'EP'), 'JP'), 'KR')))::float8,
    cardinality(array_remove(array_remove(array_remove(array_remove(array_remove(
        p.family_offices, 'US'), 'EP'), 'JP'), 'KR'), 'CN'))::float8,
    (CASE WHEN p.first_claim = '' THEN 'NaN'::float8 ELSE length(p.first_claim)::float8 END),
    (CASE WHEN p.claims_total = 0 THEN 'NaN'::float8 ELSE p.claims_total::float8 END),
    (CASE WHEN p.claims_independent = 0 THEN 'NaN'::float8 ELSE p.claims_independent::float8 END),
    p.backward_citations::float8,
    p.forward_citations::int4,
    coalesce(left(p.ipc_codes[1], 4), '    '),
    coalesce(left(p.ipc_codes[2], 4), '    '),
    coalesce(left(p.ipc_codes[3], 4), '    '),
    coalesce(left(p.ipc_codes[4], 4), '    '),
    p.fees_paid
FROM patents p
"""

# Batch filter on the owner ($3 enterprise chain, $4 province); unowned patents match on their own chain.
_OWNER_FILTER = """(($3::text IS NULL AND $4::text IS NULL) OR p.owner_id IN (
    SELECT e.organisation_id FROM enterprises e JOIN organisations o ON o.id = e.organisation_id
    WHERE ($3::text IS NULL OR e.chain_code = $3) AND ($4::text IS NULL OR o.province_code = $4)))"""
_UNOWNED_FILTER = "($4::text IS NULL AND ($3::text IS NULL OR p.chain_codes @> ARRAY[$3::text]))"


def patents_sql(kind: str) -> str:
    """The patent stream query of one kind.

    ``owned``: by owner then number, after the keyset ``$5``/``$6``; ``unowned``: by number after
    ``$6``; ``enterprise``: ``$3`` an enterprise's patents and ``$4`` other numbers. ``$1`` is the
    valuation date and ``$2`` the chain codes in :data:`CHAIN_CODES` order.
    """
    if kind == "owned":
        where = (
            f"p.owner_id IS NOT NULL AND {_OWNER_FILTER} AND ($5::uuid IS NULL OR (p.owner_id, p.number) > ($5, $6))"
        )
        return f"{_PATENT_SELECT} WHERE {where} ORDER BY p.owner_id, p.number"
    if kind == "unowned":
        where = f"p.owner_id IS NULL AND {_UNOWNED_FILTER} AND ($6::text IS NULL OR p.number > $6) AND $5::uuid IS NULL"
        return f"{_PATENT_SELECT} WHERE {where} ORDER BY p.number"
    return f"{_PATENT_SELECT} WHERE p.owner_id = $3 OR p.number = ANY ($4::text[]) ORDER BY p.owner_id, p.number"


COUNT_SQL = f"""
SELECT (SELECT count(*) FROM patents p WHERE p.owner_id IS NOT NULL AND {_OWNER_FILTER})
     + (SELECT count(*) FROM patents p WHERE p.owner_id IS NULL AND {_UNOWNED_FILTER})
     + 0 * length($1::date::text || $2::text[]::text || coalesce($5::text, '') || coalesce($6::text, ''))
"""

# --- side tables -------------------------------------------------------------------------------------

EVENT_FIELDS: tuple[Field, ...] = (
    ("number", "S14", 14),
    ("invalidation", ">i2", 2),
    ("licensing", ">i2", 2),
    ("financing", ">i2", 2),
    ("litigation", ">i2", 2),
    ("already_pledged", "u1", 1),
    ("pending_invalidation", "u1", 1),
    ("ownership_dispute", "u1", 1),
)

_EVENTS_SQL = """
SELECT number::text,
    (CASE WHEN inv_req IS NOT NULL AND (inv_dec IS NULL OR inv_dec < inv_req) THEN 4
          WHEN partly THEN 3 WHEN survived THEN 1 ELSE 2 END)::int2,
    (CASE WHEN licensed THEN 1 WHEN transferred THEN 2 ELSE 3 END)::int2,
    (CASE WHEN financed THEN 1 ELSE 2 END)::int2,
    (CASE WHEN coalesce(filed > greatest(won, lost), filed IS NOT NULL) OR coalesce(lost >= won, lost IS NOT NULL)
          THEN 3 WHEN won IS NOT NULL THEN 1 ELSE 2 END)::int2,
    coalesce(pledged IS NOT NULL AND (released IS NULL OR released < pledged), false),
    coalesce(inv_req IS NOT NULL AND (inv_dec IS NULL OR inv_dec < inv_req), false),
    coalesce(dispute, false)
FROM (
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
    FROM patent_events WHERE event_date <= $1::date AND {scope}
    GROUP BY number
) ev ORDER BY number
"""


def events_sql(scoped: bool) -> str:
    """Each patent's events summarised as codes (``$1`` date; scoped: ``$2`` enterprise, ``$3`` other numbers)."""
    scope = "number IN (SELECT number FROM patents WHERE owner_id = $2 OR number = ANY ($3::text[]))"
    return _EVENTS_SQL.format(scope=scope if scoped else "true")


ENTERPRISE_FIELDS: tuple[Field, ...] = (
    ("owner", "V16", 16),
    ("chain", ">i2", 2),
    ("high_tech", "u1", 1),
    ("sales", ">f8", 8),
)


def enterprises_sql(scoped: bool) -> str:
    """The facts of enterprises (``$1`` chain codes; scoped: ``$2`` the owners wanted)."""
    where = "WHERE e.organisation_id = ANY ($2::uuid[])" if scoped else ""
    return f"""
SELECT e.organisation_id, coalesce(array_position($1::text[], e.chain_code) - 1, -1)::int2,
    'hnte' = ANY (e.certifications),
    coalesce(e.revenue * coalesce(e.patent_industrialisation_rate, 1), 'NaN')::float8
FROM enterprises e {where} ORDER BY e.organisation_id
"""


# --- an assessment's patents with their side facts, in one COPY -----------------------------------------
#
# A single assessment reads the enterprise's patents (and the other offered numbers) with their events
# summary and their owners' facts joined on, in one round trip instead of three; :func:`joined_to_batch` fills
# the batch from each row's own columns. :func:`split_joined` cuts the rows back into the patent rows and the
# side tables the batch reads separately: the tests check the joined statement and joined_to_batch against the
# batch's path (rows_to_batch) with it. Joined columns are never NULL (a ``has_*`` flag says whether the side
# row exists).

_EVENT_COLUMNS = tuple(name for name, _, _ in EVENT_FIELDS[1:])
JOINED_FIELDS: tuple[Field, ...] = (
    *PATENT_FIELDS,
    *((f"ev_{name}", kind, width) for name, kind, width in EVENT_FIELDS[1:]),
    ("has_events", "u1", 1),
    ("en_chain", ">i2", 2),
    ("en_high_tech", "u1", 1),
    ("en_sales", ">f8", 8),
    ("has_enterprise", "u1", 1),
)


def joined_sql() -> str:
    """The patents of enterprise ``$3`` and the numbers ``$4``, each with its events summary and owner facts.

    ``$1`` is the valuation date and ``$2`` the chain codes in :data:`CHAIN_CODES` order, as for
    :func:`patents_sql`; rows come in its order (owner, then number; unowned last). Each row's owner facts
    are looked up by the enterprises' primary key (the lateral subquery's ``OFFSET 0`` keeps the planner
    from turning it into a hash join over every enterprise; migration 0010).
    """
    columns = ", ".join(name for name, _, _ in PATENT_FIELDS)
    patents = f"{_PATENT_SELECT} WHERE p.owner_id = $3 OR p.number = ANY ($4::text[])"
    scope = "number IN (SELECT number FROM patents WHERE owner_id = $3 OR number = ANY ($4::text[]))"
    events = _EVENTS_SQL.format(scope=scope)
    zero = {"u1": "false", ">i2": "0::int2"}
    event_columns = ", ".join(f"coalesce(ev.{name}, {zero[kind]})" for name, kind, _ in EVENT_FIELDS[1:])
    return f"""
SELECT pr.*, {event_columns}, ev.number IS NOT NULL,
    coalesce(en.chain, -1::int2), coalesce(en.high_tech, false), coalesce(en.sales, 'NaN'::float8),
    en.organisation_id IS NOT NULL
FROM ({patents}) AS pr({columns})
LEFT JOIN ({events}) AS ev(number, {", ".join(_EVENT_COLUMNS)}) ON ev.number = pr.number
LEFT JOIN LATERAL (
    SELECT e.organisation_id, coalesce(array_position($2::text[], e.chain_code) - 1, -1)::int2 AS chain,
        'hnte' = ANY (e.certifications) AS high_tech,
        coalesce(e.revenue * coalesce(e.patent_industrialisation_rate, 1), 'NaN')::float8 AS sales
    FROM enterprises e WHERE e.organisation_id = pr.owner OFFSET 0
) en ON true
ORDER BY pr.owner = '{NIL_OWNER}'::uuid, pr.owner, pr.number
"""


def take_rows(rows: NDArray[np.void], index: NDArray[np.bool_] | NDArray[np.intp]) -> NDArray[np.void]:
    """``rows[index]`` for a structured array, copied as whole records.

    Indexing a structured array copies it field by field (~20-30 µs for a few rows of the joined query's 80
    fields); the same rows viewed as opaque records of the same size copy as bytes, with the same result.
    """
    record = np.dtype((np.void, rows.dtype.itemsize))
    taken: NDArray[np.void] = rows.view(record)[index].view(rows.dtype)
    return taken


def split_joined(joined: NDArray[np.void]) -> tuple[NDArray[np.void], NDArray[np.void], NDArray[np.void]]:
    """Patent rows, events summary (sorted by number) and enterprise facts (one per owner) of :func:`joined_sql`.

    The side tables have the fields of :data:`EVENT_FIELDS` and :data:`ENTERPRISE_FIELDS`, as the
    separate queries return them.
    """
    from valuation.copybin import row_dtype

    with_events = take_rows(joined, joined["has_events"].astype(bool))
    events = np.zeros(with_events.shape[0], row_dtype(EVENT_FIELDS))
    # Structured arrays assign field by position: one copy of the listed fields instead of one per field.
    events[_EVENT_TARGET] = with_events[_EVENT_SOURCE]
    events = take_rows(events, np.argsort(events["number"], kind="stable"))
    owned = take_rows(joined, joined["has_enterprise"].astype(bool))
    _, first = np.unique(_keys(owned["owner"]), return_index=True)
    owned = take_rows(owned, np.sort(first))
    enterprises = np.zeros(owned.shape[0], row_dtype(ENTERPRISE_FIELDS))
    enterprises[_ENTERPRISE_TARGET] = owned[_ENTERPRISE_SOURCE]
    return joined, events, enterprises


_EVENT_TARGET = ["number", *_EVENT_COLUMNS]
_EVENT_SOURCE = ["number", *(f"ev_{name}" for name in _EVENT_COLUMNS)]
_ENTERPRISE_TARGET = ["owner", "chain", "high_tech", "sales"]
_ENTERPRISE_SOURCE = ["owner", "en_chain", "en_high_tech", "en_sales"]


MEDIANS_SQL = """
SELECT chain_code, percentile_cont(0.5) WITHIN GROUP (ORDER BY revenue * coalesce(patent_industrialisation_rate, 1))
FROM enterprises WHERE revenue IS NOT NULL AND chain_code IS NOT NULL GROUP BY chain_code
"""

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
    ) -> None:
        self.cohort = cohort_key(year, section)
        self.value = value
        self.count = count
        self._sorted: tuple[NDArray[np.int64], NDArray[np.int64]] | None = None

    def percentiles(self, cohort: NDArray[np.int64], value: NDArray[np.int64], min_cohort: int) -> NDArray[np.float64]:
        """:func:`valuation.cohorts.sorted_percentiles` of the targets against these bins.

        The bins are sorted on the first call and kept: a histogram kept per process (the reference data of
        :mod:`valuation.store`, or the batch's) ranks every later target without sorting again.
        """
        if self._sorted is None:
            self._sorted = sort_histogram(self.cohort, self.value, self.count)
        return sorted_percentiles(*self._sorted, cohort, value, min_cohort)

    @classmethod
    def empty(cls) -> "Histogram":
        """No stored cohorts (every patent falls back to the core's own ranking)."""
        z = np.zeros(0, np.int64)
        return cls(z, z, z, z)


@dataclasses.dataclass(frozen=True)
class SideTables:
    """Events summary (sorted by number), enterprise facts (sorted by id bytes) and chain medians."""

    events: NDArray[np.void]
    enterprises: NDArray[np.void]
    medians: NDArray[np.float64]  # per chain index, NaN unknown
    histogram: Histogram

    @staticmethod
    def build(
        events: NDArray[np.void], enterprises: NDArray[np.void], medians: dict[str, float], histogram: Histogram
    ) -> "SideTables":
        """Index the side tables for lookups (PostgreSQL orders uuids bytewise, as NumPy orders ``S16``)."""
        order = np.argsort(_keys(enterprises["owner"]), kind="stable")
        return SideTables(events, take_rows(enterprises, order), median_array(medians), histogram)


def median_array(medians: dict[str, float]) -> NDArray[np.float64]:
    """Median sales per chain index (:data:`CHAIN_CODES` order), NaN where unknown."""
    return np.array([medians.get(code, np.nan) for code in CHAIN_CODES], np.float64)


def _keys(owner: NDArray[np.void]) -> NDArray[np.bytes_]:
    """Owner ids as ``S16`` (same order and equality as the raw 16 bytes for fixed-length values)."""
    keys: NDArray[np.bytes_] = np.ascontiguousarray(owner).view("S16")
    return keys


def owner_groups(owner: NDArray[np.void]) -> NDArray[np.int64]:
    """A group number per row, one per distinct owner (rows need not be sorted)."""
    keys = _keys(owner)
    if keys.size and not (keys[1:] >= keys[:-1]).all():
        _, inverse = np.unique(keys, return_inverse=True)
        grouped: NDArray[np.int64] = inverse.ravel().astype(np.int64)
        return grouped
    return (
        np.cumsum(np.concatenate(([True], keys[1:] != keys[:-1]))).astype(np.int64) - 1
        if keys.size
        else np.zeros(0, np.int64)
    )


# --- assembly ----------------------------------------------------------------------------------------


def owner_products(
    owner: NDArray[np.void], sales: NDArray[np.float64], groups: NDArray[np.int64] | None = None
) -> NDArray[np.int64]:
    """Product id per patent: patents of one owner with sales share one product; the others -1.

    ``groups`` is :func:`owner_groups` of ``owner`` when the caller has it already.
    """
    shared = ~np.isnan(sales) & (owner != np.void(bytes(16)))
    product: NDArray[np.int64] = np.where(shared, owner_groups(owner) if groups is None else groups, -1)
    return product


_BLANK_CODE = int.from_bytes(b"    ", "big")


def ipc_counts(rows: NDArray[np.void]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Distinct IPC subclasses and sections among the first four codes (NaN when there is none).

    Four codes reach the caps of both rules (subclasses 40 + 20 per extra, sections 50 + 25 per extra).
    """
    # Each 4-byte code as a big-endian integer: the same order and equality as the bytes, cheaper to sort.
    codes = np.sort(np.column_stack([rows[f"ipc{k}"] for k in range(1, 5)]).view(">u4").astype(np.uint32), axis=1)
    blank = (codes == 0) | (codes == _BLANK_CODE)  # b"" (NUL-padded) or four spaces
    first_column = np.ones((len(codes), 1), bool)  # (np.c_ does the same, with more overhead per call)
    new = ~blank & np.concatenate((first_column, codes[:, 1:] != codes[:, :-1]), axis=1)
    first = codes >> 24  # the first byte
    letters = np.sort(np.where(blank, 0, first), axis=1)
    new_letter = (letters > 0) & np.concatenate((first_column, letters[:, 1:] != letters[:, :-1]), axis=1)
    subclasses = new.sum(axis=1).astype(np.float64)
    sections = new_letter.sum(axis=1).astype(np.float64)
    subclasses[subclasses == 0] = np.nan
    sections[sections == 0] = np.nan
    return subclasses, sections


def related_patents(
    owner: NDArray[np.void], ipc1: NDArray[np.bytes_], groups: NDArray[np.int64] | None = None
) -> NDArray[np.float64]:
    """Other patents of the same owner in the same subclass (first code), among the rows given.

    Rows come whole per owner (the batch cuts chunks at owner boundaries; an assessment reads all of
    the enterprise's patents), so this equals the count over the database. NaN without owner or code.
    ``groups`` is :func:`owner_groups` of ``owner`` when the caller has it already.
    """
    n = owner.shape[0]
    out = np.full(n, np.nan)
    known = (owner != np.void(bytes(16))) & (ipc1 != b"") & (ipc1 != b"    ")
    if known.any():
        code = np.ascontiguousarray(ipc1.astype("S4")).view(">u4").astype(np.int64)
        key = ((owner_groups(owner) if groups is None else groups) << 32) | code
        _, group, counts = np.unique(key[known], return_inverse=True, return_counts=True)
        out[known] = counts[group.ravel()] - 1
    return out


def _section_table() -> NDArray[np.int8]:
    table = np.zeros(256, np.int8)
    for k, letter in enumerate(IPC_SECTIONS, start=1):
        table[ord(letter)] = k
    table.flags.writeable = False
    return table


_SECTIONS = _section_table()  # section number (1..8) by the first byte of a code, 0 for any other byte


def _section(ipc1: NDArray[np.bytes_]) -> NDArray[np.int8]:
    first = np.ascontiguousarray(ipc1.astype("S4")).view(np.uint8).reshape(-1, 4)[:, 0]
    section: NDArray[np.int8] = _SECTIONS[first]
    return section


_EVENT_DEFAULTS = {"invalidation": 2, "licensing": 3, "financing": 2, "litigation": 2}  # no event: never
# challenged, no licence, none, none
_GATE_KINDS = ("already_pledged", "pending_invalidation", "ownership_dispute")


def _events(rows: NDArray[np.void], side: SideTables, b: PatentBatch) -> dict[str, NDArray[np.uint8]]:
    """Event codes and gate facts per patent (no event: never challenged, no licence, none, none)."""
    n = rows.shape[0]
    gates = {k: np.zeros(n, np.uint8) for k in _GATE_KINDS}
    for kind, code in _EVENT_DEFAULTS.items():
        b.categorical[kind][:] = code
    ev = side.events
    if ev.size == 0 or n == 0:
        return gates
    at = np.searchsorted(ev["number"], rows["number"])
    at = np.minimum(at, ev.size - 1)
    hit = ev["number"][at] == rows["number"]
    for kind in _EVENT_DEFAULTS:
        b.categorical[kind][hit] = ev[kind][at[hit]]
    for kind in _GATE_KINDS:
        gates[kind][hit] = ev[kind][at[hit]]
    return gates


def _joined_events(rows: NDArray[np.void], b: PatentBatch) -> dict[str, NDArray[np.uint8]]:
    """:func:`_events` of rows of :func:`joined_sql`, from their own events columns (0 where they have none)."""
    has = rows["has_events"].astype(bool)
    for kind, code in _EVENT_DEFAULTS.items():
        b.categorical[kind][:] = np.where(has, rows[f"ev_{kind}"], code)
    return {kind: rows[f"ev_{kind}"].astype(np.uint8) for kind in _GATE_KINDS}


class _Keys(NamedTuple):
    """What :func:`_owner_and_cohort_columns` computes from, besides the batch: per patent row."""

    cohort: NDArray[np.int64]  # citation cohort (filing year, IPC section)
    forward: NDArray[np.int64]  # forward citations
    groups: NDArray[np.int64]  # owner group (owner_groups)


def _patent_columns(rows: NDArray[np.void], as_of: dt.date) -> tuple[PatentBatch, _Keys]:
    """The batch's columns that come from the patent rows alone, and the keys the other columns need."""
    n = rows.shape[0]
    b = empty_batch(n)
    b.patent_type[:] = rows["patent_type"]
    b.categorical["legal_status"][:] = rows["legal_status"]
    b.categorical["claim_types"][:] = rows["claim_types"]
    for name in ("family_major", "family_other", "first_claim_chars", "claim_count", "independent_claims"):
        b.numeric[name][:] = rows[name]
    b.numeric["backward_citations"][:] = rows["backward_citations"]
    forward = rows["forward_citations"].astype(np.int64)
    b.numeric["forward_citations"][:] = forward
    today = (as_of - COPY_EPOCH).days
    filed = rows["filing_date"].astype(np.int64)
    b.numeric["age_years"][:] = (today - filed) / 365.25
    in_term = (rows["legal_status"] == 1) | (rows["legal_status"] == 2)
    b.numeric["remaining_term_years"][:] = np.where(
        in_term, np.maximum(rows["expiry_date"].astype(np.int64) - today, 0) / 365.25, 0.0
    )
    year = (np.datetime64(COPY_EPOCH, "D") + filed.astype("timedelta64[D]")).astype("datetime64[Y]").astype(
        np.int64
    ) + 1970
    b.numeric["filing_year"][:] = year
    section = _section(rows["ipc1"])
    b.ipc_section[:] = section
    subclasses, sections = ipc_counts(rows)
    b.numeric["ipc_subclasses"][:] = subclasses
    b.numeric["ipc_sections"][:] = sections
    groups = owner_groups(rows["owner"])
    b.numeric["related_patents"][:] = related_patents(rows["owner"], rows["ipc1"], groups)
    return b, _Keys(cohort_key(year, section.astype(np.int64)), forward, groups)


def _owner_and_cohort_columns(
    rows: NDArray[np.void],
    b: PatentBatch,
    facts: tuple[NDArray[np.int16], NDArray[np.float64]],
    medians: NDArray[np.float64],
    keys: _Keys,
    histogram: Histogram,
    min_cohort: int,
) -> None:
    """Chain (the owner's, else the patent's), sales, the chain's median, products and citation percentiles.

    ``facts`` is each row's owner's chain (-1 unknown) and product sales (NaN unknown); ``medians`` the median
    sales per chain index (:func:`median_array`).
    """
    chain, sales = facts
    b.chain[:] = np.where(chain >= 0, chain, rows["patent_chain"])
    b.numeric["sales"][:] = np.where(rows["legal_status"] == 1, sales, np.nan)
    b.numeric["chain_median_sales"][:] = np.where(b.chain >= 0, medians[b.chain], np.nan)
    b.product[:] = owner_products(rows["owner"], b.numeric["sales"], keys.groups)
    b.numeric["citation_percentile"][:] = histogram.percentiles(keys.cohort, keys.forward, min_cohort)


def rows_to_batch(
    rows: NDArray[np.void], side: SideTables, as_of: dt.date, min_cohort: int
) -> tuple[PatentBatch, dict[str, NDArray[np.uint8]]]:
    """Fill a :class:`PatentBatch` from patent rows and the side tables.

    Args:
        rows: Rows of :data:`PATENT_FIELDS` (see :func:`valuation.copybin.decode_rows`).
        side: Events, enterprises, chain medians and citation cohorts.
        as_of: Valuation date.
        min_cohort: Smallest cohort ranked by percentile (the coefficient set's rule).

    Returns:
        The batch (one row per patent row, same order) and the gate facts from the events.
    """
    b, keys = _patent_columns(rows, as_of)
    facts = _enterprise_facts(rows, side, b)
    gates = _events(rows, side, b)
    _owner_and_cohort_columns(rows, b, facts, side.medians, keys, side.histogram, min_cohort)
    return b, gates


def joined_to_batch(
    rows: NDArray[np.void], medians: NDArray[np.float64], histogram: Histogram, as_of: dt.date, min_cohort: int
) -> tuple[PatentBatch, dict[str, NDArray[np.uint8]]]:
    """:func:`rows_to_batch` of rows of :func:`joined_sql`, each with its events and owner's facts joined on.

    The same batch and gates as cutting the side tables out with :func:`split_joined` and looking each row's up
    again (a test compares them), from the rows' own columns. ``medians`` is :func:`median_array` of the chains'
    median sales.
    """
    b, keys = _patent_columns(rows, as_of)
    known = rows["has_enterprise"].astype(bool)
    b.high_tech[:] = known & rows["en_high_tech"].astype(bool)
    facts = (np.where(known, rows["en_chain"], -1).astype(np.int16), np.where(known, rows["en_sales"], np.nan))
    gates = _joined_events(rows, b)
    _owner_and_cohort_columns(rows, b, facts, medians, keys, histogram, min_cohort)
    return b, gates


def _enterprise_facts(
    rows: NDArray[np.void], side: SideTables, b: PatentBatch
) -> tuple[NDArray[np.int16], NDArray[np.float64]]:
    """Each row's owner's chain (-1 unknown) and product sales (NaN unknown), looked up in the side table.

    The owner's 高新 status goes into the batch.
    """
    ent = side.enterprises
    keys = _keys(rows["owner"])
    chain = np.full(rows.shape[0], -1, np.int16)
    sales = np.full(rows.shape[0], np.nan)
    if ent.size:
        at = np.minimum(np.searchsorted(_keys(ent["owner"]), keys), ent.size - 1)
        hit = _keys(ent["owner"])[at] == keys
        chain[hit] = ent["chain"][at[hit]]
        b.high_tech[hit] = ent["high_tech"][at[hit]].astype(bool)
        sales[hit] = ent["sales"][at[hit]]
    return chain, sales


def as_of_date(value: dt.date | None) -> dt.date:
    """The valuation date: the given one, else today (UTC)."""
    return value or dt.datetime.now(dt.UTC).date()
