"""The cheap checks every callback passes before anything is written.

Callbacks are not signed, so defence is layered: an unguessable token in the path (compared in
constant time, several accepted for rotation), then the source-address allowlist. Behind a
reverse proxy only the address our own proxy appended to X-Forwarded-For is believed.
"""

from __future__ import annotations

import hmac
import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def callback_token_is_valid(token: str) -> bool:
    candidate = token.encode()
    # Compare against every configured token so timing does not reveal which one matched.
    matches = [hmac.compare_digest(candidate, t.encode()) for t in settings.C2B_CALLBACK_TOKENS]
    return any(matches)


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...] | None:
    """``None`` means "any address" (the ``*`` entry)."""
    if "*" in entries:
        return None
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _in(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(request: HttpRequest) -> str:
    """The caller's address: the direct peer, unless that peer is one of our trusted proxies."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = _networks(tuple(settings.C2B_TRUSTED_PROXIES)) or ()
    if not proxies or not _in(remote, proxies):
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    # Walk from the right: the right-most entries were appended by our own proxies; the first
    # address that is not one of them is the real client. Left-most entries can be forged.
    for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
        if not _in(hop, proxies):
            return hop
    return remote


def source_ip_allowed(address: str) -> bool:
    allowed = _networks(tuple(settings.C2B_ALLOWED_IPS))
    return allowed is None or _in(address, allowed)
