"""Finding the header row by what its cells mean, not where they stand.

Column names are compared by their letters and digits only, case-insensitively, with anything in
brackets set aside: ``Receipt No.``, ``Receipt No`` and ``RECEIPT NO`` are one column, and
``Paid In (KSHs)`` is ``Paid In`` with its currency noted. A row is the header when it names at
least the ``REQUIRED`` columns; the rest are optional, and unknown columns are ignored (their
cells stay in each line's ``raw``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from reconciliation.statements.cells import Cell, cell_text

RECEIPT = "Receipt No."
COMPLETED = "Completion Time"
INITIATED = "Initiation Time"
DETAILS = "Details"
STATUS = "Transaction Status"
PAID_IN = "Paid In"
WITHDRAWN = "Withdrawn"
BALANCE = "Balance"
BALANCE_CONFIRMED = "Balance Confirmed"
REASON_TYPE = "Reason Type"
OTHER_PARTY = "Other Party Info"
LINKED = "Linked Transaction ID"
ACCOUNT = "A/C No."
CURRENCY = "Currency"

COLUMNS = (
    RECEIPT, COMPLETED, INITIATED, DETAILS, STATUS, PAID_IN, WITHDRAWN, BALANCE,
    BALANCE_CONFIRMED, REASON_TYPE, OTHER_PARTY, LINKED, ACCOUNT, CURRENCY,
)  # fmt: skip
REQUIRED = (RECEIPT, COMPLETED, STATUS, PAID_IN, WITHDRAWN)

_NAMES = {
    RECEIPT: ("receiptno", "receiptnumber", "receipt"),
    COMPLETED: ("completiontime", "completedtime", "completiondate"),
    INITIATED: ("initiationtime", "initiatedtime", "initiationdate"),
    DETAILS: ("details", "description"),
    STATUS: ("transactionstatus", "status"),
    PAID_IN: ("paidin",),
    WITHDRAWN: ("withdrawn", "withdrawal", "withdrawals"),
    BALANCE: ("balance",),
    BALANCE_CONFIRMED: ("balanceconfirmed",),
    REASON_TYPE: ("reasontype",),
    OTHER_PARTY: ("otherpartyinfo", "otherparty"),
    LINKED: ("linkedtransactionid", "linkedtransaction"),
    ACCOUNT: ("acno", "accountno", "accountnumber"),
    CURRENCY: ("currency",),
}
_BY_KEY = {key: name for name, keys in _NAMES.items() for key in keys}
_BRACKETED = re.compile(r"\(([^)]*)\)")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_SHILLINGS = frozenset({"kes", "ksh", "kshs"})


def column_key(text: str) -> str:
    """``"Paid In (KSHs)"`` → ``"paidin"``: the part of a name that carries its meaning."""
    return _NOT_ALNUM.sub("", _BRACKETED.sub("", text).lower())


@dataclass(frozen=True, slots=True)
class Header:
    """The header row: its row number (1-based), where each known column stands (first
    occurrence wins), its cells as written, and the currency its names state (``KES`` from
    ``Paid In (KSHs)``), if any."""

    row: int
    positions: dict[str, int]
    texts: tuple[str, ...]
    currency: str

    @property
    def columns(self) -> tuple[str, ...]:
        """The known columns found, in the file's order."""
        return tuple(sorted(self.positions, key=self.positions.__getitem__))


def columns_named(cells: Sequence[Cell]) -> dict[str, int]:
    """Which known columns this row names, and where."""
    positions: dict[str, int] = {}
    for index, cell in enumerate(cells):
        if isinstance(cell, str):
            name = _BY_KEY.get(column_key(cell))
            if name is not None and name not in positions:
                positions[name] = index
    return positions


def header_of(row: int, cells: Sequence[Cell]) -> Header | None:
    """The header, if this row is one."""
    positions = columns_named(cells)
    if not all(name in positions for name in REQUIRED):
        return None
    currency = ""
    for cell in cells:
        for unit in _BRACKETED.findall(cell if isinstance(cell, str) else ""):
            if unit.strip().lower() in _SHILLINGS:
                currency = "KES"
    return Header(row, positions, tuple(cell_text(c).strip() for c in cells), currency)


def missing_columns(cells: Sequence[Cell]) -> tuple[str, ...]:
    """The required columns this row does not name."""
    positions = columns_named(cells)
    return tuple(name for name in REQUIRED if name not in positions)
