"""The asyncpg pool: one per process, with JSON codecs backed by msgspec."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

_encoder = msgspec.json.Encoder()


def _encode_json(value: Any) -> str:
    return _encoder.encode(value).decode()


async def init_connection(conn: asyncpg.Connection[Any]) -> None:
    """Register codecs so json/jsonb columns read and write Python objects."""
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(typename, encoder=_encode_json, decoder=msgspec.json.decode, schema="pg_catalog")


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool[Any]:
    """Open a pool with our codecs and UTC sessions."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=init_connection,
        server_settings={"timezone": "UTC", "application_name": "ipledge"},
        command_timeout=60,
    )
    assert pool is not None
    return pool
