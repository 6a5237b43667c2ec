"""What a statement reads into: its preamble, its lines, the lines it could not read, one error.

Everything here is immutable and slotted: a 100,000-line statement is streamed one line at a
time, and each line costs no more than its fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class StatementError(Exception):
    """The bytes are not a statement this package can read. The message is for staff: it says
    what is missing or what to do (for example, save the file as XLSX or CSV)."""


class LineKind(StrEnum):
    """What a statement line is, whatever its status. Only ``PAYMENT`` lines are customers
    paying the SACCO; every other kind is kept and shown, never matched to a member."""

    PAYMENT = "payment"
    CHARGE = "charge"
    TRANSFER = "transfer"
    REVERSAL = "reversal"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Preamble:
    """The rows above the header row, read by their labels.

    Every figure is ``None`` when the file does not state it. Times are aware (EAT). Withdrawn
    totals are given as positive amounts whatever sign the file writes them with. ``labels``
    holds every ``Label:`` and its value as written (label without its colon), ``rows`` every
    preamble row as text, so nothing the file says is lost; ``problems`` names stated values that
    could not be read (a statement with one cannot be proven complete).
    """

    organisation: str = ""
    shortcode: str = ""
    account: str = ""
    period_start: datetime | None = None
    period_end: datetime | None = None
    opening_balance: Decimal | None = None
    closing_balance: Decimal | None = None
    available_balance: Decimal | None = None
    total_paid_in: Decimal | None = None
    total_withdrawn: Decimal | None = None
    labels: dict[str, str] = field(default_factory=dict)
    rows: tuple[tuple[str, ...], ...] = ()
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One line of the statement, read.

    ``row`` is the line's row number in the file (1-based, as a spreadsheet shows it) and
    ``raw`` its cells as text. ``receipt`` and ``linked_receipt`` are upper case. Times are
    aware (EAT). ``completed`` is true only for status ``Completed``: only those lines moved
    money. ``paid_in`` and ``withdrawn`` are never negative (a file writing withdrawals as
    negative numbers reads the same as one writing them positive); blank amounts are zero;
    ``balance`` is ``None`` when the file gives none. ``payer_msisdn`` is the phone as written
    (masked, full or hashed; never a number), or ``""`` when the other party is not a phone (a
    bank's or an organisation's shortcode stays in ``other_party``). ``account`` is ``A/C No.``
    as typed, or the ``Acc.`` part of ``Details`` when the file has no such column. ``kind``
    says what the line is and ``kind_reason`` why it was judged so.
    """

    row: int
    receipt: str
    completed_at: datetime
    initiated_at: datetime | None
    details: str
    status: str
    completed: bool
    paid_in: Decimal
    withdrawn: Decimal
    balance: Decimal | None
    balance_confirmed: bool | None
    reason_type: str
    other_party: str
    payer_msisdn: str
    payer_name: str
    linked_receipt: str
    account: str
    currency: str
    kind: LineKind
    kind_reason: str
    raw: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LineProblem:
    """A row below the header that could not be read, and why; ``raw`` keeps its cells as text
    so the row can be shown to staff and corrected."""

    row: int
    reason: str
    raw: tuple[str, ...]
