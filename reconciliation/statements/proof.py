"""Proof of completeness: does the statement add up to what its preamble states?

A row deleted or edited in a spreadsheet leaves a statement that still looks whole. Where the
preamble states figures, the lines must agree with them, and each check that could be made is
named in ``Proof.checked``:

- **Total Paid In / Total Withdrawn**: the Completed lines' Paid In and Withdrawn add up to the
  stated totals (a withdrawal counts the same whichever sign the file writes it with).
- **Opening + in - out = Closing**: the opening balance plus what the Completed lines brought in
  minus what they took out is the closing balance.
- **Running Balance**: each Completed line's ``Balance`` follows from the line before it in time
  (newest first, as the portal writes, or oldest first: the order is read from the first and
  last lines' times, and from the balances when those are equal). Lines without a Balance are
  carried over to the next line that has one. Where opening and closing balances are stated,
  the oldest line must follow from the opening balance and the newest must end at the closing.
- **Period**: no line lies outside the stated period.
- **Every row read**: a row that could not be read may be money, so it is a discrepancy too.

``complete`` is true only when the stated figures cover both money in and money out (both
totals, or the opening and closing balances) and nothing disagrees. A statement stating no
figures is not proven (``notes`` says so), but that is not an error. ``Available Balance`` is
recorded in the preamble but not checked: it is the closing balance less funds held, which the
statement does not list.

Only the running sums and the neighbouring line are kept, so this streams like the reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from reconciliation.statements.cells import money_text
from reconciliation.statements.model import LineProblem
from reconciliation.statements.reader import Statement

MAX_LISTED = 50
"""At most this many discrepancies of one kind are spelled out; the rest are counted."""

NEWEST_FIRST = "newest first"
OLDEST_FIRST = "oldest first"
_ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Proof:
    """The outcome of ``statement_proof``.

    ``paid_in`` and ``withdrawn`` are the sums of the Completed lines (withdrawn as a positive
    amount); ``lines`` counts the lines read, ``completed_lines`` those Completed, ``problems``
    the rows that could not be read. ``first_completed_at`` and ``last_completed_at`` are the
    earliest and latest Completed lines' times. ``period_start``/``period_end`` are the stated
    period's bounds; a bound not stated is the earliest or latest line's time (``period_stated``
    is true only when both are stated). ``order`` is
    ``"newest first"``, ``"oldest first"`` or ``""`` (fewer than two lines with a Balance).
    """

    complete: bool
    checked: tuple[str, ...]
    discrepancies: tuple[str, ...]
    notes: tuple[str, ...]
    paid_in: Decimal
    withdrawn: Decimal
    lines: int
    completed_lines: int
    problems: int
    first_completed_at: datetime | None
    last_completed_at: datetime | None
    period_start: datetime | None
    period_end: datetime | None
    period_stated: bool
    order: str


@dataclass(slots=True)
class _Listed:
    """Discrepancies of one kind: the first ``MAX_LISTED`` spelled out, the rest counted."""

    what: str
    messages: list[str] = field(default_factory=list)
    count: int = 0

    def add(self, message: str) -> None:
        self.count += 1
        if len(self.messages) < MAX_LISTED:
            self.messages.append(message)

    def all(self) -> list[str]:
        more = self.count - len(self.messages)
        return self.messages + ([f"... and {more:,} more {self.what}"] if more else [])


@dataclass(slots=True)
class _Balanced:
    row: int
    balance: Decimal
    net: Decimal


@dataclass(slots=True)
class _Chain:
    """The running balance read in one direction."""

    order: str
    breaks: _Listed
    previous: _Balanced | None = None

    def follow(self, line: _Balanced, carry: Decimal) -> None:
        """``carry``: the net of the Completed lines without a Balance between the two."""
        previous = self.previous
        self.previous = line
        if previous is None:
            return
        if self.order == NEWEST_FIRST:  # the line above is the later one
            later, earlier, moved = previous, line, previous.net + carry
        else:
            later, earlier, moved = line, previous, line.net + carry
        if earlier.balance + moved != later.balance:
            sign = "+" if moved >= 0 else "-"
            self.breaks.add(
                f"line {later.row}: Balance {money_text(later.balance)} does not follow from "
                f"line {earlier.row}'s {money_text(earlier.balance)} {sign} "
                f"{money_text(abs(moved))} (that makes {money_text(earlier.balance + moved)})"
            )


def statement_proof(statement: Statement) -> Proof:
    """Read every line of ``statement`` once and say whether it is proven complete, what
    could be checked, and every discrepancy found (see the module's description)."""
    preamble = statement.preamble
    start, end = preamble.period_start, preamble.period_end
    paid_in = withdrawn = _ZERO
    lines = completed = 0
    first_at = last_at = earliest = latest = None
    file_first = file_last = None
    chains = (_Chain(NEWEST_FIRST, _Listed("breaks")), _Chain(OLDEST_FIRST, _Listed("breaks")))
    first_balanced: _Balanced | None = None
    last_balanced: _Balanced | None = None
    lead = carry = _ZERO
    unreadable = _Listed("rows that could not be read")
    outside = _Listed("lines outside the period")

    for item in statement.rows():
        if isinstance(item, LineProblem):
            unreadable.add(f"line {item.row} could not be read: {item.reason}")
            continue
        lines += 1
        at = item.completed_at
        file_first = file_first or at
        file_last = at
        earliest = at if earliest is None or at < earliest else earliest
        latest = at if latest is None or at > latest else latest
        if (start and at < start) or (end and at > end):
            outside.add(f"line {item.row}: completed {at:%d-%m-%Y %H:%M:%S}, outside the period")
        if not item.completed:
            continue
        completed += 1
        paid_in += item.paid_in
        withdrawn += item.withdrawn
        first_at = at if first_at is None or at < first_at else first_at
        last_at = at if last_at is None or at > last_at else last_at
        net = item.paid_in - item.withdrawn
        if item.balance is None:
            carry += net
            continue
        balanced = _Balanced(item.row, item.balance, net)
        if first_balanced is None:
            first_balanced, lead = balanced, carry
        for chain in chains:
            chain.follow(balanced, carry)
        last_balanced, carry = balanced, _ZERO

    checked = ["every row read"]
    discrepancies = list(preamble.problems)
    notes: list[str] = []
    discrepancies += unreadable.all()
    money_in_and_out = False

    for label, stated, summed in (
        ("Total Paid In", preamble.total_paid_in, paid_in),
        ("Total Withdrawn", preamble.total_withdrawn, withdrawn),
    ):
        if stated is not None:
            checked.append(label)
            if stated != summed:
                discrepancies.append(_differs(label, stated, summed))
    if preamble.total_paid_in is not None and preamble.total_withdrawn is not None:
        money_in_and_out = True

    opening, closing = preamble.opening_balance, preamble.closing_balance
    if opening is not None and closing is not None:
        money_in_and_out = True
        checked.append("Opening Balance + Paid In - Withdrawn = Closing Balance")
        if opening + paid_in - withdrawn != closing:
            discrepancies.append(
                f"Opening Balance {money_text(opening)} + {money_text(paid_in)} - "
                f"{money_text(withdrawn)} = {money_text(opening + paid_in - withdrawn)}, not "
                f"the stated Closing Balance {money_text(closing)} (differs by "
                f"{money_text(abs(closing - (opening + paid_in - withdrawn)))})"
            )

    order = ""
    if first_balanced is not None and last_balanced is not None:
        ends = _Ends(first_balanced, last_balanced, lead, carry, opening, closing)
        order = _order(file_first, file_last, chains, ends)
        if first_balanced is not last_balanced:
            checked.append(f"running Balance ({order})")
            discrepancies += (chains[1] if order == OLDEST_FIRST else chains[0]).breaks.all()
        if opening is not None:
            checked.append("the oldest line follows from the Opening Balance")
        if closing is not None:
            checked.append("the newest line ends at the Closing Balance")
        discrepancies += ends.mismatches(order)
    elif completed:
        notes.append("the lines carry no Balance: the running balance could not be checked")

    if start is not None or end is not None:
        checked.append("lines within the stated period")
        discrepancies += outside.all()
    if not money_in_and_out:
        notes.append(
            "the preamble states neither both totals nor the opening and closing balances: "
            "nothing proves that no line is missing"
        )
    stated = start is not None and end is not None
    return Proof(
        complete=money_in_and_out and not discrepancies,
        checked=tuple(checked),
        discrepancies=tuple(discrepancies),
        notes=tuple(notes),
        paid_in=paid_in,
        withdrawn=withdrawn,
        lines=lines,
        completed_lines=completed,
        problems=unreadable.count,
        first_completed_at=first_at,
        last_completed_at=last_at,
        period_start=start or earliest,
        period_end=end or latest,
        period_stated=stated,
        order=order,
    )


def _differs(label: str, stated: Decimal, summed: Decimal) -> str:
    gap = stated - summed
    how = f"{money_text(gap)} missing" if gap > 0 else f"{money_text(-gap)} more than stated"
    return f"{label} stated {money_text(stated)}, lines add up to {money_text(summed)} ({how})"


@dataclass(frozen=True, slots=True)
class _Ends:
    """The first and last lines with a Balance, the net of the lines without one before the
    first and after the last, and the stated balances they must meet."""

    first: _Balanced
    last: _Balanced
    lead: Decimal
    trail: Decimal
    opening: Decimal | None
    closing: Decimal | None

    def mismatches(self, order: str) -> list[str]:
        """Where the oldest line does not follow from the opening balance, or the newest does
        not end at the closing balance, reading the file in ``order``."""
        newest_first = order == NEWEST_FIRST
        newest, oldest = (self.first, self.last) if newest_first else (self.last, self.first)
        newer, older = (self.lead, self.trail) if newest_first else (self.trail, self.lead)
        found = []
        if self.opening is not None:
            moved = oldest.net + older
            if self.opening + moved != oldest.balance:
                found.append(
                    f"line {oldest.row} (the oldest): Balance {money_text(oldest.balance)} does "
                    f"not follow from the Opening Balance {money_text(self.opening)} "
                    f"{'+' if moved >= 0 else '-'} {money_text(abs(moved))}"
                )
        if self.closing is not None and newest.balance + newer != self.closing:
            found.append(
                f"line {newest.row} (the newest): Balance {money_text(newest.balance)} "
                f"does not end at the Closing Balance {money_text(self.closing)}"
            )
        return found


def _order(
    first: datetime | None, last: datetime | None, chains: tuple[_Chain, _Chain], ends: _Ends
) -> str:
    """By the first and last lines' times; when those are equal, the reading in which fewer
    balances disagree (newest first, the portal's order, if both agree as well)."""
    if first is not None and last is not None and first != last:
        return NEWEST_FIRST if first > last else OLDEST_FIRST
    newest, oldest = (chain.breaks.count + len(ends.mismatches(chain.order)) for chain in chains)
    return OLDEST_FIRST if oldest < newest else NEWEST_FIRST
