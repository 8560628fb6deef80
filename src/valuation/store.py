"""SQL of the valuation domain. Functions take a connection so callers own the transaction."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from typing import Any

import lz4.block  # type: ignore[import-untyped]
import msgspec
import numpy as np
from numpy.typing import NDArray

from ipledge.db.types import Conn, OneConn
from valuation.batch import PatentBatch
from valuation.codes import CHAIN_CODES, IPC_SECTIONS, N_INDICATORS
from valuation.coefficients import CoefficientSet, default_coefficients
from valuation.copybin import Field, decode_records, decode_rows
from valuation.features import (
    CHAINS_PARAM,
    COPY_EPOCH,
    JOINED_FIELDS,
    MEDIANS_SQL,
    NIL_OWNER,
    Histogram,
    joined_sql,
    joined_to_batch,
    median_array,
    take_rows,
)
from valuation.market import Transactions
from valuation.schemas import CoefficientSetInfo, Transaction

# --- coefficient sets -------------------------------------------------------------------------------

_DEFAULT = default_coefficients()
_decoded: dict[str, CoefficientSet] = {_DEFAULT.version: _DEFAULT}


async def ensure_default_set(conn: Conn) -> None:
    """Store the shipped set (2024.1) the first time it is needed."""
    await conn.execute(
        "INSERT INTO coefficient_sets (version, document, note) VALUES ($1, $2, $3) ON CONFLICT (version) DO NOTHING",
        _DEFAULT.version,
        msgspec.to_builtins(_DEFAULT),
        "shipped default (provisional)",
    )


async def active_version(conn: Conn) -> str:
    """The version of the latest activation, else the shipped default."""
    version: str | None = await conn.fetchval("SELECT version FROM coefficient_activations ORDER BY id DESC LIMIT 1")
    return version or _DEFAULT.version


async def coefficient_set(conn: Conn, version: str) -> CoefficientSet | None:
    """A stored set, decoded once per process (sets never change)."""
    cached = _decoded.get(version)
    if cached is not None:
        return cached
    raw = await conn.fetchval("SELECT document::text FROM coefficient_sets WHERE version = $1", version)
    if raw is None:
        return None
    coeffs = msgspec.json.decode(raw, type=CoefficientSet)
    _decoded[version] = coeffs
    return coeffs


async def active_coefficients(conn: Conn) -> CoefficientSet:
    """The active coefficient set."""
    version = await active_version(conn)
    coeffs = await coefficient_set(conn, version)
    return coeffs or _DEFAULT


async def list_sets(conn: Conn) -> list[CoefficientSetInfo]:
    active = await active_version(conn)
    rows = await conn.fetch("SELECT version, note, created_at, created_by FROM coefficient_sets ORDER BY created_at")
    return [
        CoefficientSetInfo(r["version"], r["note"], r["version"] == active, r["created_at"], r["created_by"])
        for r in rows
    ]


async def get_set_row(conn: Conn, version: str) -> Any:
    return await conn.fetchrow(
        "SELECT version, note, created_at, created_by, document::text AS document FROM coefficient_sets"
        " WHERE version = $1",
        version,
    )


async def insert_set(conn: Conn, coeffs: CoefficientSet, note: str, org: uuid.UUID) -> bool:
    status = await conn.execute(
        "INSERT INTO coefficient_sets (version, document, note, created_by) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (version) DO NOTHING",
        coeffs.version,
        msgspec.to_builtins(coeffs),
        note,
        org,
    )
    return bool(status.endswith(" 1"))


async def activate(conn: Conn, version: str, org: uuid.UUID) -> None:
    await conn.execute("INSERT INTO coefficient_activations (version, activated_by) VALUES ($1, $2)", version, org)


# --- enterprise facts ---------------------------------------------------------------------------------


async def enterprise_standing(conn: Conn, enterprise: Any) -> tuple[bool, bool]:
    """(withdrawn from the cultivation pool, under a violation report) for the risk flags.

    ``enterprise`` is the row of :func:`applicant_and_registry`: its ``pool_withdrawal`` is matching's answer (the SQL
    function ``matching_pool_withdrawal``, judged by ``matching.public.withdrawal_flags``); a violation report is
    also one the registry records in ``violation_flags``.
    """
    from matching.public import withdrawal_flags  # matching's answer; imported on first use (matching is heavy)

    del conn
    withdrawn, for_violation = withdrawal_flags(enterprise["pool_withdrawal"])
    return withdrawn, for_violation or bool(enterprise["violation_flags"])


_ENTERPRISE_ROW = (
    "SELECT o.id, o.name, o.credit_code, o.kind, e.consent_share, e.chain_code, e.revenue,"
    " e.patent_industrialisation_rate, e.certifications, e.violation_flags, e.version"
    " FROM organisations o LEFT JOIN enterprises e ON e.organisation_id = o.id WHERE o.credit_code = $1"
)


async def enterprise_row(conn: Conn, credit_code: str) -> Any:
    return await conn.fetchrow(_ENTERPRISE_ROW, credit_code)


async def coefficients_of(conn: Conn, version: str | None) -> CoefficientSet:
    """The set of the active version :func:`applicant_and_registry` read (what :func:`active_coefficients` gives)."""
    coeffs = await coefficient_set(conn, version or _DEFAULT.version)
    return coeffs or _DEFAULT


async def enterprise_by_id(conn: Conn, org_id: uuid.UUID) -> Any:
    row = await conn.fetchrow("SELECT credit_code FROM organisations WHERE id = $1", org_id)
    return None if row is None else await enterprise_row(conn, row["credit_code"].strip())


_REGISTRY_COLUMNS = (
    "number", "title", "patent_type", "legal_status", "owner_id", "owner_name", "filing_date", "grant_date",
    "expiry_date", "fees_paid", "claims_total", "claims_independent", "claim_types", "ipc_codes", "family_offices",
    "forward_citations", "backward_citations", "chain_codes", "updated_at",
)  # fmt: skip
# Migration 0014's function valuation_applicant: the applicant's row beside each registered offered number ($1 the
# credit code, $2 the numbers): one row per number found, one row (no patent) when none is, its applicant columns
# null when no organisation has the code; then the registry columns above, by name (a test checks the function
# returns them). One row (the first) also carries the assessment's facts: the rows of valuation_assessment_facts
# for the organisation of the code ($3 the valuation date, $4 CHAINS_PARAM), in the function's order, as
# concatenated record_send rows (read with copybin.decode_records; NULL for none), so that one round trip reads
# everything an assessment needs. A function, planned once per connection: sent as a parameterised statement,
# PostgreSQL planned it again on every execution.
_APPLICANT_CALL = "SELECT * FROM valuation_applicant($1, $2, $3, $4)"
# The facts' record_send rows: the joined query's fields and the ordinality WITH ORDINALITY adds.
_FACT_RECORD: tuple[Field, ...] = (*JOINED_FIELDS, ("_ordinality", ">i8", 8))


async def applicant_and_registry(
    conn: Conn, credit_code: str, numbers: list[str], as_of: dt.date
) -> tuple[Any | None, dict[str, dict[str, Any]], NDArray[np.void]]:
    """The applicant, the registry rows of the offered ``numbers`` and the assessment's facts, in one round trip.

    The applicant is :func:`enterprise_row` with the active coefficient-set version (``coefficient_version``,
    None while the shipped default is active), the reference token (``reference_token``, the state of the
    reference data: :func:`assessment_facts`) and matching's ``pool_withdrawal``; None when no organisation has
    the code. The registry maps each number found to its columns (unknown numbers are absent). The facts are the
    rows of :func:`joined_sql` for the organisation of the code (the input of :func:`assessment_facts`).
    """
    rows = await conn.fetch(_APPLICANT_CALL, credit_code, numbers, as_of, CHAINS_PARAM)
    first = rows[0]
    applicant = first if first["id"] is not None else None
    registry = {r["number"]: {c: r[c] for c in _REGISTRY_COLUMNS} for r in rows if r["number"]}
    facts = next((r["facts"] for r in rows if r["facts"] is not None), None)
    return applicant, registry, decode_records(facts, _FACT_RECORD)


async def copy_rows(conn: Conn, query: str, fields: tuple[Field, ...], *args: Any) -> NDArray[np.void]:
    """Run ``query`` as a binary COPY and decode its fixed-width rows.

    Arguments are inlined as literals (see :func:`literal`): a COPY with parameters would need a
    prepare round trip first.
    """
    chunks: list[bytes] = []

    async def collect(chunk: bytes) -> None:  # a coroutine: a file object would cost a thread hop per chunk
        chunks.append(chunk)

    for k in range(len(args), 0, -1):  # $10 before $1
        query = query.replace(f"${k}", literal(args[k - 1]))
    await conn.copy_from_query(query, output=collect, format="binary")
    return decode_rows(chunks[0] if len(chunks) == 1 else b"".join(chunks), fields)


_JOINED_SQL = joined_sql()
# The same query as a PL/pgSQL function (migration 0008, replaced by 0010): its plan is cached per connection,
# where the COPY of the query with inlined literals was planned on every call (1.9 ms of PostgreSQL CPU instead
# of 0.67 ms).
_FACTS_SQL = "SELECT * FROM valuation_assessment_facts($1, $2, $3, $4)"


def facts_function_body() -> str:
    """The body migration 0010 gives ``valuation_assessment_facts`` (a test checks the stored one equals it)."""
    return "#variable_conflict use_column\nBEGIN RETURN QUERY " + _JOINED_SQL + "; END\n"


_SAFE = re.compile(r"^[0-9A-Za-z_.\-]*$")


def literal(value: Any) -> str:
    """A SQL literal for the values the feature queries take (dates, uuids, codes, lists of those)."""
    if value is None:
        return "NULL"
    if isinstance(value, dt.date):
        return f"'{value.isoformat()}'::date"
    if isinstance(value, uuid.UUID):
        return f"'{value}'::uuid"
    if isinstance(value, list):
        kind = "uuid[]" if value and isinstance(value[0], uuid.UUID) else "text[]"
        return f"ARRAY[{', '.join(literal(str(v)) for v in value)}]::{kind}"
    text = str(value)
    if not _SAFE.match(text):
        raise ValueError(f"unsafe literal {text!r}")
    return f"'{text}'"


async def medians(conn: Conn, chains: list[str] | None = None) -> dict[str, float]:
    """Median product sales of each chain's enterprises (only ``chains`` when given)."""
    if chains is None:
        return {r[0]: float(r[1]) for r in await conn.fetch(MEDIANS_SQL)}
    query = MEDIANS_SQL.replace("GROUP BY", "AND chain_code = ANY ($1::text[]) GROUP BY")
    return {r[0]: float(r[1]) for r in await conn.fetch(query, chains)}


async def enterprise_facts(
    conn: OneConn, as_of: dt.date, owner: uuid.UUID | None, numbers: list[str], coeffs: CoefficientSet
) -> tuple[PatentBatch, NDArray[np.void], dict[str, NDArray[np.uint8]]]:
    """The batch of an enterprise's patents and of the other offered numbers, with their gate facts."""
    batch, rows, gates, _ = await _facts(conn, as_of, owner, numbers, coeffs, None)
    return batch, rows, gates


async def assessment_facts(
    conn: OneConn,
    as_of: dt.date,
    owner: uuid.UUID | None,
    numbers: list[str],
    coeffs: CoefficientSet,
    reference_token: uuid.UUID,
    joined: NDArray[np.void] | None = None,
) -> tuple[PatentBatch, NDArray[np.void], dict[str, NDArray[np.uint8]], Transactions | None]:
    """:func:`enterprise_facts` and the :func:`market_transactions` of the batch's chains.

    The cohorts, medians and transactions are those of ``reference_token`` (read before, with
    :func:`applicant_and_registry`): from this process's :data:`reference_cache` while the token is current, with no
    statement at all. The transactions are those of the chains the batch assigns, in the order read.
    """
    market = (reference_token, coeffs.market.window_years)
    return await _facts(conn, as_of, owner, numbers, coeffs, market, joined)


async def _facts(
    conn: OneConn,
    as_of: dt.date,
    owner: uuid.UUID | None,
    numbers: list[str],
    coeffs: CoefficientSet,
    market: tuple[uuid.UUID, float] | None,
    joined: NDArray[np.void] | None = None,
) -> tuple[PatentBatch, NDArray[np.void], dict[str, NDArray[np.uint8]], Transactions | None]:
    """The facts of :func:`enterprise_facts`, and the market transactions when ``market`` is given.

    ``market`` is (reference token, window in years): the cohorts, medians and transactions then come from
    the token's :class:`Reference`. ``joined``: the rows of :func:`joined_sql` already read (by
    :func:`applicant_and_registry`), else read here.
    """
    applicant = owner
    owner = owner or uuid.UUID(NIL_OWNER)
    if joined is None:
        # One COPY: the patent rows with their events summary and owners' facts joined on, then cut apart.
        joined = await copy_rows(conn, _FACTS_SQL, JOINED_FIELDS, as_of, CHAINS_PARAM, owner, numbers)
    rows = joined
    if applicant is not None:
        # The applicant's portfolio as it was on the valuation date: a patent filed after it did not exist yet (the
        # offered ones are checked before, see valuation.service).
        existed = rows["filing_date"] <= (as_of - COPY_EPOCH).days
        if not existed.all():
            rows = take_rows(rows, existed)
    reference = None
    if market is None:
        named = np.concatenate((rows["patent_chain"], rows["en_chain"][rows["has_enterprise"].astype(bool)]))
        chains = [CHAIN_CODES[c] for c in sorted(set(named.tolist())) if c >= 0]
        histogram, chain_medians = await cohorts_and_medians(conn, *_cohorts_of(rows), chains)
        medians = median_array(chain_medians)
    else:
        reference = await reference_data(conn, *market, as_of)
        # every chain's median: the batch looks up those of its rows' chains only
        histogram, medians = reference.histogram, reference.medians
        if reference.never_counted and rows.size:  # no cohorts stored at all: counted there
            cohort_years, cohort_sections = _cohorts_of(rows)
            if cohort_years:
                histogram = await cohort_histogram(conn, cohort_years, cohort_sections)
    # Each row's events and owner's facts are in its own columns (joined_sql).
    batch, gates = joined_to_batch(rows, medians, histogram, as_of, coeffs.rules.citations.min_cohort)
    # The transactions of the chains the batch assigns, in the order read.
    tx = None if reference is None else reference.transactions_of(batch.chain[batch.chain >= 0])
    return batch, rows, gates, tx


def _cohorts_of(rows: NDArray[np.void]) -> tuple[list[int], list[int]]:
    """The distinct (filing year, IPC section) cohorts of the rows, sorted, as a list of years and one of sections."""
    years = (np.datetime64(COPY_EPOCH, "D") + rows["filing_date"].astype("timedelta64[D]")).astype("datetime64[Y]")
    year_list = (years.astype(np.int64) + 1970).tolist()
    sections = [IPC_SECTIONS.find(bytes(c[:1]).decode() or "-") + 1 for c in rows["ipc1"]]
    pairs = sorted({(y, s) for y, s in zip(year_list, sections, strict=True) if s > 0})
    return [p[0] for p in pairs], [p[1] for p in pairs]


# --- citation cohorts ---------------------------------------------------------------------------------


async def refresh_cohorts(conn: Conn) -> int:
    """Recount the forward-citation cohorts over the whole database (inside the caller's transaction)."""
    from valuation.features import COHORTS_REFRESH_SQL

    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('citation_cohorts'))")
    await conn.execute("DELETE FROM citation_cohorts")
    status = await conn.execute(COHORTS_REFRESH_SQL)
    return int(status.split()[-1])


async def cohort_histogram(conn: OneConn, years: list[int], sections: list[int]) -> Histogram:
    """The stored cohorts of the given (year, section) pairs; refreshed first if never computed."""
    query = (
        "SELECT c.filing_year, c.ipc_section, c.citations, c.patents FROM citation_cohorts c"
        " JOIN unnest($1::int[], $2::int[]) AS k(y, s) ON c.filing_year = k.y AND c.ipc_section = k.s"
    )
    rows = await conn.fetch(query, years, sections)
    if not rows and years and not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM citation_cohorts)"):
        async with conn.transaction():
            await refresh_cohorts(conn)
        rows = await conn.fetch(query, years, sections)
    return _histogram(rows)


_COHORTS_AND_MEDIANS = (
    "SELECT c.filing_year, c.ipc_section, c.citations, c.patents, NULL::text, NULL::float8 FROM citation_cohorts c"
    " JOIN unnest($1::int[], $2::int[]) AS k(y, s) ON c.filing_year = k.y AND c.ipc_section = k.s"
    " UNION ALL SELECT NULL, NULL, NULL, NULL, m.* FROM ("
    + MEDIANS_SQL.replace("GROUP BY", "AND chain_code = ANY ($3::text[]) GROUP BY")
    + ") m"
)


async def cohorts_and_medians(
    conn: OneConn, years: list[int], sections: list[int], chains: list[str]
) -> tuple[Histogram, dict[str, float]]:
    """:func:`cohort_histogram` and :func:`medians` of ``chains``, in one round trip."""
    rows = await conn.fetch(_COHORTS_AND_MEDIANS, years, sections, chains)
    cohorts = [r for r in rows if r[4] is None]
    chain_medians = {r[4]: float(r[5]) for r in rows if r[4] is not None}
    if not cohorts and years:  # nothing stored for these cohorts: maybe never computed (refreshed there)
        return await cohort_histogram(conn, years, sections), chain_medians
    return _histogram(cohorts), chain_medians


# --- reference data, kept per process ---------------------------------------------------------------

# Every stored cohort, every chain's median sales and the market transactions of every known chain in the window
# ($1 the valuation date, $2 the window in days, $3 CHAINS_PARAM), as one row of arrays (one aggregate per column
# over each part, so each part's arrays share its row order).
_REFERENCE = (
    "SELECT co.*, me.*, tx.* FROM (SELECT array_agg(c.filing_year) AS c_year, array_agg(c.ipc_section) AS c_section,"
    " array_agg(c.citations) AS c_citations, array_agg(c.patents) AS c_patents FROM citation_cohorts c) co,"
    " (SELECT array_agg(m.chain_code) AS m_chain, array_agg(m.median) AS m_median FROM ("
    + MEDIANS_SQL
    + ") m(chain_code, median)) me,"
    " (SELECT array_agg(t.id::text) AS t_id, array_agg(array_position($3::text[], t.chain_code) - 1) AS t_chain,"
    " array_agg(t.transaction_date - '0001-01-01'::date + 1) AS t_day, array_agg(t.price::float8) AS t_price,"
    " array_agg(t.revenue::float8) AS t_revenue, array_agg(t.indicator_scores) AS t_scores"
    " FROM market_transactions t WHERE t.transaction_date <= $1 AND t.transaction_date >= $1 - $2::int"
    " AND t.chain_code = ANY ($3::text[])) tx"
)


class Reference:
    """The reference data of one token, valuation date and window: what every assessment reads beside its facts."""

    def __init__(self, row: Any) -> None:
        # Every stored cohort as one histogram: a patent's percentile depends on its own cohort's bins only, so
        # ranking against all of them gives what ranking against the portfolio's cohorts gave, and the bins are
        # sorted once for the process (Histogram.percentiles) instead of gathered and sorted per assessment.
        columns = [np.array(row[name] or [], np.int64) for name in ("c_year", "c_section", "c_citations", "c_patents")]
        self.histogram = Histogram(*columns)
        self.never_counted = columns[0].size == 0
        # Median sales per chain index (features.median_array): what the batch looks up by its rows' chains.
        self.medians = median_array(dict(zip(row["m_chain"] or [], row["m_median"] or [], strict=True)))
        self._of_chains: dict[bytes, Transactions | None] = {}
        self.transactions = None
        if row["t_id"]:
            self.transactions = Transactions(
                ids=np.array(row["t_id"]),
                chain=np.array(row["t_chain"], np.int16),
                day=np.array(row["t_day"], np.int64),
                price=np.array(row["t_price"], np.float64),
                revenue=np.array(row["t_revenue"], np.float64),
                scores=np.array(row["t_scores"], np.float64).reshape(len(row["t_id"]), N_INDICATORS),
            )

    def transactions_of(self, chains: NDArray[np.int16]) -> Transactions | None:
        """The transactions of these chain indices (repeats allowed), in the order read; None when there are none.

        Kept per set of chains (a few dozen sets at most): every enterprise of a chain asks for the same.
        """
        if self.transactions is None:
            return None
        wanted = np.unique(chains)
        key = wanted.tobytes()
        if key not in self._of_chains:
            if len(self._of_chains) >= 64:
                self._of_chains.clear()
            kept = _transactions_of(self.transactions, np.isin(self.transactions.chain, wanted))
            if kept is not None:  # shared by every assessment of these chains: read-only
                for field in dataclasses.fields(kept):
                    getattr(kept, field.name).flags.writeable = False
            self._of_chains[key] = kept
        return self._of_chains[key]


class ReferenceCache:
    """The :class:`Reference` of the last few (token, valuation date, window) this process read.

    A token names one state of the reference tables (migration 0011: any change gives a new one in the same
    transaction), and it is read before the data it keys, so an entry holds data at least as new as its token.
    """

    SIZE = 4

    def __init__(self) -> None:
        self._entries: dict[tuple[uuid.UUID, dt.date, int], Reference] = {}
        self.loads = 0

    def get(self, key: tuple[uuid.UUID, dt.date, int]) -> Reference | None:
        return self._entries.get(key)

    def put(self, key: tuple[uuid.UUID, dt.date, int], reference: Reference) -> None:
        if len(self._entries) >= self.SIZE:
            del self._entries[next(iter(self._entries))]  # the oldest
        self._entries[key] = reference
        self.loads += 1


reference_cache = ReferenceCache()


def window_days(window_years: float) -> int:
    """The market window in days as the statements compare dates (a year counted as 366 days, plus one)."""
    return int(window_years * 366) + 1


async def reference_data(conn: OneConn, token: uuid.UUID, window_years: float, as_of: dt.date) -> Reference:
    """The :class:`Reference` of ``token``: from :data:`reference_cache`, else read (one statement) and kept."""
    days = window_days(window_years)
    key = (token, as_of, days)
    found = reference_cache.get(key)
    if found is None:
        found = Reference(await conn.fetchrow(_REFERENCE, as_of, days, CHAINS_PARAM))
        reference_cache.put(key, found)
    return found


def _transactions_of(tx: Transactions, keep: NDArray[np.bool_]) -> Transactions | None:
    """The rows of ``tx`` where ``keep`` (None when none are)."""
    if not keep.any():
        return None
    return Transactions(tx.ids[keep], tx.chain[keep], tx.day[keep], tx.price[keep], tx.revenue[keep], tx.scores[keep])


def _histogram(rows: list[Any]) -> Histogram:
    if not rows:
        return Histogram.empty()
    arr = np.array([(r[0], r[1], r[2], r[3]) for r in rows], dtype=np.int64)
    return Histogram(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3])


async def all_cohorts(conn: Conn) -> Histogram:
    return _histogram(await conn.fetch("SELECT filing_year, ipc_section, citations, patents FROM citation_cohorts"))


# --- market transactions ------------------------------------------------------------------------------

_TX_COLUMNS = (
    "id, kind, chain_code AS chain, transaction_date AS date, price::float8 AS price, revenue::float8 AS revenue,"
    " patent_number, indicator_scores, note, created_at"
)


async def market_transactions(
    conn: Conn, as_of: dt.date, window_years: float, chains: list[str] | None = None
) -> Transactions | None:
    """The priced transactions usable at ``as_of`` (None when there are none), only of ``chains`` when given.

    The market approach compares a patent only with transactions of its own chain, so an assessment
    reads those of its patents' chains.
    """
    rows = await conn.fetch(
        "SELECT id::text, chain_code, transaction_date, price::float8, revenue::float8, indicator_scores"
        " FROM market_transactions WHERE transaction_date <= $1 AND transaction_date >= $1 - $2::int"
        " AND ($3::text[] IS NULL OR chain_code = ANY ($3::text[]))",
        as_of,
        window_days(window_years),
        chains,
    )
    rows = [r for r in rows if r[1] in CHAIN_CODES]
    if not rows:
        return None
    return Transactions(
        ids=np.array([r[0] for r in rows]),
        chain=np.array([CHAIN_CODES.index(r[1]) for r in rows], np.int16),
        day=np.array([r[2].toordinal() for r in rows], np.int64),
        price=np.array([r[3] for r in rows]),
        revenue=np.array([r[4] for r in rows]),
        scores=np.array([r[5] for r in rows], np.float64).reshape(len(rows), N_INDICATORS),
    )


async def insert_transaction(conn: Conn, values: tuple[Any, ...]) -> uuid.UUID:
    tx_id: uuid.UUID = await conn.fetchval(
        "INSERT INTO market_transactions (kind, chain_code, transaction_date, price, revenue, patent_number,"
        " indicator_scores, note, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        *values,
    )
    return tx_id


async def get_transaction(conn: Conn, tx_id: uuid.UUID) -> Transaction | None:
    row = await conn.fetchrow(f"SELECT {_TX_COLUMNS} FROM market_transactions WHERE id = $1", tx_id)
    return None if row is None else msgspec.convert(dict(row), Transaction)


async def list_transactions(conn: Conn, chain: str | None, after: list[Any] | None, limit: int) -> list[Transaction]:
    args: list[Any] = [chain, limit + 1]
    where = "($1::text IS NULL OR chain_code = $1)"
    if after is not None:
        where += " AND (created_at, id) > ($3::timestamptz, $4::uuid)"
        args += [dt.datetime.fromisoformat(after[0]), uuid.UUID(after[1])]
    rows = await conn.fetch(
        f"SELECT {_TX_COLUMNS} FROM market_transactions WHERE {where} ORDER BY created_at, id LIMIT $2", *args
    )
    return [msgspec.convert(dict(r), Transaction) for r in rows]


json_encoder = msgspec.json.Encoder()  # the pool's json codec's encoder (ipledge.db.pool)

# --- assessments --------------------------------------------------------------------------------------

_SUMMARY = (
    "a.id, o.credit_code AS enterprise, a.as_of, a.model_version, a.coefficient_version, a.patent_count,"
    " a.requested_amount::float8 AS requested_amount, a.collateral_value::float8 AS collateral_value,"
    " a.suggested_loan::float8 AS suggested_loan, a.suggested_term_months, a.created_at"
)


def pack_report(document: bytes) -> bytes:
    """A report's JSON as stored (migration 0015).

    One LZ4 block with the uncompressed size in front (4 bytes, little-endian):
    ``lz4.block.compress(document, store_size=True)``.
    """
    packed: bytes = lz4.block.compress(document, store_size=True)
    return packed


def unpack_report(packed: bytes) -> bytes:
    """The report's JSON from :func:`pack_report`'s bytes."""
    document: bytes = lz4.block.decompress(packed)
    return document


async def insert_assessment(
    conn: Conn, values: tuple[Any, ...], audit: tuple[Any, ...], degrees: list[float]
) -> tuple[uuid.UUID, dt.datetime]:
    """Insert the report and its audit row in one statement (atomic without a transaction block).

    ``values`` end with the inputs and the zh and en reports as their UTF-8 JSON bytes (:data:`json_encoder`).
    The inputs are sent as bytea and converted to jsonb in the statement (the pool's json codec would make a
    str of the document for asyncpg to encode back to UTF-8); the reports are stored compressed
    (:func:`pack_report`), with ``degrees``, the value degree of each offered patent in the report's order.
    """
    *columns, inputs, zh, en = values
    row = await conn.fetchrow(
        "WITH a AS (INSERT INTO assessments (enterprise_id, created_by_org, created_by_key, as_of, model_version,"
        " coefficient_version, patent_count, requested_amount, collateral_value, suggested_loan,"
        " suggested_term_months, inputs, report_zh_lz4, report_en_lz4, patent_degrees)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, convert_from($12, 'UTF8')::jsonb, $13, $14, $15)"
        " RETURNING id, created_at),"
        " l AS (INSERT INTO audit_log (actor_org, actor_key, action, subject_type, subject_id, detail, request_id)"
        " SELECT $2, $3, 'assessment.created', 'assessment', a.id::text, $16, $17 FROM a)"
        " SELECT id, created_at FROM a",
        *columns,
        inputs,
        pack_report(zh),
        pack_report(en),
        degrees,
        *audit,
    )
    assert row is not None
    return row["id"], row["created_at"]


async def get_assessment(conn: Conn, assessment_id: uuid.UUID, lang: str) -> tuple[Any, bytes | str] | None:
    """The row and its report in ``lang`` as JSON, from whichever form the row holds it in.

    New rows hold it compressed (migration 0015); older ones as json per language (0009) or as one jsonb with
    both languages (0003).
    """
    row = await conn.fetchrow(
        "SELECT a.id, a.enterprise_id, a.created_by_org, a.created_at, a.inputs::text AS inputs,"
        " CASE $2::text WHEN 'zh' THEN a.report_zh_lz4 WHEN 'en' THEN a.report_en_lz4 END AS packed,"
        " coalesce((CASE $2::text WHEN 'zh' THEN a.report_zh WHEN 'en' THEN a.report_en END)::text,"
        " (a.report -> $2::text)::text) AS report FROM assessments a WHERE a.id = $1",
        assessment_id,
        lang,
    )
    if row is None:
        return None
    return row, unpack_report(row["packed"]) if row["packed"] is not None else row["report"]


async def list_assessments(conn: Conn, enterprise_id: uuid.UUID, after: list[Any] | None, limit: int) -> list[Any]:
    args: list[Any] = [enterprise_id, limit + 1]
    where = "a.enterprise_id = $1"
    if after is not None:
        where += " AND (a.created_at, a.id) < ($3::timestamptz, $4::uuid)"
        args += [dt.datetime.fromisoformat(after[0]), uuid.UUID(after[1])]
    return await conn.fetch(
        f"SELECT {_SUMMARY} FROM assessments a JOIN organisations o ON o.id = a.enterprise_id"
        f" WHERE {where} ORDER BY a.created_at DESC, a.id DESC LIMIT $2",
        *args,
    )
