"""Open the database a process uses: the configured one, or the embedded one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import asyncpg

from ipledge.db.embedded import EmbeddedPostgres
from ipledge.db.migrate import migrate
from ipledge.db.pool import create_pool
from ipledge.settings import Settings


@asynccontextmanager
async def open_database(settings: Settings, *, run_migrations: bool = True) -> AsyncIterator[asyncpg.Pool[Any]]:
    """Yield a migrated pool; start (and finally stop) an embedded server when no URL is configured."""
    embedded: EmbeddedPostgres | None = None
    dsn = settings.database_url
    if dsn is None:
        embedded = await anyio.to_thread.run_sync(EmbeddedPostgres, settings.data_path / "pg")
        dsn = embedded.dsn()
    try:
        pool = await create_pool(dsn, min_size=settings.db_pool_min, max_size=settings.db_pool_max)
        try:
            if run_migrations:
                async with pool.acquire() as conn:
                    await migrate(conn)
            yield pool
        finally:
            await pool.close()
    finally:
        if embedded is not None:
            await anyio.to_thread.run_sync(embedded.stop)
