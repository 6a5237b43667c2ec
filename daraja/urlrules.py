"""Safaricom's rules for callback URLs, checked before we call Daraja.

Daraja answers a bad URL with a bare "Bad Request"; checking here gives the IT person the rule
that was broken instead.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from daraja.errors import CallbackURLRejected

FORBIDDEN_WORDS = ("m-pesa", "mpesa", "safaricom", "exec", "exe", "cmd", "sql", "query")
URL_TESTER_HOSTS = ("ngrok", "mockbin", "requestbin")
_LOCAL_NAMES = {"localhost", "localhost.localdomain"}


def check_callback_url(url: str, *, production: bool, allow_local: bool = False) -> None:
    """Raise ``CallbackURLRejected`` naming the first rule ``url`` breaks.

    ``allow_local`` lets sandbox registrations point at this machine (the emulator); it never
    applies in production.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CallbackURLRejected(f"{url!r} is not an absolute http(s) URL.")
    if production and parts.scheme != "https":
        raise CallbackURLRejected(f"{url!r}: production callback URLs must use https.")
    lowered = url.lower()
    for word in FORBIDDEN_WORDS:
        if word in lowered:
            raise CallbackURLRejected(
                f"{url!r} contains {word!r}; Safaricom refuses URLs containing any of: "
                + ", ".join(FORBIDDEN_WORDS)
                + "."
            )
    host = parts.hostname.lower()
    for tester in URL_TESTER_HOSTS:
        if tester in host:
            raise CallbackURLRejected(f"{url!r}: Safaricom refuses URL-tester hosts ({tester}).")
    if _is_local(host) and (production or not allow_local):
        raise CallbackURLRejected(
            f"{url!r} points at this machine; Safaricom must reach a public host "
            "(set C2B_CALLBACK_BASE_URL to the public address)."
        )


def _is_local(host: str) -> bool:
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified or address.is_link_local
