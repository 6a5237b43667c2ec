"""The format-independent reading: which door a file goes through, where its header row is,
what its preamble says, and each row below the header read into a line (or a problem).

``open_statement`` reads only down to the header row; ``Statement.rows()`` reads the lines,
from the bytes, each time it is called, one row at a time, so a statement of any length costs
the memory of one line, and reading it twice (a proof, then an import) costs a second pass, not
a copy.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal

from reconciliation.statements import header as columns
from reconciliation.statements.cells import (
    Cell,
    CellError,
    cell_text,
    parse_money,
    parse_time,
)
from reconciliation.statements.classify import classify, details_parts, party_parts
from reconciliation.statements.csv import csv_sources
from reconciliation.statements.header import REQUIRED, Header, header_of, missing_columns
from reconciliation.statements.model import (
    LineProblem,
    Preamble,
    StatementError,
    StatementLine,
)
from reconciliation.statements.preamble import preamble_read
from reconciliation.statements.source import RowSource
from reconciliation.statements.xls import xls_sources
from reconciliation.statements.xlsx import xlsx_sources

HEADER_SEARCH_ROWS = 1000
"""How far down the header row is looked for: a preamble of any length seen in practice is
a handful of rows; a file without a header in its first thousand is no statement."""

_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZERO = Decimal("0.00")
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})
_RECEIPT_KEYS = frozenset({"receiptno", "receiptnumber", "receipt"})


class Statement:
    """An Org-portal statement whose header row has been found.

    ``format`` is ``"csv"``, ``"xlsx"`` or ``"xls"`` (as read from the bytes, whatever the file
    was named); ``header_row`` the header's row number (1-based); ``columns`` the known columns
    it names (canonical names, in the file's order) and ``header`` its cells as written.
    """

    __slots__ = ("_header", "_source", "filename", "format", "preamble")

    def __init__(
        self, *, format: str, filename: str, preamble: Preamble, header: Header, source: RowSource
    ) -> None:
        self.format = format
        self.filename = filename
        self.preamble = preamble
        self._header = header
        self._source = source

    @property
    def header_row(self) -> int:
        return self._header.row

    @property
    def columns(self) -> tuple[str, ...]:
        return self._header.columns

    @property
    def header(self) -> tuple[str, ...]:
        return self._header.texts

    def rows(self) -> Iterator[StatementLine | LineProblem]:
        """Every row below the header, in the file's order, read afresh from the bytes: a
        ``StatementLine``, or a ``LineProblem`` naming the row and what is wrong with it. Blank
        rows and repeated header rows are passed over. May raise ``StatementError`` if the file
        turns out damaged below its header (a truncated workbook)."""
        read = _LineReader(self._header)
        rows = itertools.islice(self._source(), self._header.row, None)
        for number, cells in enumerate(rows, start=self._header.row + 1):
            item = read(number, cells)
            if item is not None:
                yield item

    __iter__ = rows

    def __repr__(self) -> str:
        return f"<Statement {self.format} {self.filename!r} header at row {self.header_row}>"


def open_statement(data: bytes, *, filename: str = "") -> Statement:
    """Open the statement in ``data`` (the file's bytes; ``filename`` is only for messages).

    The format is read from the bytes: an XLSX or Excel 97 workbook, else CSV text. Raises
    ``StatementError``, and nothing else, when the bytes are no statement: empty, a PDF or web
    page, a damaged workbook, or no header row (the message names the columns looked for, and
    what the closest row lacked).
    """
    format, sources = _sources(data)
    closest: tuple[int, int, tuple[str, ...]] | None = None  # (found, row, missing)
    for source in sources:
        found = _find_header(source)
        if isinstance(found, Header):
            return Statement(
                format=format,
                filename=filename,
                preamble=preamble_read(_preamble_rows(source, found.row)),
                header=found,
                source=source,
            )
        if found is not None and (closest is None or found[0] > closest[0]):
            closest = found
    raise StatementError(_no_header(closest))


def _sources(data: bytes) -> tuple[str, list[RowSource]]:
    if not data:
        raise StatementError("the file is empty")
    if data.startswith(_XLSX_MAGIC):
        return "xlsx", xlsx_sources(data)
    if data.startswith(_XLS_MAGIC):
        return "xls", xls_sources(data)
    if data.startswith(b"%PDF"):
        raise StatementError(
            "this is a PDF statement, which cannot be read: download the statement from the "
            "M-Pesa portal as CSV or Excel"
        )
    if data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        raise StatementError(
            "this is a web page or XML file, not a statement (some exports named .xls are): "
            "open it in Excel and save it as XLSX or CSV"
        )
    return "csv", csv_sources(data)


def _find_header(source: RowSource) -> Header | tuple[int, int, tuple[str, ...]] | None:
    """The header, or else the closest row as (how many required columns, row, missing)."""
    closest = None
    for number, cells in enumerate(itertools.islice(source(), HEADER_SEARCH_ROWS), start=1):
        found = header_of(number, cells)
        if found is not None:
            return found
        missing = missing_columns(cells)
        named = len(REQUIRED) - len(missing)
        if named and (closest is None or named > closest[0]):
            closest = (named, number, missing)
    return closest


def _preamble_rows(source: RowSource, header_row: int) -> list[Sequence[Cell]]:
    return list(itertools.islice(source(), header_row - 1))


def _no_header(closest: tuple[int, int, tuple[str, ...]] | None) -> str:
    wanted = ", ".join(REQUIRED)
    message = (
        f"no header row with {wanted} in the first {HEADER_SEARCH_ROWS:,} rows: "
        "this does not look like an M-Pesa statement"
    )
    if closest is not None:
        _, row, missing = closest
        message += f" (the closest, row {row}, lacks {', '.join(missing)})"
    return message


class _LineReader:
    """Reads rows below one header. Built once per pass; called once per row."""

    __slots__ = (
        "account",
        "balance",
        "balance_confirmed",
        "completed",
        "currency",
        "default_currency",
        "details",
        "header",
        "initiated",
        "linked",
        "other_party",
        "paid_in",
        "reason_type",
        "receipt",
        "status",
        "withdrawn",
    )

    def __init__(self, header: Header) -> None:
        at = header.positions.get
        self.header = header
        self.receipt = at(columns.RECEIPT, -1)
        self.completed = at(columns.COMPLETED, -1)
        self.initiated = at(columns.INITIATED, -1)
        self.details = at(columns.DETAILS, -1)
        self.status = at(columns.STATUS, -1)
        self.paid_in = at(columns.PAID_IN, -1)
        self.withdrawn = at(columns.WITHDRAWN, -1)
        self.balance = at(columns.BALANCE, -1)
        self.balance_confirmed = at(columns.BALANCE_CONFIRMED, -1)
        self.reason_type = at(columns.REASON_TYPE, -1)
        self.other_party = at(columns.OTHER_PARTY, -1)
        self.linked = at(columns.LINKED, -1)
        self.account = at(columns.ACCOUNT, -1)
        self.currency = at(columns.CURRENCY, -1)
        self.default_currency = header.currency

    def __call__(self, number: int, cells: Sequence[Cell]) -> StatementLine | LineProblem | None:
        raw = _raw(cells)
        if not raw:
            return None
        size = len(cells)

        def cell(at: int) -> Cell:
            return cells[at] if 0 <= at < size else None

        def text(at: int) -> str:
            value = cells[at] if 0 <= at < size else None
            return value.strip() if isinstance(value, str) else cell_text(value).strip()

        receipt = text(self.receipt).upper()
        if columns.column_key(receipt) in _RECEIPT_KEYS and header_of(number, cells) is not None:
            return None  # the header repeated (a page break in the export)
        problems: list[str] = []
        if not receipt:
            problems.append("no Receipt No.")
        elif not (receipt.isalnum() and receipt.isascii()):
            problems.append(f"Receipt No. {receipt!r} is not a receipt number")
        completed_at = _time(cell(self.completed), columns.COMPLETED, problems, required=True)
        initiated_at = _time(cell(self.initiated), columns.INITIATED, problems, required=False)
        status = text(self.status)
        if not status:
            problems.append("no Transaction Status")
        paid_in = _money(cell(self.paid_in), columns.PAID_IN, problems)
        if paid_in is not None and paid_in < 0:
            problems.append(f"Paid In {paid_in} is negative")
        withdrawn = _money(cell(self.withdrawn), columns.WITHDRAWN, problems)
        balance = _money(cell(self.balance), columns.BALANCE, problems)
        if problems or completed_at is None:
            return LineProblem(number, "; ".join(problems), raw)

        details = text(self.details)
        what_party_account = details_parts(details) if details else ("", "", None)
        other_party = text(self.other_party) or what_party_account[1]
        payer_msisdn, payer_name = party_parts(other_party) if other_party else ("", "")
        account = cell_text(cell(self.account)) if self.account >= 0 else ""
        if not account.strip():
            account = what_party_account[2] or ""
        linked = text(self.linked).upper()
        reason_type = text(self.reason_type)
        paid_in = paid_in or _ZERO
        withdrawn = abs(withdrawn) if withdrawn else _ZERO
        kind, why = classify(
            details=details,
            reason_type=reason_type,
            account=account,
            linked_receipt=linked,
            money_out=withdrawn > 0,
        )
        return StatementLine(
            row=number,
            receipt=receipt,
            completed_at=completed_at,
            initiated_at=initiated_at,
            details=details,
            status=status,
            completed=status.lower() == "completed",
            paid_in=paid_in,
            withdrawn=withdrawn,
            balance=balance,
            balance_confirmed=_yes_no(cell(self.balance_confirmed)),
            reason_type=reason_type,
            other_party=other_party,
            payer_msisdn=payer_msisdn,
            payer_name=payer_name,
            linked_receipt=linked,
            account=account,
            currency=text(self.currency) or self.default_currency,
            kind=kind,
            kind_reason=why,
            raw=raw,
        )


def _raw(cells: Sequence[Cell]) -> tuple[str, ...]:
    """The row's cells as text, without trailing empty cells; ``()`` for a blank row."""
    raw = [cell_text(c) for c in cells]
    while raw and not raw[-1].strip():
        raw.pop()
    return tuple(raw)


def _time(cell: Cell, name: str, problems: list[str], *, required: bool) -> datetime | None:
    try:
        moment = parse_time(cell)
    except CellError as error:
        problems.append(f"{name} {error}")
        return None
    if moment is None and required:
        problems.append(f"no {name}")
    return moment


def _money(cell: Cell, name: str, problems: list[str]) -> Decimal | None:
    try:
        return parse_money(cell)
    except CellError as error:
        problems.append(f"{name} {error}")
        return None


def _yes_no(cell: Cell) -> bool | None:
    if isinstance(cell, bool):
        return cell
    word = cell_text(cell).strip().lower()
    return True if word in _TRUE else False if word in _FALSE else None
