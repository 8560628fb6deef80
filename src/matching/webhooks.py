"""Standard Webhooks signing (standardwebhooks.com): endpoint secrets and signature headers.

Usage::

    secret = generate_secret()                       # "whsec_…", shown once
    headers = signed_headers(msg_id, int(now.timestamp()), body, [secret])
    # POST body with headers; during rotation pass [new_secret, old_secret]

The signature is ``v1,`` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")) where ``key`` is
the base64-decoded part of the secret after ``whsec_``; several live secrets give several
signatures separated by spaces. Any Standard Webhooks library verifies these headers.
Retry timing and response handling are in :mod:`matching.delivery`, the URL guard in
:mod:`matching.ssrf`.
"""

import base64
import binascii
import hashlib
import hmac
import secrets as _secrets
from collections.abc import Callable, Sequence

SECRET_PREFIX = "whsec_"
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64


class InvalidSecretError(ValueError):
    """A webhook secret that is not ``whsec_`` + base64 of 24-64 bytes."""


def generate_secret(n_bytes: int = 32, random_bytes: Callable[[int], bytes] = _secrets.token_bytes) -> str:
    """Create a new endpoint secret.

    Args:
        n_bytes: Key length, 24-64 bytes.
        random_bytes: Source of randomness (the OS CSPRNG unless a test injects one).

    Returns:
        ``"whsec_" + base64(key)``.

    Raises:
        InvalidSecretError: If ``n_bytes`` is outside 24-64.
    """
    if not MIN_SECRET_BYTES <= n_bytes <= MAX_SECRET_BYTES:
        raise InvalidSecretError(f"secret length must be {MIN_SECRET_BYTES}-{MAX_SECRET_BYTES} bytes, got {n_bytes}")
    return SECRET_PREFIX + base64.b64encode(random_bytes(n_bytes)).decode("ascii")


def decode_secret(secret: str) -> bytes:
    """Return the HMAC key of a ``whsec_`` secret, validating its form.

    Raises:
        InvalidSecretError: If the prefix is missing, the base64 is malformed or the key length
            is outside 24-64 bytes.
    """
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidSecretError(f"secret must start with {SECRET_PREFIX!r}")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSecretError("secret is not valid base64") from exc
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise InvalidSecretError(f"secret key must be {MIN_SECRET_BYTES}-{MAX_SECRET_BYTES} bytes, got {len(key)}")
    return key


def _as_bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


def sign(msg_id: str, timestamp: int, body: bytes | str, secrets: Sequence[str]) -> str:
    """Compute the ``webhook-signature`` header value.

    Args:
        msg_id: The message id (``webhook-id``), stable across retries.
        timestamp: Unix seconds (UTC) of this attempt (``webhook-timestamp``).
        body: The exact bytes sent (a str is encoded as UTF-8).
        secrets: The endpoint's live secrets, newest first; each yields one signature.

    Returns:
        ``"v1,<b64>"`` or, with several secrets, ``"v1,<b64> v1,<b64>"``.

    Raises:
        InvalidSecretError: If a secret is malformed or no secret is given.
    """
    if not secrets:
        raise InvalidSecretError("at least one secret is needed to sign")
    payload = f"{msg_id}.{int(timestamp)}.".encode() + _as_bytes(body)
    signatures = []
    for secret in secrets:
        digest = hmac.new(decode_secret(secret), payload, hashlib.sha256).digest()
        signatures.append("v1," + base64.b64encode(digest).decode("ascii"))
    return " ".join(signatures)


def signed_headers(msg_id: str, timestamp: int, body: bytes | str, secrets: Sequence[str]) -> dict[str, str]:
    """Return the three Standard Webhooks headers for one delivery attempt."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp)),
        "webhook-signature": sign(msg_id, timestamp, body, secrets),
    }
