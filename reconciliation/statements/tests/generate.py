"""Statements made to order, for the property tests and the measurements.

A statement is a list of ``Line`` in time order plus a ``Style`` saying how the portal (or a
spreadsheet) wrote it: which preamble, which date format, thousands separators or not, the sign
of withdrawals, a Currency column, newest or oldest first, text or typed cells. ``rows()``
gives the file's rows with running balances and totals that add up, and ``expected()`` what
the reader must make of each line.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from reconciliation.statements.cells import EAT
from reconciliation.statements.tests.workbooks import Value

HEADER = [
    "Receipt No.", "Completion Time", "Initiation Time", "Details", "Transaction Status",
    "Paid In", "Withdrawn", "Balance", "Balance Confirmed", "Reason Type", "Other Party Info",
    "Linked Transaction ID", "A/C No.",
]  # fmt: skip
NEWER_HEADER = [
    "Receipt No", "Completion Time", "Details", "Transaction Status", "Paid In (KSHs)",
    "Withdrawn (KSHs)", "Balance (KSHs)",
]  # fmt: skip
TIME_FORMATS = {
    "dmy": "%d-%m-%Y %H:%M:%S",
    "ymd": "%Y-%m-%d %H:%M:%S",
    "slash": "%d/%m/%Y %H:%M:%S",
}
PREAMBLES = ("none", "separate", "one cell", "totals")


@dataclass(frozen=True, slots=True)
class Line:
    receipt: str
    completed_at: datetime  # aware, EAT
    status: str
    paid_in: Decimal
    withdrawn: Decimal
    details: str
    reason_type: str = ""
    other_party: str = ""
    linked: str = ""
    account: str = ""

    @property
    def completed(self) -> bool:
        return self.status == "Completed"


@dataclass(frozen=True, slots=True)
class Style:
    preamble: str = "totals"  # one of PREAMBLES; "none" is the newer seven-column download
    times: str = "dmy"  # a key of TIME_FORMATS
    separators: bool = True
    negative_withdrawals: bool = False
    currency_column: bool = False
    newest_first: bool = True
    typed: bool = False  # numbers and date-times as spreadsheet cells, not text


def payment(receipt: str, at: datetime, amount: Decimal, *, status: str = "Completed") -> Line:
    """A customer payment as the portal describes it."""
    party = f"2547******{int(receipt[-3:], 36) % 1000:03d} - JANE DOE"
    account = f"NS{int(receipt[:4], 36) % 10000:04d}"
    details = f"Pay Bill Online from {party} Acc. {account}"
    zero = Decimal("0.00")
    return Line(receipt, at, status, amount, zero, details, "Pay Bill Online", party, "", account)


def charge(of: Line, amount: Decimal) -> Line:
    """The Pay Bill Charge beside a payment, sharing its receipt."""
    return replace(
        of, paid_in=Decimal("0.00"), withdrawn=amount, details="Pay Bill Charge",
        reason_type="Pay Bill Charge", account="",
    )  # fmt: skip


def balances(lines: Sequence[Line], opening: Decimal) -> list[Decimal | None]:
    """The running balance after each line (in time order); ``None`` for lines not Completed."""
    out: list[Decimal | None] = []
    balance = opening
    for line in lines:
        if line.completed:
            balance += line.paid_in - line.withdrawn
            out.append(balance)
        else:
            out.append(None)
    return out


def rows(lines: Sequence[Line], style: Style, *, opening: Decimal) -> Iterator[list[Value]]:
    """The file's rows: preamble, header, then the lines (in time order given) as written."""
    completed = [line for line in lines if line.completed]
    paid_in = sum((line.paid_in for line in completed), Decimal("0.00"))
    withdrawn = sum((line.withdrawn for line in completed), Decimal("0.00"))
    closing = opening + paid_in - withdrawn
    start = lines[0].completed_at.replace(hour=0, minute=0, second=0) if lines else None
    end = lines[-1].completed_at.replace(hour=23, minute=59, second=59) if lines else None
    when, money = _when(style), _money(style)
    if style.preamble != "none":
        yield ["Organization Name:", "NENO SACCO SOCIETY LTD"]
        yield ["Organization Short Code:", "600984"]
        if start and end and style.preamble == "one cell":
            yield ["Time Period:", f"From {when(start)} To {when(end)}"]
        elif start and end:
            yield ["Time Period:", "From", when(start), "To", when(end)]
        if style.preamble == "totals":
            out = -withdrawn if style.negative_withdrawals else withdrawn
            yield [
                "Opening Balance:", money(opening), "Closing Balance:", money(closing),
                "Available Balance:", money(closing), "Total Paid In:", money(paid_in),
                "Total Withdrawn:", money(out),
            ]  # fmt: skip
        yield []
    newer = style.preamble == "none"
    yield (NEWER_HEADER if newer else HEADER) + (["Currency"] if style.currency_column else [])
    written = list(zip(lines, balances(lines, opening), strict=True))
    for line, balance in reversed(written) if style.newest_first else written:
        out_ = -line.withdrawn if style.negative_withdrawals else line.withdrawn
        amounts = [
            money(line.paid_in) if line.paid_in else "",
            money(out_) if line.withdrawn else "",
            money(balance) if balance is not None else "",
        ]
        if newer:
            row: list[Value] = [line.receipt, when(line.completed_at), line.details, line.status]
            row += amounts
        else:
            row = [line.receipt, when(line.completed_at), when(line.completed_at), line.details]
            row += [line.status, *amounts, "true", line.reason_type, line.other_party]
            row += [line.linked, line.account]
        yield row + (["KES"] if style.currency_column else [])


def _when(style: Style) -> Callable[[datetime], Value]:
    pattern = TIME_FORMATS[style.times]
    if style.typed:
        return lambda moment: moment.replace(tzinfo=None)
    return lambda moment: moment.strftime(pattern)


def _money(style: Style) -> Callable[[Decimal], Value]:
    if style.typed:
        return lambda amount: amount
    return (lambda amount: f"{amount:,.2f}") if style.separators else (lambda a: f"{a:.2f}")


def csv_bytes(rows_: Iterator[list[Value]] | Sequence[list[Value]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(
        ["" if v is None else str(v) for v in row] for row in rows_
    )
    return out.getvalue().encode()


def many_lines(count: int, *, seed: int = 2026) -> list[Line]:
    """``count`` lines of a busy paybill's month: payments, each second one with its Pay Bill
    Charge, and a failed payment now and then."""
    chance = random.Random(seed)
    at = datetime(2026, 3, 1, 6, 0, tzinfo=EAT)
    lines: list[Line] = []
    while len(lines) < count:
        at += timedelta(seconds=chance.randint(1, 40))
        receipt = "SC" + "".join(chance.choices("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", k=8))
        amount = Decimal(chance.randint(1000, 5_000_000)) / 100
        failed = chance.random() < 0.02
        line = payment(receipt, at, amount, status="Failed" if failed else "Completed")
        lines.append(line)
        if not failed and len(lines) < count and chance.random() < 0.5:
            lines.append(charge(line, Decimal(chance.randint(0, 10800)) / 100 + Decimal("0.01")))
    return lines
