"""Reading the loose values Daraja sends (amounts, times, codes) into strict Python types.

Daraja sends the same field as a string in one API and a number in another, or changes with the
environment (../shared/daraja.md). These helpers accept each known form and raise ``ValueError``
with a short reason for anything else; the parsers that call them turn that into their own
error type.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from core.eat import EAT

# M-Pesa's clock: every time it sends without an offset is Kenyan local time (UTC+3, no DST).

CENT = Decimal("0.01")
# Far above any M-Pesa balance; keeps absurd exponents ("1E+999999") out of Decimal arithmetic.
MAX_AMOUNT = Decimal("999999999999.99")
_TIMESTAMP = re.compile(r"[0-9]{14}")
_WHOLE_LIMIT = 10**20


def amount(value: Any) -> Decimal:
    """A money amount sent as ``"10.00"``, ``10``, ``10.5`` or a ``Decimal``; at most two places.

    Thousands separators (``"1,020.00"``) are accepted; booleans, blanks, NaN and infinity are not.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError(f"not a number: {_show(value)}")
    try:
        # str() of a float is its shortest round-tripping form: 10.1 -> "10.1", not 10.0999...
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"not a number: {_show(value)}") from None
    if not number.is_finite():
        raise ValueError(f"not a number: {_show(value)}")
    if abs(number) > MAX_AMOUNT:
        raise ValueError(f"too large: {_show(value)}")
    if number != number.quantize(CENT, rounding=ROUND_DOWN):
        raise ValueError(f"more than two decimal places: {_show(value)}")
    return number.quantize(CENT)


def code(value: Any) -> str:
    """A result or response code sent as ``0``, ``"0"``, ``2001`` or ``"R000002"``, as text."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a code: {_show(value)}")
    if isinstance(value, float | Decimal):
        whole = _whole(value)
        if whole is None:
            raise ValueError(f"not a code: {_show(value)}")
        value = whole
    if isinstance(value, int | str) and str(value).strip():
        return str(value).strip()
    raise ValueError(f"not a code: {_show(value)}")


def mpesa_timestamp(value: Any) -> datetime:
    """``YYYYMMDDHHmmss`` (a number or a string), Kenyan local time, as an aware datetime in EAT."""
    if isinstance(value, float | Decimal):
        whole = _whole(value)
        if whole is None:
            raise ValueError(f"not YYYYMMDDHHmmss: {_show(value)}")
        value = whole
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _TIMESTAMP.fullmatch(value.strip()):
        raise ValueError(f"not YYYYMMDDHHmmss: {_show(value)}")
    try:
        local = datetime.strptime(value.strip(), "%Y%m%d%H%M%S")
    except ValueError:
        raise ValueError(f"not a real date and time: {_show(value)}") from None
    return local.replace(tzinfo=EAT)


def text(value: Any) -> str:
    """A free-text field: ``None`` is blank, numbers become their digits, the rest is stripped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float | Decimal) and _whole(value) is not None:
        return str(_whole(value))
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float | Decimal):
        return str(value)
    raise ValueError(f"not text: {type(value).__name__}")


def _show(value: Any) -> str:
    """A value for an error message: short, and never a whole nested structure."""
    if isinstance(value, str | int | float | Decimal | None):
        shown = repr(value)
        return shown if len(shown) <= 40 else shown[:37] + "..."
    return f"a {type(value).__name__}"


def _whole(value: float | Decimal) -> int | None:
    """The integer a float or Decimal holds (``20191219102115.0`` -> ``20191219102115``), if any."""
    number = Decimal(str(value))
    if not number.is_finite() or abs(number) >= _WHOLE_LIMIT:
        return None
    if number != number.to_integral_value():
        return None
    return int(number)
