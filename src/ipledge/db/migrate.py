"""Numbered SQL migrations applied in order, under an advisory lock, each in its own transaction.

Each applied migration is recorded with the sha256 of its file. Editing an applied migration is an
error at start-up: the database no longer matches what the files say it is.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from ipledge.db.pool import keeps_session_state
from ipledge.db.types import OneConn

log = logging.getLogger("ipledge.db")

_LOCK_KEY = 0x1B1ED6E  # arbitrary, fixed: serialises migrators across processes
_NAME_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(RuntimeError):
    """The migrations on disk and in the database disagree."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def migrations_dir() -> Path:
    """Where the migration files are: the source checkout, or inside the installed wheel."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[3] / "sql" / "migrations", here.parents[1] / "sql" / "migrations"):
        if candidate.is_dir():
            return candidate
    raise MigrationError("sql/migrations not found")


def load_migrations(directory: Path | None = None) -> list[Migration]:
    """Read and order the migration files; numbers must be unique and contiguous from 1."""
    directory = directory or migrations_dir()
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME_RE.match(path.name)
        if not match:
            raise MigrationError(f"bad migration file name: {path.name} (want NNNN_name.sql)")
        found.append(Migration(int(match.group(1)), match.group(2), path.read_text(encoding="utf-8")))
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise MigrationError(f"migration {expected:04d} is missing (found {migration.version:04d})")
    return found


_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)
"""


async def applied(conn: OneConn) -> dict[int, tuple[str, str]]:
    """Version → (name, checksum) of what the database says is applied."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return {}
    rows = await conn.fetch("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
    return {r["version"]: (r["name"], r["checksum"]) for r in rows}


def _verify(done: dict[int, tuple[str, str]], migrations: list[Migration]) -> list[Migration]:
    by_version = {m.version: m for m in migrations}
    for version, (name, checksum) in done.items():
        migration = by_version.get(version)
        if migration is None:
            raise MigrationError(f"database has migration {version:04d}_{name} that is not on disk (newer code?)")
        if migration.checksum != checksum:
            raise MigrationError(
                f"migration {version:04d}_{name} was edited after it was applied "
                f"(checksum {checksum[:12]} in the database, {migration.checksum[:12]} on disk); "
                "write a new migration instead"
            )
    return [m for m in migrations if m.version not in done]


async def migrate(conn: OneConn, migrations: list[Migration] | None = None) -> list[str]:
    """Apply pending migrations; return the names applied. Safe to call from many processes at once."""
    migrations = load_migrations() if migrations is None else migrations
    keeps_session_state(conn)  # the lock is the session's: a pooled connection is reset when it goes back
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(_BOOKKEEPING)
        pending = _verify(await applied(conn), migrations)
        names: list[str] = []
        for migration in pending:
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
            names.append(f"{migration.version:04d}_{migration.name}")
            log.info("applied migration", extra={"migration": names[-1]})
        return names
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)


async def pending_migrations(conn: OneConn) -> list[str]:
    """Names of migrations on disk not yet applied (raises if the applied ones were edited)."""
    pending = _verify(await applied(conn), load_migrations())
    return [f"{m.version:04d}_{m.name}" for m in pending]
