"""Request-body checks; each failure is the gateway's ``400.002.02 Bad Request - Invalid X``."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from daraja_emulator import errors
from daraja_emulator.payers import DARAJA_MSISDN_RE
from daraja_emulator.settings import SHORTCODE_RE

MAX_AMOUNT = 250_000  # M-Pesa's per-transaction ceiling, KES
MAX_BILL_REF = 20


def required_str(body: dict[str, Any], name: str, *, max_length: int = 200) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise errors.invalid_field(name)
    return value


def optional_str(body: dict[str, Any], name: str, *, max_length: int = 200) -> str:
    value = body.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > max_length:
        raise errors.invalid_field(name)
    return value


def shortcode(body: dict[str, Any], name: str = "ShortCode", *, strings_only: bool = False) -> str:
    """A 5-7 digit shortcode. Register URL documents a string; elsewhere the docs' own samples
    send numbers, so those accept both."""
    value = body.get(name)
    if isinstance(value, int) and not isinstance(value, bool) and not strings_only:
        value = str(value)
    if not isinstance(value, str) or not SHORTCODE_RE.match(value):
        raise errors.invalid_field(name)
    return value


def amount(body: dict[str, Any], name: str = "Amount") -> Decimal:
    """Whole shillings from 1 to 250,000, as a number or a digit string."""
    value = body.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not re.fullmatch(r"\d{1,7}", value):
        raise errors.invalid_field(name)
    whole = int(value)
    if not 1 <= whole <= MAX_AMOUNT:
        raise errors.invalid_field(name)
    return Decimal(whole).quantize(Decimal("0.01"))


def msisdn(body: dict[str, Any], name: str) -> str:
    """``2547XXXXXXXX`` or ``2541XXXXXXXX``, as a number or a string; no leading 0 or +."""
    value = body.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not DARAJA_MSISDN_RE.match(value):
        raise errors.invalid_field(name)
    return value


def bill_ref(body: dict[str, Any], command_id: str) -> str:
    """Paybill needs the account the customer typed (kept verbatim); a till has no account, so
    whatever is sent is ignored and callbacks carry ``""``."""
    value = body.get("BillRefNumber")
    if command_id == "CustomerBuyGoodsOnline":
        return ""
    if not isinstance(value, str) or len(value) > MAX_BILL_REF:
        raise errors.invalid_field("BillRefNumber")
    return value
