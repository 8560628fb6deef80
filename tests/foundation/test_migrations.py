"""Migrations: a fresh database equals all migrations applied; edits and gaps are refused."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from ipledge.db.migrate import Migration, MigrationError, load_migrations, migrate, pending_migrations
from tests.conftest import with_database

SNAPSHOT = Path(__file__).resolve().parents[2] / "sql" / "schema.snapshot"

_CATALOG = [
    """SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' null=' || is_nullable
              || ' default=' || coalesce(column_default, '-')
       FROM information_schema.columns WHERE table_schema = 'public'""",
    """SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
       FROM pg_constraint WHERE connamespace = 'public'::regnamespace""",
    """SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = 'public'""",
    """SELECT 'trigger ' || tgrelid::regclass || ' ' || tgname FROM pg_trigger WHERE NOT tgisinternal""",
    """SELECT 'function ' || proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace""",
]


async def schema_of(conn: Any) -> str:
    lines: list[str] = []
    for query in _CATALOG:
        lines += [r[0] for r in await conn.fetch(query)]
    return "\n".join(sorted(lines)) + "\n"


@pytest.fixture
async def empty_db(admin_dsn: str) -> AsyncIterator[str]:
    name = "m_" + uuid.uuid4().hex[:12]
    conn = await asyncpg.connect(admin_dsn)
    await conn.execute(f"CREATE DATABASE {name}")
    try:
        yield with_database(admin_dsn, name)
    finally:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await conn.close()


async def test_fresh_database_equals_all_migrations_applied(empty_db: str) -> None:
    conn = await asyncpg.connect(empty_db)
    try:
        applied = await migrate(conn)
        assert applied == [f"{m.version:04d}_{m.name}" for m in load_migrations()]
        schema = await schema_of(conn)
    finally:
        await conn.close()
    if os.environ.get("UPDATE_SCHEMA_SNAPSHOT") == "1":
        SNAPSHOT.write_text(schema, encoding="utf-8")
    assert schema == SNAPSHOT.read_text(encoding="utf-8"), (
        "the migrated schema differs from sql/schema.snapshot; review the change and regenerate it with "
        "UPDATE_SCHEMA_SNAPSHOT=1 pytest tests/foundation/test_migrations.py"
    )


async def test_second_run_applies_nothing_and_ready_sees_no_pending(empty_db: str) -> None:
    conn = await asyncpg.connect(empty_db)
    try:
        assert await pending_migrations(conn) == [f"{m.version:04d}_{m.name}" for m in load_migrations()]
        await migrate(conn)
        assert await migrate(conn) == []
        assert await pending_migrations(conn) == []
    finally:
        await conn.close()


async def test_concurrent_migrators_apply_each_migration_once(empty_db: str) -> None:
    conns = [await asyncpg.connect(empty_db) for _ in range(3)]
    try:
        results = await asyncio.gather(*(migrate(c) for c in conns))
        assert sorted(len(r) for r in results) == [0, 0, len(load_migrations())]
    finally:
        for c in conns:
            await c.close()


async def test_edited_applied_migration_stops_startup(empty_db: str) -> None:
    conn = await asyncpg.connect(empty_db)
    try:
        await migrate(conn)
        edited = [
            Migration(m.version, m.name, m.sql + "\n-- edited") if m.version == 1 else m for m in load_migrations()
        ]
        with pytest.raises(MigrationError, match="0001_foundation was edited"):
            await migrate(conn, edited)
        with pytest.raises(MigrationError, match="not on disk"):
            await migrate(conn, load_migrations()[:1])
    finally:
        await conn.close()


def test_migration_files_are_numbered_without_gaps(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1")
    (tmp_path / "0003_c.sql").write_text("SELECT 1")
    with pytest.raises(MigrationError, match="0002 is missing"):
        load_migrations(tmp_path)
    (tmp_path / "2_bad.sql").write_text("SELECT 1")
    with pytest.raises(MigrationError, match="bad migration file name"):
        load_migrations(tmp_path)
