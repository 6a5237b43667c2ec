"""The M-Pesa Org-portal statement, as staff download it: the final source of truth.

``build`` reads the ledger's lines into a ``Statement`` (the period's lines with their running
balances, and the totals a reader needs to prove it complete); ``rows`` lays it out in one of
the download's variants as typed cells; ``to_csv`` and ``to_xlsx`` write those cells.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from daraja_emulator.clock import to_eat
from daraja_emulator.ledger import (
    ACCOUNT_NAMES,
    ACCOUNTS,
    ATTEMPT,
    CHARGE,
    PAYBILL,
    PAYMENT,
    REVERSAL,
    TRANSFER,
    UTILITY,
    ZERO,
    Line,
    running_balances,
)
from daraja_emulator.state import EmulatorState

HEADER = [
    "Receipt No.", "Completion Time", "Initiation Time", "Details", "Transaction Status",
    "Paid In", "Withdrawn", "Balance", "Balance Confirmed", "Reason Type", "Other Party Info",
    "Linked Transaction ID", "A/C No.",
]  # fmt: skip
CURRENCY_COLUMN = "Currency"
CURRENCY = "KES"
NEW_HEADER = [
    "Receipt No", "Completion Time", "Details", "Transaction Status", "Paid In (KSHs)",
    "Withdrawn (KSHs)", "Balance (KSHs)",
]  # fmt: skip
ALL_ACCOUNTS = "all"
STATEMENT_ACCOUNTS = (*ACCOUNTS, ALL_ACCOUNTS)
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Cell = str | Decimal | datetime | None
_TIME_FORMATS = {"dmy": "%d-%m-%Y %H:%M:%S", "ymd": "%Y-%m-%d %H:%M:%S"}
_EXCEL_TIME_FORMATS = {"dmy": "dd-mm-yyyy hh:mm:ss", "ymd": "yyyy-mm-dd hh:mm:ss"}
_TRUE, _FALSE = ("1", "true", "yes"), ("0", "false", "no")


@dataclass(frozen=True)
class Format:
    """One variant of the download; every field is a query parameter of the same name."""

    layout: str = "classic"  # classic: 13 columns after a preamble; new: 7 columns, no preamble
    preamble: str = "full"  # full: period cells, operator row, balances row; short: the old one
    currency: bool = False  # classic: a 14th column, Currency
    withdrawn: str = "positive"  # negative: withdrawals (and Total Withdrawn) with a minus sign
    time_format: str = "dmy"  # dmy: DD-MM-YYYY HH:MM:SS; ymd: YYYY-MM-DD HH:MM:SS
    thousands: bool = True  # 1,020.00 rather than 1020.00
    mask_names: bool = False  # JANE **** DOE
    cells: str = "typed"  # XLSX only: typed (numbers, date-times) or text (the CSV's strings)

    CHOICES = {
        "layout": ("classic", "new"),
        "preamble": ("full", "short"),
        "withdrawn": ("positive", "negative"),
        "time_format": tuple(_TIME_FORMATS),
        "cells": ("typed", "text"),
    }

    @classmethod
    def from_query(cls, query: dict[str, str]) -> Format:
        """Raises ValueError naming the parameter and its allowed values."""
        values: dict[str, Any] = {}
        for item in fields(cls):
            raw = query.get(item.name)
            if raw is None:
                continue
            value = raw.strip().lower()
            if item.type == "bool":
                if value not in _TRUE + _FALSE:
                    raise ValueError(f"{item.name} must be true or false")
                values[item.name] = value in _TRUE
            elif value in cls.CHOICES[item.name]:
                values[item.name] = value
            else:
                raise ValueError(f"{item.name} must be one of {', '.join(cls.CHOICES[item.name])}")
        return cls(**values)

    @classmethod
    def parameters(cls) -> set[str]:
        return {item.name for item in fields(cls)}


@dataclass
class Statement:
    """A period of one account (or of all of them, with the organisation's combined balance).
    ``opening + paid_in - withdrawn == closing`` and each line's balance follows from the one
    before it; ``lines`` are newest first, as the portal lists them."""

    shortcode: str
    organization: str
    operator: str
    account: str
    period_from: datetime
    period_to: datetime
    reported_at: datetime
    opening: Decimal
    closing: Decimal
    paid_in: Decimal
    withdrawn: Decimal
    lines: list[tuple[Line, Decimal]]

    @property
    def account_label(self) -> str:
        return ACCOUNT_NAMES.get(self.account, "All Accounts")

    @property
    def available(self) -> Decimal:
        """No holds or reserved funds in the emulator: available is the closing balance."""
        return self.closing


def build(
    state: EmulatorState,
    shortcode: str,
    *,
    account: str = UTILITY,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Statement:
    settings = state.settings_for(shortcode)
    accounts = ACCOUNTS if account == ALL_ACCOUNTS else (account,)

    def read() -> tuple[Decimal, list[Line]]:
        opening = sum(
            (
                state.ledger.opening(
                    shortcode, a, settings.opening_balance if a == UTILITY else ZERO
                )
                for a in accounts
            ),
            ZERO,
        )
        return opening, state.ledger.lines(shortcode, accounts)

    start, lines = state.ledger.read(read)
    opening = start
    inside: list[tuple[Line, Decimal]] = []
    for line, balance in running_balances(lines, start):
        if since is not None and line.completed_at < since:
            opening = balance
        elif until is None or line.completed_at <= until:
            inside.append((line, balance))
    moved = [line for line, _ in inside if line.moved]
    paid_in = sum((line.paid_in for line in moved if line.paid_in), ZERO)
    withdrawn = sum((line.withdrawn for line in moved if line.withdrawn), ZERO)
    now = state.clock.now()
    return Statement(
        shortcode=shortcode,
        organization=settings.display_name,
        operator=settings.initiator,
        account=account,
        period_from=since or (inside[0][0].completed_at if inside else now),
        period_to=until or now,
        reported_at=now,
        opening=opening,
        closing=inside[-1][1] if inside else opening,
        paid_in=paid_in,
        withdrawn=withdrawn,
        lines=list(reversed(inside)),
    )


# Wording ---------------------------------------------------------------------------------


def _party(line: Line, fmt: Format) -> str:
    """``2547******311 - JOHN DOE``; the newer download masks with four stars."""
    stars = "****" if fmt.layout == "new" else "******"
    name = line.party_name
    if fmt.mask_names:
        parts = name.split()
        name = f"{parts[0]} **** {parts[-1]}" if len(parts) > 1 else f"{name} ****"
    return f"{line.msisdn[:4]}{stars}{line.msisdn[-3:]} - {name}"


def details(line: Line, fmt: Format, statement: Statement) -> str:
    if line.kind in (PAYMENT, ATTEMPT):
        if line.command_id == PAYBILL:
            return f"Pay Bill from {_party(line, fmt)} Acc. {line.bill_ref}"
        return f"Merchant Payment from {_party(line, fmt)}"
    if line.kind == CHARGE:
        return line.reason_type
    if line.kind == REVERSAL:
        return f"Reversal of transaction {line.linked}"
    if line.kind == TRANSFER:
        source, target = (
            (line.account, line.counter_account)
            if line.withdrawn
            else (line.counter_account, line.account)
        )
        return f"{ACCOUNT_NAMES[source]} to {ACCOUNT_NAMES[target]}"
    raise ValueError(f"unknown line kind {line.kind}")


def _other_party(line: Line, fmt: Format, statement: Statement) -> str:
    if line.kind in (PAYMENT, ATTEMPT, REVERSAL):
        return _party(line, fmt)
    if line.kind == TRANSFER:
        return f"{statement.shortcode} - {statement.organization}"
    return ""


# Layout ----------------------------------------------------------------------------------


def _withdrawn(value: Decimal | None, fmt: Format) -> Decimal | None:
    if value is None:
        return None
    return -value if fmt.withdrawn == "negative" else value


def rows(statement: Statement, fmt: Format) -> list[list[Cell]]:
    """The whole download as typed cells: ``str``, ``Decimal``, aware ``datetime`` or None."""
    out: list[list[Cell]] = []
    if fmt.layout == "new":
        out.append(list(NEW_HEADER))
        for line, balance in statement.lines:
            out.append(
                [
                    line.receipt,
                    line.completed_at,
                    details(line, fmt, statement),
                    line.status,
                    line.paid_in,
                    _withdrawn(line.withdrawn, fmt),
                    balance,
                ]
            )
        return out
    out.extend(_preamble(statement, fmt))
    out.append([*HEADER, CURRENCY_COLUMN] if fmt.currency else list(HEADER))
    for line, balance in statement.lines:
        row: list[Cell] = [
            line.receipt,
            line.completed_at,
            line.initiated_at,
            details(line, fmt, statement),
            line.status,
            line.paid_in,
            _withdrawn(line.withdrawn, fmt),
            balance,
            "true" if line.moved else "false",
            line.reason_type,
            _other_party(line, fmt, statement),
            line.linked,
            line.bill_ref if line.kind in (PAYMENT, ATTEMPT) else "",
        ]
        if fmt.currency:
            row.append(CURRENCY)
        out.append(row)
    return out


def _preamble(statement: Statement, fmt: Format) -> list[list[Cell]]:
    if fmt.preamble == "short":
        period = (
            f"From {_text_time(statement.period_from, fmt)} "
            f"To {_text_time(statement.period_to, fmt)}"
        )
        return [
            ["Organization Name:", statement.organization],
            ["Organization Short Code:", statement.shortcode],
            ["Account:", statement.account_label],
            ["Time Period:", period],
            ["Report Time:", statement.reported_at],
            [],
        ]
    return [
        ["Organization Short Code:", statement.shortcode],
        ["Account:", statement.account_label],
        ["Time Period:", "From", statement.period_from, "To", statement.period_to],
        [
            "Operator:",
            statement.operator,
            "Organization:",
            statement.organization,
            "Date of Report:",
            statement.reported_at,
        ],
        [
            "Opening Balance:",
            statement.opening,
            "Closing Balance:",
            statement.closing,
            "Available Balance:",
            statement.available,
            "Total Paid In:",
            statement.paid_in,
            "Total Withdrawn:",
            _withdrawn(statement.withdrawn, fmt),
        ],
        [],
    ]


# Writing ---------------------------------------------------------------------------------


def money(amount: Decimal, thousands: bool = True) -> str:
    """``1,020.00``: the portal's thousands separators (or ``1020.00`` without)."""
    return f"{amount:,.2f}" if thousands else f"{amount:.2f}"


def _text_time(moment: datetime, fmt: Format) -> str:
    return to_eat(moment).strftime(_TIME_FORMATS[fmt.time_format])


def _text(cell: Cell, fmt: Format) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Decimal):
        return money(cell, fmt.thousands)
    if isinstance(cell, datetime):
        return _text_time(cell, fmt)
    return cell


def to_csv(statement: Statement, fmt: Format) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows(statement, fmt):
        writer.writerow([_text(cell, fmt) for cell in row])
    return out.getvalue()


def to_xlsx(statement: Statement, fmt: Format) -> bytes:
    """An Excel workbook of the same rows. With ``cells=typed`` amounts are numbers and times
    are date-times (EAT wall time: Excel has no time zones); everything else is text."""
    from openpyxl import Workbook  # lazily: a project dependency, not the emulator's

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Statement"
    amount_format = "#,##0.00" if fmt.thousands else "0.00"
    for r, row in enumerate(rows(statement, fmt), start=1):
        for c, cell in enumerate(row, start=1):
            if fmt.cells == "text" or not isinstance(cell, Decimal | datetime):
                if cell is not None:
                    sheet.cell(row=r, column=c, value=_text(cell, fmt))
                continue
            if isinstance(cell, datetime):
                target = sheet.cell(row=r, column=c, value=to_eat(cell).replace(tzinfo=None))
                target.number_format = _EXCEL_TIME_FORMATS[fmt.time_format]
            else:
                target = sheet.cell(row=r, column=c, value=cell)
                target.number_format = amount_format
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
