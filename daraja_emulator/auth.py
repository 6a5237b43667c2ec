"""OAuth client-credentials tokens and bearer checks, as the Apigee gateway does them."""

from __future__ import annotations

import base64
import binascii
import hmac
import threading
from datetime import datetime, timedelta

from daraja_emulator import errors
from daraja_emulator.clock import Clock
from daraja_emulator.ids import access_token


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """``Basic base64(key:secret)`` -> (key, secret); None for anything else."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    key, sep, secret = decoded.partition(":")
    return (key, secret) if sep else None


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


class TokenStore:
    def __init__(
        self, clock: Clock, *, key: str, secret: str, lifetime: int, single_active: bool
    ) -> None:
        self._clock = clock
        self._key = key
        self._secret = secret
        self._lifetime = lifetime
        self._single_active = single_active
        self._lock = threading.Lock()
        self._expiry: dict[str, datetime] = {}

    def issue(self, authorization: str | None, grant_type: str | None) -> dict[str, str]:
        """The body of a successful ``/oauth/v1/generate``; raises the gateway's errors."""
        credentials = basic_credentials(authorization)
        if credentials is None or not (
            hmac.compare_digest(credentials[0].encode(), self._key.encode())
            & hmac.compare_digest(credentials[1].encode(), self._secret.encode())
        ):
            raise errors.invalid_authentication()
        if grant_type != "client_credentials":
            raise errors.invalid_grant_type()
        token = access_token()
        with self._lock:
            if self._single_active:
                self._expiry.clear()
            self._expiry[token] = self._clock.now() + timedelta(seconds=self._lifetime)
        # The live API sends expires_in as a string, one second short of the lifetime.
        return {"access_token": token, "expires_in": str(self._lifetime - 1)}

    def check(self, authorization: str | None) -> None:
        token = bearer_token(authorization)
        now = self._clock.now()
        with self._lock:
            expiry = self._expiry.get(token) if token else None
            if expiry is not None and expiry <= now:
                del self._expiry[token]  # type: ignore[arg-type]
                expiry = None
        if expiry is None:
            raise errors.invalid_access_token()
