"""The asyncpg pool: one per process, with JSON codecs backed by msgspec."""

from __future__ import annotations

import weakref
from typing import Any

import asyncpg
import msgspec

_encoder = msgspec.json.Encoder()

# Connections whose session state the code changed (the batch run's and the migrations' session advisory locks,
# the webhook worker's claiming session setting and its LISTEN): their release runs asyncpg's full reset.
_session_state: weakref.WeakSet[asyncpg.Connection[Any]] = weakref.WeakSet()


def _encode_json(value: Any) -> str:
    return _encoder.encode(value).decode()


async def init_connection(conn: asyncpg.Connection[Any]) -> None:
    """Register codecs so json/jsonb columns read and write Python objects."""
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(typename, encoder=_encode_json, decoder=msgspec.json.decode, schema="pg_catalog")


def keeps_session_state(conn: Any) -> None:
    """Mark a pooled connection whose session state the caller changes (a session-level advisory lock, say).

    Its release then runs asyncpg's full reset (``pg_advisory_unlock_all``, ``CLOSE ALL``, ``UNLISTEN *``,
    ``RESET ALL``) before another request gets it. Transaction-level state (``SET LOCAL``,
    ``pg_advisory_xact_lock``) needs no mark: it ends with its transaction.
    """
    _session_state.add(getattr(conn, "_con", conn))  # the connection behind a pool's proxy


async def _reset(conn: asyncpg.Connection[Any]) -> None:
    """Reset a connection on release, without a round trip when nothing needs it.

    asyncpg has rolled back a transaction left open before this runs. Its default reset then sends the reset
    query on every release: one more round trip per request, the client's and the server's CPU for nothing
    (~2% more assessments per second without it, side by side). Our code keeps no session state except where
    :func:`keeps_session_state` marks it, so only those connections are reset.
    """
    if conn in _session_state:
        _session_state.discard(conn)
        await conn.execute(conn.get_reset_query())


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool[Any]:
    """Open a pool with our codecs and UTC sessions."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=init_connection,
        server_settings={"timezone": "UTC", "application_name": "ipledge"},
        command_timeout=60,
        reset=_reset,
    )
    assert pool is not None
    return pool
