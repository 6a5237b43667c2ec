"""Identifiers shaped like the ones M-Pesa and the Apigee gateway hand out."""

from __future__ import annotations

import secrets
import string
from datetime import datetime

from daraja_emulator.clock import to_eat

_UPPER_ALNUM = string.ascii_uppercase + string.digits
_DAY_CHARS = "123456789" + string.ascii_uppercase  # day 1..31 -> '1'..'9', 'A'..'V'


def receipt_prefix(moment: datetime) -> str:
    """M-Pesa receipts encode the date in their first three characters: year letter (2006 = A,
    so 2017 = L, 2024 = S), month letter (January = A) and day (1-9, then A = 10)."""
    local = to_eat(moment)
    year = string.ascii_uppercase[(local.year - 2006) % 26]
    month = string.ascii_uppercase[local.month - 1]
    return year + month + _DAY_CHARS[local.day - 1]


def receipt_number(moment: datetime) -> str:
    """A 10-character receipt such as ``UKR4T9QX2B``; uniqueness is the ledger's job."""
    return receipt_prefix(moment) + "".join(secrets.choice(_UPPER_ALNUM) for _ in range(7))


def empty_receipt(moment: datetime) -> str:
    """The placeholder receipt failed results carry, e.g. ``UKR0000000``."""
    return receipt_prefix(moment) + "0000000"


def gateway_id() -> str:
    """Gateway ids look like ``7619-37765134-1`` (requestId, OriginatorConversationID...)."""
    return f"{secrets.randbelow(90000) + 10000}-{secrets.randbelow(90_000_000) + 10_000_000}-1"


def conversation_id(moment: datetime) -> str:
    """``AG_20261127_00004e48cf7e3533f581``-style ConversationID."""
    return f"AG_{to_eat(moment):%Y%m%d}_{secrets.token_hex(10)}"


def access_token() -> str:
    """Daraja tokens are 28 alphanumerics."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(28))
