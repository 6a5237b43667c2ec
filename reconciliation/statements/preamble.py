"""Reading the rows above the header: ``Label:`` cells followed by their values.

A label is a cell ending in a colon (``Opening Balance:``) or starting with one
(``Short Code: 600984``); its value is every cell after it up to the next label, so several
label/value pairs may share a row (``Opening Balance:, 1000, Closing Balance:, 2000, ...``).
Labels are compared like column names (letters and digits, any case), so ``Organization Short
Code:`` and ``Short Code:`` are one thing. The period is read from ``Time Period:`` however it is
split: ``From, <start>, To, <end>`` in separate cells, ``From <start> To <end>`` in one, or
``From:`` and ``To:`` labels of their own. A date without a time ends a period at 23:59:59.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from reconciliation.statements.cells import (
    Cell,
    CellError,
    cell_text,
    parse_money,
    parse_time,
)
from reconciliation.statements.header import column_key
from reconciliation.statements.model import Preamble

_LABEL_ALONE = re.compile(r"^([A-Za-z][A-Za-z /.&()'#-]{0,60}?)\s*:$")
_LABEL_WITH_VALUE = re.compile(r"^([A-Za-z][A-Za-z /.&()'#-]{0,60}?)\s*:\s*(\S.*)$", re.DOTALL)
_FROM_TO = re.compile(r"^(?:from\s+)?(.+?)\s+(?:to|-|\u2013|until)\s+(.+)$", re.IGNORECASE)
_PERIOD_WORDS = frozenset({"", "from", "to", "-", "\u2013", "until"})  # \u2013: en dash

_TEXTS = {
    "organisation": ("organizationname", "organisationname", "organization", "organisation"),
    "shortcode": (
        "organizationshortcode", "organisationshortcode", "shortcode", "businessshortcode",
        "paybill", "paybillnumber", "tillnumber",
    ),
    "account": ("account", "accountname", "accounttype"),
}  # fmt: skip
_AMOUNTS = {
    "opening_balance": ("openingbalance",),
    "closing_balance": ("closingbalance",),
    "available_balance": ("availablebalance",),
    "total_paid_in": ("totalpaidin",),
    "total_withdrawn": ("totalwithdrawn",),
}
_PERIODS = ("timeperiod", "period", "statementperiod", "reportperiod")
_STARTS = ("from", "startdate", "periodfrom", "periodstart")
_ENDS = ("to", "enddate", "periodto", "periodend")


@dataclass(slots=True)
class _Reading:
    labels: dict[str, str] = field(default_factory=dict)
    values: dict[str, tuple[str, list[Cell]]] = field(default_factory=dict)  # key: (label, cells)
    problems: list[str] = field(default_factory=list)


def preamble_read(rows: Sequence[Sequence[Cell]]) -> Preamble:
    """The preamble these rows state. Never raises: a value that cannot be read is named in
    ``problems`` and left ``None``."""
    reading = _Reading()
    for cells in rows:
        _read_row(cells, reading)
    for label, cells in reading.values.values():
        reading.labels.setdefault(label, " ".join(cell_text(c).strip() for c in cells))
    texts = {name: _text_value(reading, keys) for name, keys in _TEXTS.items()}
    amounts = {name: _amount_value(reading, keys) for name, keys in _AMOUNTS.items()}
    withdrawn = amounts["total_withdrawn"]
    if withdrawn is not None:
        amounts["total_withdrawn"] = abs(withdrawn)
    start, end = _period(reading)
    return Preamble(
        **texts,
        period_start=start,
        period_end=end,
        **amounts,
        labels=reading.labels,
        rows=tuple(tuple(cell_text(c).strip() for c in cells) for cells in rows),
        problems=tuple(reading.problems),
    )


def _read_row(cells: Sequence[Cell], reading: _Reading) -> None:
    current: list[Cell] | None = None
    for cell in cells:
        text = cell.strip() if isinstance(cell, str) else ""
        alone = _LABEL_ALONE.match(text) if text else None
        with_value = None if alone or not text else _LABEL_WITH_VALUE.match(text)
        if alone or with_value:
            label = (alone or with_value).group(1).strip()  # type: ignore[union-attr]
            current = [with_value.group(2).strip()] if with_value else []
            key = column_key(label)
            if key and key not in reading.values:
                reading.values[key] = (label, current)
            else:
                current = []  # a repeated label: its first value stands
        elif current is not None and cell_text(cell).strip():
            current.append(cell)


def _found(reading: _Reading, keys: Sequence[str]) -> tuple[str, list[Cell]] | None:
    for key in keys:
        if key in reading.values:
            return reading.values[key]
    return None


def _text_value(reading: _Reading, keys: Sequence[str]) -> str:
    found = _found(reading, keys)
    return "" if found is None else " ".join(cell_text(c).strip() for c in found[1])


def _amount_value(reading: _Reading, keys: Sequence[str]) -> Decimal | None:
    found = _found(reading, keys)
    if found is None or not found[1]:
        return None
    label, cells = found
    value: Cell = cells[0] if len(cells) == 1 else " ".join(cell_text(c) for c in cells)
    try:
        return parse_money(value)
    except CellError as error:
        reading.problems.append(f"{label}: {error}")
        return None


def _period(reading: _Reading) -> tuple[datetime | None, datetime | None]:
    found = _found(reading, _PERIODS)
    if found is not None:
        label, cells = found
        parts = [c for c in cells if cell_text(c).strip().lower() not in _PERIOD_WORDS]
        if len(parts) == 1 and isinstance(parts[0], str):
            match = _FROM_TO.match(parts[0].strip())
            parts = list(match.groups()) if match else parts
        if len(parts) != 2:
            text = " ".join(cell_text(c) for c in cells)
            reading.problems.append(f"{label}: {text!r} is not a period from one time to another")
            return None, None
        return _bound(reading, label, parts[0], False), _bound(reading, label, parts[1], True)
    start, end = _found(reading, _STARTS), _found(reading, _ENDS)
    return (
        _bound(reading, start[0], start[1][0], False) if start and start[1] else None,
        _bound(reading, end[0], end[1][0], True) if end and end[1] else None,
    )


def _bound(reading: _Reading, label: str, cell: Cell, end: bool) -> datetime | None:
    try:
        return parse_time(cell, end_of_day=end)
    except CellError as error:
        reading.problems.append(f"{label}: {error}")
        return None
