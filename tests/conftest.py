"""Shared fixtures: a real PostgreSQL for the whole run, a migrated template, one clone per test.

``TEST_DATABASE_URL`` points at a server to use; otherwise an embedded PostgreSQL is started in a
temporary directory (with a private ``XDG_RUNTIME_DIR``) and stopped at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from ipledge.app import create_app
from ipledge.db.migrate import migrate
from ipledge.db.pool import create_pool, init_connection
from ipledge.settings import Settings, load_settings

TEMPLATE = "ipledge_template"


def with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


@pytest.fixture(scope="session")
def admin_dsn() -> Iterator[str]:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    from ipledge.db.embedded import EmbeddedPostgres

    server = EmbeddedPostgres.temporary("ipledge-test-")  # its directory is removed when it stops
    # Durability is worthless for throw-away test data; speed is not.
    server.psql(
        "ALTER SYSTEM SET fsync = off; ALTER SYSTEM SET synchronous_commit = off;"
        " ALTER SYSTEM SET full_page_writes = off; SELECT pg_reload_conf();"
    )
    try:
        yield server.dsn()
    finally:
        server.stop()


@pytest.fixture(scope="session")
async def template_dsn(admin_dsn: str) -> str:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {TEMPLATE}")
    finally:
        await conn.close()
    dsn = with_database(admin_dsn, TEMPLATE)
    tconn = await asyncpg.connect(dsn)
    try:
        await init_connection(tconn)
        await migrate(tconn)
    finally:
        await tconn.close()
    return dsn


@pytest.fixture
async def db_url(admin_dsn: str, template_dsn: str) -> AsyncIterator[str]:
    """A fresh database cloned from the migrated template, dropped afterwards."""
    name = "t_" + uuid.uuid4().hex[:16]
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")
        yield with_database(admin_dsn, name)
    finally:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await conn.close()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return load_settings({}, database_url=db_url, db_pool_min=1, db_pool_max=4, log_level="WARNING")


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Any]:
    """A pool on the test database in the test's own event loop (for setup and assertions)."""
    pool = await create_pool(db_url, min_size=1, max_size=4)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient[Any]]:
    app = create_app(settings)
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


@pytest.fixture
async def world(db: Any) -> Any:
    from tests.factories import make_world

    return await make_world(db)


@pytest.fixture
async def world_codes(world: Any) -> dict[str, str]:
    return {name: actor.org.credit_code for name, actor in world.all().items()}
