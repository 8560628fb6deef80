"""Type aliases for asyncpg objects (generic only in the stubs, plain classes at runtime)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg
import asyncpg.pool

if TYPE_CHECKING:
    Pool: TypeAlias = asyncpg.Pool[Any]
    Connection: TypeAlias = asyncpg.Connection[Any]
    Conn: TypeAlias = asyncpg.Connection[Any] | asyncpg.pool.PoolConnectionProxy[Any] | asyncpg.Pool[Any]
    OneConn: TypeAlias = asyncpg.Connection[Any] | asyncpg.pool.PoolConnectionProxy[Any]
else:
    Pool = asyncpg.Pool
    Connection = asyncpg.Connection
    Conn = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy | asyncpg.Pool
    OneConn = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy
