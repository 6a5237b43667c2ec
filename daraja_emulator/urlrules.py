"""Safaricom's rules for callback URLs, checked at registration."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

# Checked as substrings of the whole URL in any case, exactly as Safaricom words its rule: so
# "exe" also rejects "executive" and "query" rejects "?query=". Strict on purpose.
FORBIDDEN_WORDS = ("m-pesa", "mpesa", "safaricom", "exec", "exe", "cmd", "sql", "query")
URL_TESTER_HOSTS = ("ngrok", "mockbin", "requestbin")


def _is_local_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost") or "." not in host:
        return True  # single-label names (docker service names) are not publicly reachable
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


def url_problem(
    url: object, *, https_only: bool, allow_local: bool, register_rules: bool = True
) -> str | None:
    """Why Safaricom would refuse ``url``, or None if it would accept it.

    ``register_rules`` adds the word and URL-tester bans Safaricom documents for C2B
    registration; other APIs' ResultURLs only need to be absolute and reachable.
    """
    if not isinstance(url, str) or not url.strip():
        return "missing"
    lowered = url.lower()
    for word in FORBIDDEN_WORDS if register_rules else ():
        if word in lowered:
            return f"contains the forbidden word {word!r}"
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        return "not a valid URL"
    if parts.scheme not in ("http", "https") or not host:
        return "not an absolute http(s) URL"
    for tester in URL_TESTER_HOSTS if register_rules else ():
        if tester in host:
            return f"URL-tester hosts ({tester}) are not allowed"
    if https_only and parts.scheme != "https":
        return "production requires https"
    if not allow_local and _is_local_host(host):
        return "host is not publicly reachable (localhost, private address or bare name)"
    return None
