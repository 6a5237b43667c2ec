"""Real-shaped Daraja bodies (../../../shared/daraja.md): replies and asynchronous results."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


@cache
def _read(name: str) -> Any:
    return json.loads((HERE / f"{name}.json").read_text())


def load(name: str) -> Any:
    """A fresh copy of ``<name>.json``, safe to change."""
    return copy.deepcopy(_read(name))


def gateway_error(status: int, code: str, message: str) -> Any:
    """A reply in the gateway's error envelope, as Daraja sends every error."""
    import httpx

    return httpx.Response(
        status, json={"requestId": "16813-1590513-1", "errorCode": code, "errorMessage": message}
    )
