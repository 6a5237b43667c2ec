"""Comparing a secret that arrives in a URL path (callback and delivery-report tokens)."""

from __future__ import annotations

import hmac
from collections.abc import Iterable


def token_matches(candidate: str, accepted: Iterable[str]) -> bool:
    """Whether ``candidate`` is one of the ``accepted`` tokens (several during a rotation).

    Every token is compared, in constant time, so timing reveals neither whether nor which one
    matched."""
    given = candidate.encode()
    found = False
    for token in accepted:
        found |= hmac.compare_digest(given, token.encode())
    return found
