"""Opaque keyset cursors: base64url JSON of the last row's sort key."""

from __future__ import annotations

import base64
from typing import Any

import msgspec

from ipledge.errors import InvalidInput


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(key)).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int) -> list[Any] | None:
    """Decode a cursor from the client; a tampered or foreign cursor is a 422 on ``cursor``."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = msgspec.json.decode(raw)
    except (ValueError, msgspec.DecodeError):
        raise InvalidInput("cursor", "无效的分页游标 / invalid cursor") from None
    if not isinstance(key, list) or len(key) != arity:
        raise InvalidInput("cursor", "无效的分页游标 / invalid cursor")
    return key
