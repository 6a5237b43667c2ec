"""Typed access to the environment.

Every setting the deployment can change is read through these helpers, so a missing or malformed
value fails at start-up with a message naming the exact variable to set. A secret may also be
given as ``NAME_FILE`` pointing at a file (Docker/Kubernetes secrets), which keeps it out of
``ps`` output and shell history.
"""

from __future__ import annotations

import os
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from core.network import parse_networks

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is not None:
        return value
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{name}_FILE points at {path!r}, which cannot be read: {exc}"
            ) from None
    return None


def env_str(name: str, default: str | None = None, *, required: bool = False) -> str:
    value = _raw(name)
    if value is None or (required and value == ""):
        if required:
            raise ImproperlyConfigured(f"Set the environment variable {name} (see .env.example).")
        return default if default is not None else ""
    return value


def env_bool(name: str, default: bool = False) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false (got {value!r}).")


def env_int(name: str, default: int) -> int:
    value = _raw(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number (got {value!r}).") from None


def env_decimal(name: str, default: Decimal | None = None) -> Decimal | None:
    value = _raw(name)
    if value is None or value.strip() == "":
        return default
    try:
        return Decimal(value.strip())
    except InvalidOperation:
        raise ImproperlyConfigured(f"{name} must be a number (got {value!r}).") from None


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """Comma-separated list; blanks are dropped. Unset returns ``default``."""
    value = _raw(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_choice(name: str, choices: set[str], default: str) -> str:
    value = env_str(name, default)
    if value not in choices:
        allowed = ", ".join(sorted(choices))
        raise ImproperlyConfigured(f"{name} must be one of {allowed} (got {value!r}).")
    return value


def env_networks(name: str, default: list[str]) -> list[str]:
    """A comma-separated list of IP addresses and networks (``*`` = any), checked now: a typo
    stops the service at start, naming the variable and the entry, instead of failing every
    request that consults the list."""
    entries = env_list(name, default)
    try:
        parse_networks(entries)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: {exc}.") from None
    return entries


def env_secret_tokens_check(name: str, tokens: list[str], min_length: int) -> None:
    """Refuse secret path tokens shorter than ``min_length`` (outside debug), naming the variable
    but never the token."""
    for position, token in enumerate(tokens, start=1):
        if len(token) < min_length:
            raise ImproperlyConfigured(
                f"{name}: token {position} is {len(token)} characters long; use at least "
                f"{min_length} random ones (python -c 'import secrets; "
                "print(secrets.token_hex(32))')."
            )
