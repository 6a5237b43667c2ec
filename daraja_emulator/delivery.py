"""Outbound callbacks. One POST, no retries: Daraja documents none for confirmations."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

import httpx

from daraja_emulator.ledger import Delivery

_KEEP_BODY_CHARS = 2000


def post_json(
    url: str, payload: dict[str, Any], *, kind: str, timeout: float, now: datetime
) -> tuple[Delivery, Any]:
    """POST ``payload`` and return the recorded attempt plus the parsed JSON reply (or None).

    ``trust_env=False``: proxy variables on a developer's machine must not reroute callbacks
    meant for a local receiver.
    """
    delivery = Delivery(kind=kind, url=url, attempted_at=now, payload=payload)
    started = time.monotonic()
    parsed: Any = None
    try:
        with httpx.Client(timeout=timeout, trust_env=False) as client:
            response = client.post(
                url,
                content=json.dumps(payload).encode("utf-8"),
                headers={"Content-Type": "application/json", "User-Agent": "daraja-emulator"},
            )
        delivery.status_code = response.status_code
        delivery.response_body = response.text[:_KEEP_BODY_CHARS]
        try:
            parsed = response.json()
        except ValueError:
            parsed = None
    except httpx.TimeoutException:
        delivery.error = f"timeout after {timeout:g} s"
    except httpx.HTTPError as exc:
        delivery.error = f"{type(exc).__name__}: {exc}"
    delivery.duration_ms = (time.monotonic() - started) * 1000
    return delivery, parsed
