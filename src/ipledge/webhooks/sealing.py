"""Endpoint secrets at rest: Fernet-encrypted when ``IPLEDGE_SECRET_KEY`` is set, else marked plain.

A sealed value is ``"fernet:<token>"`` or ``"plain:<secret>"``. A valid Fernet key (urlsafe base64
of 32 bytes) is used as is; any other non-empty string is stretched with SHA-256 into one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.fernet import Fernet, InvalidToken

_FERNET = "fernet:"
_PLAIN = "plain:"


class SealError(RuntimeError):
    """A stored secret cannot be opened (wrong or missing ``IPLEDGE_SECRET_KEY``)."""


def _fernet(secret_key: str) -> Fernet:
    try:
        if len(base64.urlsafe_b64decode(secret_key.encode())) == 32:
            return Fernet(secret_key.encode())
    except (binascii.Error, ValueError):
        pass
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret_key.encode()).digest()))


def seal(secret: str, secret_key: str | None) -> str:
    """Encrypt ``secret`` for storage (or mark it plain when no key is configured)."""
    if not secret_key:
        return _PLAIN + secret
    return _FERNET + _fernet(secret_key).encrypt(secret.encode()).decode()


def unseal(sealed: str, secret_key: str | None) -> str:
    """Return the secret from a sealed value.

    Raises:
        SealError: If the value is encrypted and the key is missing or wrong.
    """
    if sealed.startswith(_PLAIN):
        return sealed[len(_PLAIN) :]
    if not sealed.startswith(_FERNET):
        raise SealError("unknown sealed secret format")
    if not secret_key:
        raise SealError("webhook secret is encrypted but IPLEDGE_SECRET_KEY is not set")
    try:
        return _fernet(secret_key).decrypt(sealed[len(_FERNET) :].encode()).decode()
    except InvalidToken as exc:
        raise SealError("webhook secret cannot be decrypted with IPLEDGE_SECRET_KEY") from exc
