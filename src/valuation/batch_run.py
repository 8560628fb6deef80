"""The batch command: value every patent (or an enterprise chain / province) database to database.

One binary ``COPY (feature query) TO STDOUT`` streams the patents ordered by (owner, number); rows
are cut into chunks at owner boundaries (an enterprise's product royalty is shared among all its
patents, so they are valued together), each chunk is valued by the vectorised core and written
with a binary ``COPY … FROM STDIN`` into ``patent_valuations``. The run's checkpoint (the last
owner and number written) moves in the same transaction as the chunk's rows: a crash loses at most
the chunk in flight, never leaves half of one, and ``--resume`` continues after the checkpoint with
no duplicate (the primary key is (run, number)) and no gap (the order is total).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ipledge.db.pool import keeps_session_state
from ipledge.db.types import Pool
from valuation import store
from valuation.coefficients import CoefficientSet
from valuation.copybin import HEADER, TRAILER, decode_rows, encode_rows, numeric_18_2, row_dtype
from valuation.features import (
    CHAINS_PARAM,
    COUNT_SQL,
    ENTERPRISE_FIELDS,
    EVENT_FIELDS,
    NIL_OWNER,
    PATENT_FIELDS,
    SideTables,
    enterprises_sql,
    events_sql,
    patents_sql,
    rows_to_batch,
)
from valuation.market import Transactions
from valuation.pipeline import MODEL_VERSION, value_batch

RESULT_COLUMNS = (
    "run_id",
    "number",
    "value_degree",
    "legal",
    "technical",
    "economic",
    "grade",
    "confidence",
    "value_low",
    "value_base",
    "value_high",
)
_NUMERIC = numeric_18_2(np.zeros(0)).dtype
_RESULT_FIELDS = [
    ("run_id", ">i8", 8),
    ("number", "S14", 14),
    ("value_degree", ">f4", 4),
    ("legal", ">f4", 4),
    ("technical", ">f4", 4),
    ("economic", ">f4", 4),
    ("grade", ">i2", 2),
    ("confidence", ">f4", 4),
]
_WITH_VALUE = [*_RESULT_FIELDS, ("value_low", _NUMERIC, 18), ("value_base", _NUMERIC, 18), ("value_high", _NUMERIC, 18)]
_WITHOUT_VALUE = [
    *_RESULT_FIELDS,
    ("value_low", _NUMERIC, -1),
    ("value_base", _NUMERIC, -1),
    ("value_high", _NUMERIC, -1),
]
_NIL = np.void(bytes(16))


class InjectedFailure(RuntimeError):
    """Raised between chunks when a test asks the run to fail (``fail_after_chunks``)."""


class RunRefused(RuntimeError):
    """A run that cannot be worked on now: another process is on it, or its reference data changed since it began."""


@dataclasses.dataclass
class RunInfo:
    id: int
    as_of: dt.date
    coefficient_version: str
    total: int
    done: int
    resumed: bool


def encode_results(run_id: int, numbers: NDArray[np.bytes_], v: Any) -> bytes:
    """Binary COPY rows of one chunk's results (a NULL value range where no method applies)."""
    rec = v.reconciled
    has = np.isfinite(rec.base)
    d = v.degrees
    columns: dict[str, NDArray[Any]] = {
        "run_id": np.full(numbers.shape[0], run_id, np.int64),
        "number": numbers,
        "value_degree": d.V,
        "legal": d.L,
        "technical": d.T,
        "economic": d.E,
        "grade": d.grade.astype(np.int16),
        "confidence": d.confidence,
        "value_low": numeric_18_2(np.nan_to_num(rec.low)),
        "value_base": numeric_18_2(np.nan_to_num(rec.base)),
        "value_high": numeric_18_2(np.nan_to_num(rec.high)),
    }
    out = encode_rows({k: c[has] for k, c in columns.items()}, _WITH_VALUE)
    if not has.all():
        out += encode_rows({k: c[~has] for k, c in columns.items()}, _WITHOUT_VALUE)
    return out


def chunk_end(owner: NDArray[np.void], chunk: int, final: bool) -> int:
    """Where to cut the rows available: at ``chunk`` rows, moved forward to the end of that owner's run.

    Returns 0 when more rows must arrive first (the owner's run may continue past what is available).
    """
    n = owner.shape[0]
    if n == 0 or (n < chunk and not final):
        return int(n) if final else 0
    k = int(min(chunk, n))
    last = owner[k - 1]
    if last == _NIL:
        return k
    later = np.flatnonzero(owner[k:] != last)
    if later.size:
        return k + int(later[0])
    return int(n) if final else 0


class BatchRunner:
    """Streams, values and writes one run; see the module docstring.

    The COPY reader only cuts whole-owner chunks and queues them (at most two ahead); a second task
    values each chunk in a worker thread and writes it, so reading, computing and writing overlap.
    """

    def __init__(
        self,
        pool: Pool,
        run: RunInfo,
        coeffs: CoefficientSet,
        side: SideTables,
        transactions: Transactions | None,
        chunk: int,
        progress: Callable[[int, int], None] | None = None,
        fail_after_chunks: int | None = None,
        pause: float = 0.0,
    ) -> None:
        self.pool, self.run, self.coeffs = pool, run, coeffs
        self.side, self.transactions, self.chunk = side, transactions, chunk
        self.progress, self.fail_after_chunks, self.pause = progress, fail_after_chunks, pause
        self.dtype = row_dtype(PATENT_FIELDS)
        self.buffer = bytearray()
        self.header_seen = False
        self.chunks_written = 0
        self.queue: asyncio.Queue[NDArray[np.void] | None] = asyncio.Queue(maxsize=2)
        self.unowned = False

    async def _sink(self, data: bytes) -> None:
        self.buffer += data
        if not self.header_seen and len(self.buffer) >= len(HEADER):
            del self.buffer[: len(HEADER)]
            self.header_seen = True
        if self.header_seen:
            await self._drain(final=False)

    async def _drain(self, final: bool) -> None:
        size = self.dtype.itemsize
        while True:
            available = len(self.buffer) // size
            if available == 0:
                return
            view = np.frombuffer(self.buffer, dtype=self.dtype, count=available)
            owners = view["owner"].copy()
            del view  # release the export so the buffer can shrink
            end = chunk_end(owners, self.chunk, final)
            if end == 0:
                return
            rows = decode_rows(bytes(self.buffer[: end * size]), PATENT_FIELDS)
            del self.buffer[: end * size]
            await self.queue.put(rows)

    async def _writer(self, conn: Any) -> None:
        while (rows := await self.queue.get()) is not None:
            await self._write_chunk(conn, rows)

    async def _write_chunk(self, conn: Any, rows: NDArray[np.void]) -> None:
        payload = await asyncio.to_thread(self._compute, rows)
        last_owner = uuid.UUID(bytes=bytes(rows["owner"][-1]))  # the nil owner marks the unowned phase
        last_number = rows["number"][-1].decode()
        async with conn.transaction():
            await conn.copy_to_table(
                "patent_valuations", source=io.BytesIO(payload), columns=RESULT_COLUMNS, format="binary"
            )
            await conn.execute(
                "UPDATE valuation_runs SET done = done + $2, chunks = chunks + 1, checkpoint_owner = $3,"
                " checkpoint_number = $4, updated_at = now() WHERE id = $1",
                self.run.id,
                rows.shape[0],
                last_owner,
                last_number,
            )
        self.run.done += rows.shape[0]
        self.chunks_written += 1
        if self.progress is not None:
            self.progress(self.run.done, self.run.total)
        if self.fail_after_chunks is not None and self.chunks_written >= self.fail_after_chunks:
            raise InjectedFailure(f"injected failure after {self.chunks_written} chunks")
        if self.pause:
            await asyncio.sleep(self.pause)

    def _compute(self, rows: NDArray[np.void]) -> bytes:
        batch, _ = rows_to_batch(rows, self.side, self.run.as_of, self.coeffs.rules.citations.min_cohort)
        v = value_batch(batch, self.run.as_of, self.coeffs, "pledge", self.transactions)
        return HEADER + encode_results(self.run.id, rows["number"], v) + TRAILER

    async def _read(self, reader: Any, chain: str | None, province: str | None, owner: Any, number: Any) -> None:
        phases = [] if owner == uuid.UUID(NIL_OWNER) else [("owned", owner, number)]
        phases.append(("unowned", None, number if owner == uuid.UUID(NIL_OWNER) else None))
        for kind, after_owner, after_number in phases:
            self.buffer.clear()
            self.header_seen = False
            await reader.copy_from_query(
                patents_sql(kind), self.run.as_of, CHAINS_PARAM, chain, province, after_owner, after_number,
                output=self._sink, format="binary",
            )  # fmt: skip
            if len(self.buffer) >= len(TRAILER) and self.buffer[-len(TRAILER) :] == TRAILER:
                del self.buffer[-len(TRAILER) :]
            await self._drain(final=True)
            if self.buffer:
                raise RuntimeError("binary COPY stream ended inside a row")
        await self.queue.put(None)

    async def execute(self, chain: str | None, province: str | None) -> None:
        """Stream from the checkpoint to the end, then mark the run completed."""
        async with self.pool.acquire() as reader, self.pool.acquire() as writer:
            ck = await writer.fetchrow(
                "SELECT checkpoint_owner, checkpoint_number FROM valuation_runs WHERE id = $1", self.run.id
            )
            assert ck is not None
            read = asyncio.ensure_future(self._read(reader, chain, province, ck[0], ck[1]))
            write = asyncio.ensure_future(self._writer(writer))
            try:
                await asyncio.gather(read, write)
            except BaseException:
                for task in (read, write):
                    task.cancel()
                await asyncio.gather(read, write, return_exceptions=True)
                reader.terminate()  # a COPY abandoned mid-stream would otherwise wait out the command timeout
                raise
            await writer.execute(
                "UPDATE valuation_runs SET status = 'completed', finished_at = now(), updated_at = now() WHERE id = $1",
                self.run.id,
            )


async def start_or_resume(
    pool: Pool, chain: str | None, province: str | None, chunk: int, resume: bool, as_of: dt.date | None = None
) -> RunInfo:
    """The run to work on: the latest unfinished one with the same filter (``resume``), else a new one."""
    async with pool.acquire() as conn:
        if resume:
            row = await conn.fetchrow(
                "SELECT id, as_of, coefficient_version, total, done FROM valuation_runs WHERE status = 'running'"
                " AND chain_code IS NOT DISTINCT FROM $1 AND province_code IS NOT DISTINCT FROM $2"
                " ORDER BY id DESC LIMIT 1",
                chain,
                province,
            )
            if row is not None:
                return RunInfo(row["id"], row["as_of"], row["coefficient_version"], row["total"], row["done"], True)
        day = as_of or dt.datetime.now(dt.UTC).date()
        coeffs = await store.active_coefficients(conn)
        async with conn.transaction():
            await store.ensure_default_set(conn)
            await store.refresh_cohorts(conn)
        total = await conn.fetchval(COUNT_SQL, day, CHAINS_PARAM, chain, province, None, None)
        run_id = await conn.fetchval(
            "INSERT INTO valuation_runs (chain_code, province_code, as_of, coefficient_version, model_version,"
            " chunk_size, total) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            chain,
            province,
            day,
            coeffs.version,
            MODEL_VERSION,
            chunk,
            total,
        )
        return RunInfo(run_id, day, coeffs.version, total, 0, False)


async def run_batch(
    pool: Pool,
    *,
    chain: str | None = None,
    province: str | None = None,
    chunk: int = 50_000,
    resume: bool = False,
    as_of: dt.date | None = None,
    progress: Callable[[int, int], None] | None = None,
    fail_after_chunks: int | None = None,
    pause: float = 0.0,
    on_start: Callable[[RunInfo], None] | None = None,
) -> RunInfo:
    """Value the selected patents into ``patent_valuations``; returns the run (its final counts)."""
    run = await start_or_resume(pool, chain, province, chunk, resume, as_of)
    # One process per run: a second one resuming the same run is told so (the lock goes with the connection).
    async with pool.acquire() as holder:
        keeps_session_state(holder)  # the lock is the session's: released with a full reset, whatever happens
        if not await holder.fetchval("SELECT pg_try_advisory_lock(hashtext('valuation_runs'), $1::int)", run.id):
            raise RunRefused(f"批量估值 {run.id} 正由另一进程执行 / run {run.id} is being worked on by another process")
        try:
            if on_start is not None:
                on_start(run)
            async with pool.acquire() as conn:
                coeffs = await store.coefficient_set(conn, run.coefficient_version)
                assert coeffs is not None
                # The side tables and their token in one snapshot; a resumed run must find the token it began with.
                async with conn.transaction(isolation="repeatable_read", readonly=True):
                    token = await conn.fetchval("SELECT token FROM valuation_reference_state")
                    events = await store.copy_rows(conn, events_sql(False), EVENT_FIELDS, run.as_of)
                    enterprises = await store.copy_rows(conn, enterprises_sql(False), ENTERPRISE_FIELDS, CHAINS_PARAM)
                    medians, cohorts = await store.medians(conn), await store.all_cohorts(conn)
                    transactions = await store.market_transactions(conn, run.as_of, coeffs.market.window_years)
                recorded = await conn.fetchval(
                    "UPDATE valuation_runs SET reference_token = coalesce(reference_token, $2) WHERE id = $1"
                    " RETURNING reference_token",
                    run.id,
                    token,
                )
            if recorded != token:
                raise RunRefused(
                    f"批量估值 {run.id} 开始后参考数据（可比交易、引证分组、销售额）已变化，请重新开始（不带 --resume）"
                    f" / the reference data (market transactions, citation cohorts, sales) changed since run {run.id}"
                    " began: start a new run (without --resume)"
                )
            side = SideTables.build(events, enterprises, medians, cohorts)
            runner = BatchRunner(pool, run, coeffs, side, transactions, chunk, progress, fail_after_chunks, pause)
            await runner.execute(chain, province)
        finally:
            await holder.execute("SELECT pg_advisory_unlock(hashtext('valuation_runs'), $1::int)", run.id)
    return run


__all__ = ["NIL_OWNER", "InjectedFailure", "RunInfo", "RunRefused", "run_batch"]
