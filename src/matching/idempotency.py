"""Idempotency-Key support for feedback writes: a canonical request hash and the comparison.

The store keeps, per (principal, key), the hash of the first request and its answer. A retry
with the same key and an equivalent body replays the answer; the same key with another body is
a conflict (409). JSON bodies are canonicalised (sorted keys, no insignificant whitespace), so a
client that re-serialises the same object is not punished.
"""

import hashlib
from typing import Literal

import msgspec

IdempotencyOutcome = Literal["new", "replay", "conflict"]


def canonical_body(body: bytes) -> bytes:
    """Return the canonical form of a request body: sorted-key compact JSON, or the bytes as they are."""
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return body
    return msgspec.json.encode(decoded, order="sorted")


def request_hash(method: str, path: str, body: bytes, principal: str = "") -> str:
    """Hash what makes two requests "the same" for an Idempotency-Key.

    Args:
        method: HTTP method (case-insensitive).
        path: Request path without the query string.
        body: Raw request body.
        principal: Who sent it (an API key id), so two tenants' keys never collide.

    Returns:
        A hex SHA-256 digest.
    """
    digest = hashlib.sha256()
    for part in (principal.encode(), method.upper().encode(), path.encode(), canonical_body(body)):
        digest.update(len(part).to_bytes(8, "big"))  # length-prefix: no ambiguity between parts
        digest.update(part)
    return digest.hexdigest()


def idempotency_outcome(stored_hash: str | None, new_hash: str) -> IdempotencyOutcome:
    """Compare a request with the one first stored under the same key.

    Returns:
        ``new`` when the key is unused, ``replay`` when the requests match, else ``conflict``.
    """
    if stored_hash is None:
        return "new"
    return "replay" if stored_hash == new_hash else "conflict"
