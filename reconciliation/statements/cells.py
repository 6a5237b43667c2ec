"""Reading one cell: text, money and time, whatever type the file format hands over.

CSV cells are always text; XLSX and XLS cells may also be numbers, booleans and date-times. The
rules are the same for every format:

- Money is ``Decimal`` with two places. Text may carry thousands separators (``1,020.00``), a
  sign, accounting brackets (``(1,020.00)`` is negative) and a ``KES``/``KSh`` mark. Numbers
  from spreadsheets are read through their shortest ``repr`` (``1020.1`` stays ``1020.10``,
  never ``1020.0999…``). Anything that is not a whole number of cents is refused, not rounded.
- Times are Kenyan (EAT, Africa/Nairobi, no daylight saving) and come back aware. Text is read as
  ``DD-MM-YYYY``, ``YYYY-MM-DD`` or ``DD/MM/YYYY`` (day first: Kenya writes dates so), with
  ``HH:MM[:SS]`` and an optional AM/PM; spreadsheet date-times as they are; a bare number in a
  spreadsheet time cell as an Excel serial day (1900 system).
- An MSISDN or account number is text and stays text; a number a spreadsheet made of one is
  written back without a decimal point.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from core.eat import EAT

CENT = Decimal("0.01")

Cell = str | int | float | Decimal | datetime | date | time | bool | None

_MONEY = re.compile(r"^([-+])?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d*))?$")
_CURRENCY_MARK = re.compile(r"^(?:kes|kshs?|ksh\.)\s*|\s*(?:kes|kshs?)$", re.IGNORECASE)
_TIME = re.compile(
    r"^(\d{1,4})([-/.])(\d{1,2})\2(\d{1,4})"
    r"(?:(?:\s+|T)(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:\s*([AaPp])\.?[Mm]\.?)?)?$"
)
_EXCEL_EPOCH = datetime(1899, 12, 30)
_BLANK_MONEY = frozenset({"", "-"})


class CellError(ValueError):
    """A cell that cannot be read as what its column holds; the message says why, for staff."""


def cell_text(cell: Cell) -> str:
    """The cell as text, the way it would be shown: ``""`` for an empty cell, integral numbers
    without a decimal point, date-times as ``YYYY-MM-DD HH:MM:SS``."""
    if cell is None:
        return ""
    if isinstance(cell, str):
        return cell
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else repr(cell)
    if isinstance(cell, datetime):
        return cell.isoformat(sep=" ")
    return str(cell)


def money_text(amount: Decimal) -> str:
    """``12,345.00``: how the portal writes an amount, for messages to staff."""
    return f"{amount:,.2f}"


def parse_money(cell: Cell) -> Decimal | None:
    """The amount in the cell, to the cent, or ``None`` for an empty cell (or a lone ``-``, a
    spreadsheet's zero). Raises ``CellError`` for anything else that is not a whole number of
    cents."""
    if cell is None:
        return None
    if isinstance(cell, bool | datetime | date | time):
        raise CellError(f"{cell_text(cell)!r} is not an amount")
    if isinstance(cell, float):
        if not math.isfinite(cell):
            raise CellError(f"{cell!r} is not an amount")
        return _cents(Decimal(repr(cell)), cell)
    if isinstance(cell, int | Decimal):
        return _cents(Decimal(cell), cell)
    text = cell.strip().replace("\u00a0", "")
    if text in _BLANK_MONEY:
        return None
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1].strip()
    text = _CURRENCY_MARK.sub("", text)
    match = _MONEY.match(text)
    if match is None:
        raise CellError(f"{cell!r} is not an amount")
    sign, whole, fraction = match.groups()
    if negative and sign:
        raise CellError(f"{cell!r} is not an amount")
    amount = Decimal(f"{whole.replace(',', '')}.{fraction or '0'}")
    if negative or sign == "-":
        amount = -amount
    return _cents(amount, cell)


def _cents(amount: Decimal, cell: Cell) -> Decimal:
    try:
        cents = amount.quantize(CENT)
    except InvalidOperation:  # more digits than Decimal's context holds
        raise CellError(f"{cell_text(cell)!r} is not an amount") from None
    if cents != amount:
        raise CellError(f"{cell_text(cell)!r} is not a whole number of cents")
    return cents


def parse_time(cell: Cell, *, end_of_day: bool = False) -> datetime | None:
    """The moment in the cell, aware in EAT, or ``None`` for an empty cell. A date without a
    time is midnight, or the day's last second with ``end_of_day`` (the end of a period).
    Raises ``CellError`` for anything else."""
    moment, has_time = _parse_time(cell)
    if moment is None:
        return None
    if end_of_day and not has_time:
        moment = moment.replace(hour=23, minute=59, second=59)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=EAT)
    return moment.astimezone(EAT)


def _parse_time(cell: Cell) -> tuple[datetime | None, bool]:
    if cell is None:
        return None, False
    if isinstance(cell, datetime):
        # Spreadsheets store times as fractions of a day: 10:00:00 may come as 09:59:59.999.
        whole = cell.replace(microsecond=0)
        return (whole + timedelta(seconds=1) if cell.microsecond >= 500_000 else whole), True
    if isinstance(cell, date):
        return datetime(cell.year, cell.month, cell.day), False
    if isinstance(cell, bool | time):
        raise CellError(f"{cell_text(cell)!r} is not a date and time")
    if isinstance(cell, int | float | Decimal):
        return _excel_serial(cell), True
    text = cell.strip()
    if not text:
        return None, False
    match = _TIME.match(text)
    if match is None:
        raise CellError(f"{text!r} is not a date and time")
    first, _, middle, last, hour, minute, second, half = match.groups()
    if len(first) == 4:
        year, month, day = first, middle, last
    elif len(last) == 4:
        day, month, year = first, middle, last
    else:
        raise CellError(f"{text!r} has no four-digit year")
    h = int(hour or 0)
    if half:
        if not 1 <= h <= 12:
            raise CellError(f"{text!r} is not a date and time")
        h = h % 12 + (12 if half in "Pp" else 0)
    try:
        moment = datetime(int(year), int(month), int(day), h, int(minute or 0), int(second or 0))
    except ValueError:
        raise CellError(f"{text!r} is no such date and time") from None
    return moment, hour is not None


def _excel_serial(number: int | float | Decimal) -> datetime:
    serial = float(number)
    if not (math.isfinite(serial) and 61 <= serial < 2958466):  # 1 March 1900 .. 9999
        raise CellError(f"{cell_text(number)!r} is not a date and time")
    return _EXCEL_EPOCH + timedelta(seconds=round(serial * 86400))
