"""Who is calling: the client's address behind our own reverse proxy, and allowlists.

Behind a proxy only the address our own proxy appended to ``X-Forwarded-For`` is believed; the
left-most entries are whatever the caller chose to send. Used by the callback views (source
allowlist) and by the staff sign-in throttle (failures counted per real client address).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


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
    """Whether ``address`` is on ``C2B_ALLOWED_IPS`` (``*`` allows any)."""
    allowed = _networks(tuple(settings.C2B_ALLOWED_IPS))
    return allowed is None or _in(address, allowed)
