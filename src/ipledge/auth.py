"""API keys and roles.

A key is ``ipk_`` + 40 random base62 characters; the first 10 characters are kept as a visible
prefix and the whole key is stored only as its SHA-256 (a fast hash is right here: the key has
~238 bits of entropy, so there is nothing to brute-force). Keys are shown once, revocable, and
carry the role of their organisation. Every handler is guarded by role.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Literal

import asyncpg
import msgspec
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from ipledge.errors import Forbidden, Unauthorized

Role = Literal["operator", "enterprise", "bank", "fund"]
ROLES: tuple[Role, ...] = ("operator", "enterprise", "bank", "fund")
_ALPHABET = string.ascii_letters + string.digits


class Principal(msgspec.Struct, frozen=True):
    """Who is calling: the organisation behind the key and its role."""

    key_id: uuid.UUID
    organisation_id: uuid.UUID
    role: Role
    status: str
    credit_code: str

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"


def new_key() -> str:
    """A fresh random API key."""
    return "ipk_" + "".join(secrets.choice(_ALPHABET) for _ in range(40))


def hash_key(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


class KeyCache:
    """Short-lived cache of key hash → principal; revocations in this process drop entries at once.

    A valid key is also kept under the very ``Authorization`` header it came in (:meth:`seen`), so a client
    sending the same header again is resolved without parsing or hashing it. The raw header stays in this
    process's memory only, for at most the cache's lifetime, as it does while its request is served.
    """

    #: Entries kept at most; a cache that grows past it starts afresh.
    LIMIT = 10_000

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[bytes, tuple[float, Principal | None]] = {}
        self._headers: dict[bytes, tuple[float, Principal]] = {}

    def get(self, digest: bytes) -> tuple[bool, Principal | None]:
        hit = self._entries.get(digest)
        if hit is None or hit[0] < time.monotonic():
            return False, None
        return True, hit[1]

    def put(self, digest: bytes, principal: Principal | None) -> None:
        if self.ttl > 0:
            if len(self._entries) > self.LIMIT:
                self._entries.clear()
            self._entries[digest] = (time.monotonic() + self.ttl, principal)

    def seen(self, header: bytes) -> Principal | None:
        """The principal of a valid key that came in this ``Authorization`` header lately, or None."""
        hit = self._headers.get(header)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def remember(self, header: bytes, principal: Principal) -> None:
        if self.ttl > 0:
            if len(self._headers) > self.LIMIT:
                self._headers.clear()
            self._headers[header] = (time.monotonic() + self.ttl, principal)

    def clear(self) -> None:
        self._entries.clear()
        self._headers.clear()


_LOOKUP = """
SELECT k.id, k.organisation_id, k.role, o.status, o.credit_code
FROM api_keys k JOIN organisations o ON o.id = k.organisation_id
WHERE k.key_hash = $1 AND k.revoked_at IS NULL
"""


async def lookup_principal(pool: asyncpg.Pool[Any], cache: KeyCache, key: str) -> Principal | None:
    """Resolve a presented key to its principal, or None when unknown or revoked."""
    digest = hash_key(key)
    found, principal = cache.get(digest)
    if found:
        return principal
    row = await pool.fetchrow(_LOOKUP, digest)
    principal = (
        None
        if row is None
        else Principal(row["id"], row["organisation_id"], row["role"], row["status"], row["credit_code"].strip())
    )
    cache.put(digest, principal)
    return principal


Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Coroutine[Any, Any, None]]


def api_key_guard(exclude: Sequence[str] = ()) -> Guard:
    """The app-wide first guard: reads ``Authorization: Bearer <key>`` and sets the principal as ``request.user``.

    Handlers marked ``exclude_from_auth=True`` and paths matching one of the ``exclude`` patterns are public.
    A guard and not a middleware: any route middleware makes Litestar wrap every route in a second exception
    layer, and its base class builds a connection object and a result object per request. App guards run
    before the handler's own (role) guards, inside the route's exception handling, so a 401 is a problem
    document like every other error. OPTIONS is authenticated like any other method (Litestar's
    authentication middleware skipped it, and the role guards then failed with a 500).
    """
    public = re.compile("|".join(exclude)) if exclude else None

    async def authenticate(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        scope = connection.scope
        if handler.opt.get("exclude_from_auth") or (public is not None and public.search(scope["path"])):
            return
        # Straight from the ASGI headers (names are lower-case there): building Litestar's Headers costs more.
        header = b""
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = value
                break
        state = scope["litestar_app"].state
        cache: KeyCache = state.key_cache
        principal = cache.seen(header)
        if principal is None:
            scheme, _, token = header.decode("latin-1").partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token:
                raise Unauthorized("缺少 API 密钥：请使用 Authorization: Bearer <key> / missing API key")
            found, principal = cache.get(hash_key(token))  # a cached key is resolved without a coroutine
            if not found:
                principal = await lookup_principal(state.pool, cache, token)
            if principal is None:
                raise Unauthorized("API 密钥无效或已吊销 / invalid or revoked API key")
            cache.remember(header, principal)
        scope["user"] = principal
        scope["auth"] = principal.key_id

    return authenticate


def requires(*roles: Role, allow_pending: bool = False) -> Guard:
    """A guard admitting only the given roles; banks and funds also need operator approval."""

    # Async on purpose: Litestar runs a sync guard in a worker thread, a thread hop on every request.
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal: Principal = connection.user
        if principal.role not in roles:
            raise Forbidden(f"此操作需要角色 {'/'.join(roles)} / requires role {'/'.join(roles)}")
        if principal.status != "active" and not allow_pending:
            raise Forbidden("机构尚未通过运营方审核或已停用 / organisation not approved or suspended")

    return guard


ANY_ROLE = ROLES
