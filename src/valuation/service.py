"""Valuation use cases: access rules, transactions and audit around the pure core and the store."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import asyncpg
import msgspec
import numpy as np
from numpy.typing import NDArray

from ipledge.auth import Principal
from ipledge.context import request_id_var
from ipledge.db.types import Conn, OneConn, Pool
from ipledge.errors import UNSTORABLE, Conflict, InvalidInput, NotFound
from ipledge.registry.pagination import decode_cursor, encode_cursor
from ipledge.registry.store import audit
from ipledge.strict import decode_json, nul_path
from valuation import store
from valuation.assess import Registry, Standing, Valued, build_reports, value_offered
from valuation.coefficients import CoefficientSet, validate_coefficients
from valuation.degree import value_degrees
from valuation.errors import ValuationInputError
from valuation.features import COPY_EPOCH, as_of_date
from valuation.schemas import (
    Assessment,
    AssessmentCreate,
    AssessmentPage,
    AssessmentSummary,
    CoefficientSetCreate,
    CoefficientSetInfo,
    CoefficientSetOut,
    EnterpriseRef,
    ReportBody,
    RowError,
    Transaction,
    TransactionCreate,
    TransactionImport,
    TransactionPage,
)
from valuation.types import Lang

T = TypeVar("T")
_report_decoder = msgspec.json.Decoder(ReportBody)


def calculate(fn: Callable[..., T], *args: Any) -> T:
    """Run a pure calculator; its ``ValuationInputError`` becomes a 422 naming the field."""
    try:
        return fn(*args)
    except ValuationInputError as exc:
        raise InvalidInput(exc.field, exc.message) from None


async def _audit(conn: Conn, actor: Principal, action: str, subject: str, sid: str, **detail: Any) -> None:
    await audit(conn, actor, action, subject, sid, detail, request_id_var.get())


# --- assessments ----------------------------------------------------------------------------------------


async def _applicant(
    conn: Conn, actor: Principal, credit_code: str | None, numbers: list[str], as_of: dt.date
) -> tuple[Any, dict[str, dict[str, Any]], NDArray[np.void]]:
    """The enterprise an assessment is for, the offered patents' rows and the facts (one statement).

    The caller itself, or the one an operator names; see :func:`valuation.store.applicant_and_registry`.
    """
    if actor.role == "enterprise":
        if credit_code is not None and credit_code != actor.credit_code:
            raise NotFound("企业不存在 / enterprise not found")
        credit_code = actor.credit_code
    if credit_code is None:
        raise InvalidInput("enterprise", "运营方代为评估时须指定企业 / an operator must name the enterprise")
    row, registry, joined = await store.applicant_and_registry(conn, credit_code, numbers, as_of)
    if row is None or row["kind"] != "enterprise":
        raise InvalidInput("enterprise", "未登记的企业 / not a registered enterprise")
    return row, registry, joined


_UNREGISTERED = "专利未登记 / patent is not registered"


def _check_offers(
    data: AssessmentCreate, registry: dict[str, Any], as_of: dt.date, applicant: uuid.UUID, actor: Principal
) -> None:
    """Each offered patent once, registered, the applicant's or of no registered owner, filed by the valuation date.

    A patent registered to another organisation is refused: its registry record (title, claims, events) would
    otherwise be copied into the applicant's report, which the applicant and its consenting banks read. An
    enterprise is told exactly what an unknown number gets, so the answer does not reveal the registry either.
    """
    seen: set[str] = set()
    for i, offer in enumerate(data.patents):
        if offer.number in seen:
            raise InvalidInput(f"patents[{i}].number", "专利重复 / offered twice")
        seen.add(offer.number)
        if offer.number not in registry:
            raise InvalidInput(f"patents[{i}].number", _UNREGISTERED)
        owner = registry[offer.number]["owner_id"]
        if owner is not None and owner != applicant:
            message = (
                _UNREGISTERED if actor.role == "enterprise" else "专利属于其他权利人 / registered to another owner"
            )
            raise InvalidInput(f"patents[{i}].number", message)
        filed = registry[offer.number]["filing_date"]
        if filed > as_of:
            raise InvalidInput(
                "as_of",
                f"评估基准日早于专利 {offer.number} 的申请日 {filed} / the valuation date is before the filing date"
                f" {filed} of patent {offer.number}",
            )


def _snapshot(enterprise: Any, registry: dict[str, Any], data: AssessmentCreate) -> dict[str, Any]:
    """The inputs as they were: the request, the enterprise profile and the registry rows used."""
    keep = ("chain_code", "revenue", "patent_industrialisation_rate", "certifications", "violation_flags", "version")
    return {
        "request": msgspec.to_builtins(data),
        "enterprise": {k: enterprise[k] for k in keep} | {"credit_code": enterprise["credit_code"].strip()},
        "patents": [
            {k: (v.isoformat() if isinstance(v, dt.date | dt.datetime) else v) for k, v in registry[o.number].items()}
            | {"owner_id": str(registry[o.number]["owner_id"]) if registry[o.number]["owner_id"] else None}
            for o in data.patents
        ],
    }


async def create_assessment(pool: Pool, actor: Principal, data: AssessmentCreate, lang: Lang) -> bytes:
    """Value the offered patents, assess the loan and store the immutable report (both languages).

    Returns:
        The new :class:`Assessment` (the report in ``lang``) as JSON: see :func:`assessment_json`.
    """
    as_of = as_of_date(data.as_of)
    numbers = [p.number for p in data.patents]
    async with pool.acquire() as conn:
        enterprise, registry, joined = await _applicant(conn, actor, data.enterprise, numbers, as_of)
        _check_offers(data, registry, as_of, enterprise["id"], actor)
        coeffs = await store.coefficients_of(conn, enterprise["coefficient_version"])
        batch, rows, gates, tx = await store.assessment_facts(
            conn, as_of, enterprise["id"], numbers, coeffs, enterprise["reference_token"], joined
        )
        withdrawn, violation = await store.enterprise_standing(conn, enterprise)
        valued = calculate(value_offered, batch, rows, gates, data.patents, as_of, coeffs, tx)
        owner = {n: registry[n]["owner_id"] == enterprise["id"] for n in numbers}
        reg = {
            n: Registry(n, registry[n]["title"], registry[n]["patent_type"], registry[n]["legal_status"], owner[n])
            for n in numbers
        }
        ref = EnterpriseRef(enterprise["credit_code"].strip(), enterprise["name"])
        standing = Standing(withdrawn, violation)
        reports = calculate(build_reports, valued, data, reg, ref, standing, tx, as_of, coeffs, ("zh", "en"))
        encode = store.json_encoder.encode
        inputs, documents = encode(_snapshot(enterprise, registry, data)), {k: encode(v) for k, v in reports.items()}
        body = reports["zh"]
        values = (
            enterprise["id"], actor.organisation_id, actor.key_id, as_of, body.model_version,
            body.coefficient_version, len(numbers), data.requested_amount, body.collateral_value,
            body.suggested_loan, body.suggested_term_months, inputs, documents["zh"], documents["en"],
        )  # fmt: skip
        audit_detail = ({"enterprise": ref.credit_code}, request_id_var.get())
        degrees = [patent.V for patent in body.patents]
        new_id, created_at = await store.insert_assessment(conn, values, audit_detail, degrees)
    return assessment_json(documents[lang], new_id, created_at, actor.organisation_id, inputs)


class _Stored(msgspec.Struct):
    """What :class:`Assessment` adds to its report, before the inputs (in its field order)."""

    id: uuid.UUID
    created_at: dt.datetime
    created_by: uuid.UUID


def assessment_json(report: bytes, new_id: uuid.UUID, created_at: dt.datetime, by: uuid.UUID, inputs: bytes) -> bytes:
    """The JSON of the :class:`Assessment` of a report and inputs encoded for storage, without encoding them again.

    The same bytes as encoding the Assessment (a test compares them): its fields are the report's, then ``id``,
    ``created_at``, ``created_by`` and ``inputs``, and msgspec writes an object's fields in their order.
    """
    added = store.json_encoder.encode(_Stored(new_id, created_at, by))
    return b"".join((report[:-1], b",", added[1:-1], b',"inputs":', inputs, b"}"))


def _assessment(
    body: ReportBody, new_id: uuid.UUID, created_at: dt.datetime, by: uuid.UUID, inputs: dict[str, Any]
) -> Assessment:
    fields = {f: getattr(body, f) for f in body.__struct_fields__}
    return Assessment(**fields, id=new_id, created_at=created_at, created_by=by, inputs=inputs)


async def _may_read(conn: Conn, actor: Principal, enterprise_id: uuid.UUID) -> bool:
    if actor.is_operator:
        return True
    if actor.role == "enterprise":
        return actor.organisation_id == enterprise_id
    if actor.role == "bank":
        consent = await conn.fetchval("SELECT consent_share FROM enterprises WHERE organisation_id = $1", enterprise_id)
        return bool(consent)
    return False


async def get_assessment(pool: Pool, actor: Principal, assessment_id: uuid.UUID, lang: Lang) -> Assessment:
    """One report; enterprises see their own, banks those of consenting enterprises (audited)."""
    async with pool.acquire() as conn:
        found = await store.get_assessment(conn, assessment_id, lang)
        if found is None or not await _may_read(conn, actor, found[0]["enterprise_id"]):
            raise NotFound("评估报告不存在 / assessment not found")
        if actor.role == "bank":
            await _audit(conn, actor, "assessment.read", "assessment", str(assessment_id))
    row, report = found
    body = _report_decoder.decode(report)
    return _assessment(body, row["id"], row["created_at"], row["created_by_org"], msgspec.json.decode(row["inputs"]))


async def list_assessments(
    pool: Pool, actor: Principal, credit_code: str | None, cursor: str | None, limit: int
) -> AssessmentPage:
    """An enterprise's reports, newest first."""
    async with pool.acquire() as conn:
        if credit_code is None:
            if actor.role != "enterprise":
                raise InvalidInput("enterprise", "须指定企业 / name the enterprise")
            credit_code = actor.credit_code
        row = await store.enterprise_row(conn, credit_code.upper())
        if row is None or row["kind"] != "enterprise" or not await _may_read(conn, actor, row["id"]):
            raise NotFound("企业不存在 / enterprise not found")
        after = decode_cursor(cursor, "tu")
        rows = await store.list_assessments(conn, row["id"], after, limit)
        if actor.role == "bank":
            await _audit(conn, actor, "assessment.listed", "enterprise", credit_code.upper())
    more = len(rows) > limit
    items = [
        msgspec.convert({**dict(r), "enterprise": r["enterprise"].strip()}, AssessmentSummary) for r in rows[:limit]
    ]
    nxt = encode_cursor([items[-1].created_at.isoformat(), str(items[-1].id)]) if more else None
    return AssessmentPage(items, nxt)


# --- coefficient sets -------------------------------------------------------------------------------------


async def list_coefficient_sets(pool: Pool) -> list[CoefficientSetInfo]:
    async with pool.acquire() as conn:
        await store.ensure_default_set(conn)
        return await store.list_sets(conn)


_VERSION = re.compile(r"^[A-Za-z0-9._\-/+]{1,64}$")


def _known_version(version: str) -> str:
    if not _VERSION.match(version):
        raise NotFound("系数集不存在 / coefficient set not found")
    return version


async def get_coefficient_set(pool: Pool, version: str) -> CoefficientSetOut:
    _known_version(version)
    async with pool.acquire() as conn:
        await store.ensure_default_set(conn)
        row = await store.get_set_row(conn, version)
        if row is None:
            raise NotFound("系数集不存在 / coefficient set not found")
        active = await store.active_version(conn)
    doc = msgspec.json.decode(row["document"], type=CoefficientSet)
    return CoefficientSetOut(
        row["version"], row["note"], row["version"] == active, row["created_at"], row["created_by"], document=doc
    )


async def create_coefficient_set(pool: Pool, actor: Principal, data: CoefficientSetCreate) -> CoefficientSetOut:
    """Store a new version after checking its cross-field rules (422 naming the field)."""
    try:
        validate_coefficients(data.document)
    except ValuationInputError as exc:
        raise InvalidInput(f"document.{exc.field}", exc.message) from None
    async with pool.acquire() as conn, conn.transaction():
        await store.ensure_default_set(conn)
        if not await store.insert_set(conn, data.document, data.note, actor.organisation_id):
            raise Conflict(f"系数集版本 {data.document.version} 已存在 / version already exists")
        await _audit(conn, actor, "coefficients.created", "coefficient_set", data.document.version, note=data.note)
    return await get_coefficient_set(pool, data.document.version)


async def activate_coefficient_set(pool: Pool, actor: Principal, version: str) -> CoefficientSetOut:
    _known_version(version)
    async with pool.acquire() as conn, conn.transaction():
        await store.ensure_default_set(conn)
        if await store.get_set_row(conn, version) is None:
            raise NotFound("系数集不存在 / coefficient set not found")
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('coefficient_activations'))")
        await store.activate(conn, version, actor.organisation_id)
        await _audit(conn, actor, "coefficients.activated", "coefficient_set", version)
    return await get_coefficient_set(pool, version)


# --- market transactions ----------------------------------------------------------------------------------


async def _scores_of(conn: OneConn, number: str, day: dt.date, coeffs: CoefficientSet) -> list[float]:
    """The indicator scores of a registered patent at the transaction date."""
    batch, rows, _ = await store.enterprise_facts(conn, day, None, [number], coeffs)
    if rows.size == 0:
        raise InvalidInput("patent_number", "专利未登记 / patent is not registered")
    filed = COPY_EPOCH + dt.timedelta(days=int(rows["filing_date"][0]))
    if filed > day:
        message = f"交易日期早于该专利的申请日 {filed} / the date is before the patent's filing date {filed}"
        raise InvalidInput("date", message)
    scores: list[float] = value_degrees(batch, coeffs).scores[0].round(4).tolist()
    return scores


async def _insert_transaction(conn: OneConn, actor: Principal, data: TransactionCreate) -> uuid.UUID:
    scores = data.indicator_scores
    if scores is None:
        assert data.patent_number is not None
        scores = await _scores_of(conn, data.patent_number, data.date, await store.active_coefficients(conn))
    return await store.insert_transaction(
        conn,
        (
            data.kind,
            data.chain,
            data.date,
            data.price,
            data.revenue,
            data.patent_number,
            scores,
            data.note,
            actor.organisation_id,
        ),
    )


async def create_transaction(pool: Pool, actor: Principal, data: TransactionCreate) -> Transaction:
    async with pool.acquire() as conn, conn.transaction():
        tx_id = await _insert_transaction(conn, actor, data)
        await _audit(conn, actor, "transaction.created", "market_transaction", str(tx_id))
        found = await store.get_transaction(conn, tx_id)
    assert found is not None
    return found


async def import_transactions(pool: Pool, actor: Principal, body: bytes) -> TransactionImport:
    """Import a JSON list: each good row lands (in its own savepoint), each bad row is listed with its field."""
    raw = decode_json(body)
    if not isinstance(raw, list) or not 1 <= len(raw) <= 10_000:
        raise InvalidInput("body", "须为 1-10000 行的 JSON 数组 / a JSON list of 1 to 10000 rows")
    rejected: list[RowError] = []
    imported = 0
    async with pool.acquire() as conn, conn.transaction():
        for n, item in enumerate(raw, start=1):
            try:
                data = msgspec.convert(item, TransactionCreate, strict=True)
                nul = nul_path(item, "")
                if nul is not None:
                    raise InvalidInput(nul or "row", "不能包含 NUL 字符 / must not contain NUL characters")
                async with conn.transaction():
                    await _insert_transaction(conn, actor, data)
                imported += 1
            except (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError):  # savepoint rolled back
                rejected.append(RowError(n, [{"field": "row", "message": UNSTORABLE}]))
            except msgspec.ValidationError as exc:
                from ipledge.errors import msgspec_field_error

                err = msgspec_field_error(exc)
                rejected.append(RowError(n, [{"field": err.field, "message": err.message}]))
            except InvalidInput as exc:
                rejected.append(RowError(n, [{"field": e.field, "message": e.message} for e in exc.errors]))
        await _audit(
            conn,
            actor,
            "transactions.imported",
            "market_transaction",
            "import",
            imported=imported,
            rejected=len(rejected),
        )
    return TransactionImport(len(raw), imported, rejected)


async def list_transactions(pool: Pool, chain: str | None, cursor: str | None, limit: int) -> TransactionPage:
    after = decode_cursor(cursor, "tu")
    rows = await store.list_transactions(pool, chain, after, limit)
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor([rows[-1].created_at.isoformat(), str(rows[-1].id)]) if more else None
    return TransactionPage(rows, nxt)


__all__ = ["Valued"]
