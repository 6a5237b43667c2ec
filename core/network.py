"""Who is calling: the client's address behind our own reverse proxy, and allowlists.

A request from a trusted proxy carries the client's address in one header the proxy *sets*
(``C2B_CLIENT_ADDRESS_HEADER``, ``X-Real-IP`` by default: nginx's
``proxy_set_header X-Real-IP $remote_addr``), overwriting whatever the client sent under that
name. It must hold exactly one address. A client can still send the header's twin spelled with
underscores (``X_Real_IP``), which the proxy may pass on and which uWSGI merges into the same
variable, comma-joined: so anything but one address means "unknown", refused wherever an address
matters. (``X-Forwarded-For`` cannot be defended this way: commas are normal in it, and a merged
twin lands on the right, where the proxy's own entry should be.)

Used by the callback views (source allowlist) and by the staff sign-in throttle (failures
counted per real client address). The lists are parsed when the settings load
(``parse_networks``), so a typo stops the service at start instead of failing every request.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

logger = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...] | None:
    """Addresses and networks (``196.201.214.200``, ``10.0.0.0/8``) as networks; ``None`` means
    any address (the ``*`` entry). Raises ``ValueError`` naming the first entry that is neither."""
    entries = tuple(entries)
    if "*" in entries:
        return None
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network") from None
    return tuple(networks)


def header_meta_key(header: str) -> str:
    """The WSGI variable a request header arrives in: ``X-Real-IP`` → ``HTTP_X_REAL_IP``."""
    return "HTTP_" + header.strip().upper().replace("-", "_")


@lru_cache(maxsize=16)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...] | None:
    return parse_networks(entries)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _in(address: str, networks: tuple[Network, ...]) -> bool:
    ip = _address(address)
    return ip is not None and any(ip in network for network in networks)


def client_ip(request: HttpRequest) -> str:
    """The caller's address: the direct peer, unless that peer is one of our trusted proxies;
    then the one address the proxy set in ``C2B_CLIENT_ADDRESS_HEADER``, or ``""`` (unknown)
    when that header holds anything else."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = _networks(tuple(settings.C2B_TRUSTED_PROXIES)) or ()
    if not proxies or not _in(remote, proxies):
        return remote
    header = settings.C2B_CLIENT_ADDRESS_HEADER
    value = request.META.get(header_meta_key(header), "").strip()
    if _address(value) is None:
        logger.warning(
            "Request through proxy %s without one client address in %s (got %r): refused",
            remote,
            header,
            value[:100],
        )
        return ""
    return value


def source_ip_allowed(address: str) -> bool:
    """Whether ``address`` is on ``C2B_ALLOWED_IPS`` (``*`` allows any, even an unknown one)."""
    allowed = _networks(tuple(settings.C2B_ALLOWED_IPS))
    return allowed is None or _in(address, allowed)
