"""Opaque keyset cursors: base64url JSON of the last row's sort key."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import msgspec

from ipledge.errors import InvalidInput


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(key)).decode().rstrip("=")


def _is_text(value: Any, parse: Callable[[str], Any]) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parse(value)
    except (ValueError, OverflowError):
        return False
    return True


def _timestamp(text: str) -> dt.datetime:
    """An ISO timestamp PostgreSQL can hold: in UTC it stays within years 1-9999 (else OverflowError)."""
    value = dt.datetime.fromisoformat(text)
    return value.astimezone(dt.UTC) if value.tzinfo is not None else value


#: What each position of a cursor may hold: t an ISO timestamp, d an ISO date, u a UUID (each as text),
#: i a non-negative 64-bit integer, s text without NUL (what PostgreSQL can take).
_KINDS: dict[str, Callable[[Any], bool]] = {
    "t": lambda v: _is_text(v, _timestamp),
    "d": lambda v: _is_text(v, dt.date.fromisoformat),
    "u": lambda v: _is_text(v, uuid.UUID),
    "i": lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**63,
    "s": lambda v: isinstance(v, str) and "\x00" not in v,
}


def decode_cursor(cursor: str | None, kinds: str) -> list[Any] | None:
    """Decode a cursor from the client; a tampered or foreign cursor is a 422 on ``cursor``.

    ``kinds`` names what each position holds (see :data:`_KINDS`, e.g. ``"tu"`` for a timestamp and an id), so
    what the caller converts afterwards is known to convert.
    """
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = msgspec.json.decode(raw)
    except (ValueError, msgspec.DecodeError):
        raise InvalidInput("cursor", "无效的分页游标 / invalid cursor") from None
    if not isinstance(key, list) or len(key) != len(kinds):
        raise InvalidInput("cursor", "无效的分页游标 / invalid cursor")
    if not all(_KINDS[kind](value) for kind, value in zip(kinds, key, strict=True)):
        raise InvalidInput("cursor", "无效的分页游标 / invalid cursor")
    return key
