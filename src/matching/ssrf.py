"""SSRF guard for webhook endpoint URLs.

An endpoint must be ``https`` and its host must resolve only to public addresses; private,
loopback, link-local, multicast, reserved and unspecified addresses (IPv4-mapped IPv6 included)
are refused unless ``allow_private`` is set (development and tests). The resolver is a
parameter, so the rule stays pure; the worker passes a real resolver and should connect to one of
the returned addresses, so a DNS answer that changes between check and connect cannot slip by.
"""

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

import msgspec

Resolver = Callable[[str], Iterable[str]]


class UnsafeEndpointError(ValueError):
    """An endpoint URL the guard refuses, with the reason."""


class CheckedEndpoint(msgspec.Struct, frozen=True, kw_only=True):
    """A URL that passed the guard, with the addresses it resolved to."""

    url: str
    host: str
    port: int
    addresses: tuple[str, ...]


def system_resolver(host: str) -> list[str]:
    """Resolve ``host`` with the operating system (the non-test resolver)."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)})


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    bad = ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved
    return ip.is_global and not bad and not ip.is_unspecified


def _literal_ip(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def check_endpoint_url(
    url: str, allow_private: bool, resolve: Resolver = system_resolver, allow_http: bool | None = None
) -> CheckedEndpoint:
    """Validate a webhook endpoint URL.

    Args:
        url: The URL an institution registered.
        allow_private: Accept private, loopback and link-local addresses (development, tests).
        resolve: Maps a host name to its IP addresses.
        allow_http: Accept plain ``http``; defaults to ``allow_private``.

    Returns:
        The endpoint with its resolved addresses.

    Raises:
        UnsafeEndpointError: If the scheme, the form or any resolved address is not allowed.
    """
    parts = urlsplit(url.strip())
    schemes = {"https", "http"} if (allow_private if allow_http is None else allow_http) else {"https"}
    if parts.scheme.lower() not in schemes:
        raise UnsafeEndpointError(
            f"endpoint URL must use {' or '.join(sorted(schemes))}, got {parts.scheme or 'none'!r}"
        )
    if parts.username is not None or parts.password is not None:
        raise UnsafeEndpointError("endpoint URL must not carry credentials")
    host = parts.hostname
    if not host:
        raise UnsafeEndpointError("endpoint URL has no host")
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError as exc:
        raise UnsafeEndpointError("endpoint URL has an invalid port") from exc
    literal = _literal_ip(host)
    if literal is not None:
        addresses: tuple[str, ...] = (literal,)
    else:
        try:
            addresses = tuple(resolve(host))
        except OSError as exc:
            raise UnsafeEndpointError(f"cannot resolve {host!r}") from exc
    if not addresses:
        raise UnsafeEndpointError(f"{host!r} resolves to no address")
    if not allow_private:
        blocked = [a for a in addresses if not _is_public(a)]
        if blocked:
            raise UnsafeEndpointError(f"{host!r} resolves to non-public address {blocked[0]}")
    return CheckedEndpoint(url=url.strip(), host=host, port=port, addresses=addresses)
