"""What M-Pesa knows happened: every payment attempt, its outcome, every callback sent, and
every line on the organisation's accounts.

The ledger is the emulator's source of truth, like Safaricom's own records: statements, Pull
and Transaction Status read it, whatever happened to the callbacks.

Two records live here. A ``Transaction`` is a customer's payment attempt (what callbacks, Pull
and Transaction Status talk about). A ``Line`` is one movement on one of the organisation's
accounts, as the Org-portal statement lists it: a payment, its charge, a transfer between the
organisation's own accounts, a reversal, or a failed attempt that moved nothing. Balances are
computed from lines only, so the statement, the confirmations' ``OrgAccountBalance`` and the
control API can never disagree.
"""

from __future__ import annotations

import bisect
import itertools
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from daraja_emulator.clock import mpesa_timestamp, to_eat
from daraja_emulator.ids import receipt_number
from daraja_emulator.payers import Payer, portal_msisdn
from daraja_emulator.settings import Faults

T = TypeVar("T")

PENDING, COMPLETED, REJECTED, CANCELLED = "pending", "completed", "rejected", "cancelled"
FAILED = "failed"  # an attempt recorded through the control API; the portal shows why
TX_STATUSES = (PENDING, COMPLETED, REJECTED, CANCELLED, FAILED)
PAYBILL, BUY_GOODS = "CustomerPayBillOnline", "CustomerBuyGoodsOnline"

# The organisation's accounts. C2B payments land in the utility account; sweeps move money to
# the settlement account (from where the organisation withdraws to its bank).
UTILITY, SETTLEMENT = "utility", "settlement"
ACCOUNTS = (UTILITY, SETTLEMENT)
ACCOUNT_NAMES = {UTILITY: "Utility Account", SETTLEMENT: "Organization Settlement Account"}
ACCOUNT_SHORT_NAMES = {UTILITY: "Utility", SETTLEMENT: "Settlement"}

# What a statement line is; the statement words its Details from this.
PAYMENT, CHARGE, TRANSFER = "payment", "charge", "transfer"
REVERSAL, ATTEMPT = "reversal", "attempt"
# The statement's Transaction Status. Only Completed lines move money.
PORTAL_COMPLETED = "Completed"
FAILED_STATUSES = ("Failed", "Cancelled", "Declined")
ZERO = Decimal("0.00")


class LedgerError(Exception):
    """A control-API request the ledger refuses (nothing to reverse, not enough money...)."""


@dataclass
class Delivery:
    """One HTTP attempt to deliver a callback."""

    kind: str
    url: str
    attempted_at: datetime
    status_code: int | None = None
    response_body: str | None = None
    error: str | None = None
    duration_ms: float = 0.0
    payload: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "url": self.url,
            "attempted_at": to_eat(self.attempted_at).isoformat(),
            "status_code": self.status_code,
            "response_body": self.response_body,
            "error": self.error,
            "duration_ms": round(self.duration_ms, 1),
            "payload": self.payload,
        }


@dataclass
class Transaction:
    trans_id: str
    shortcode: str
    command_id: str
    amount: Decimal
    payer: Payer
    bill_ref: str
    initiated_at: datetime
    api_version: str
    names: dict[str, str]
    msisdn_in_callbacks: str
    faults: Faults
    source: str
    status: str = PENDING
    status_reason: str = ""
    completed_at: datetime | None = None
    balance_after: Decimal | None = None
    third_party_trans_id: str = ""
    charge: Decimal = ZERO
    reversed_by: str = ""
    # trans_time minus the wall clock when a payment is back-dated: its completion keeps the
    # same distance from the emulator's clock. Zero for live payments.
    clock_shift: timedelta = timedelta(0)
    deliveries: list[Delivery] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)

    @property
    def transaction_type(self) -> str:
        return "Pay Bill" if self.command_id == PAYBILL else "Buy Goods"

    @property
    def reason_type(self) -> str:
        return "Pay Bill Online" if self.command_id == PAYBILL else "Buy Goods Online"

    @property
    def other_party(self) -> str:
        """``2547******149 - JOHN DOE``: the payer as statements and status results show it."""
        return f"{portal_msisdn(self.payer.msisdn)} - {self.payer.display_name}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "trans_id": self.trans_id,
            "shortcode": self.shortcode,
            "status": self.status,
            "status_reason": self.status_reason,
            "transaction_type": self.transaction_type,
            "command_id": self.command_id,
            "amount": f"{self.amount:.2f}",
            "msisdn": self.payer.msisdn,
            "msisdn_in_callbacks": self.msisdn_in_callbacks,
            "payer": {
                "first_name": self.payer.first_name,
                "middle_name": self.payer.middle_name,
                "last_name": self.payer.last_name,
            },
            "names_in_callbacks": self.names,
            "bill_ref_number": self.bill_ref,
            "trans_time": mpesa_timestamp(self.initiated_at),
            "initiated_at": to_eat(self.initiated_at).isoformat(),
            "completed_at": to_eat(self.completed_at).isoformat() if self.completed_at else None,
            "balance_after": f"{self.balance_after:.2f}"
            if self.balance_after is not None
            else None,
            "third_party_trans_id": self.third_party_trans_id,
            "charge": f"{self.charge:.2f}",
            "reversed_by": self.reversed_by,
            "api_version": self.api_version,
            "faults": self.faults.to_dict(),
            "source": self.source,
            "finished": self.done.is_set(),
            "notes": list(self.notes),
            "deliveries": [d.to_dict() for d in self.deliveries],
        }


@dataclass
class Line:
    """One line of an account statement. ``paid_in``/``withdrawn`` are what the statement shows;
    a line that is not Completed shows its amount but moves no money."""

    receipt: str
    shortcode: str
    account: str
    kind: str
    status: str
    initiated_at: datetime
    completed_at: datetime
    paid_in: Decimal | None
    withdrawn: Decimal | None
    reason_type: str
    command_id: str = ""
    msisdn: str = ""  # the customer's, for payment-related lines
    party_name: str = ""
    bill_ref: str = ""
    linked: str = ""
    counter_account: str = ""  # transfers: the other side
    seq: int = 0
    balance: Decimal = ZERO  # the account's balance after this line

    @property
    def moved(self) -> bool:
        return self.status == PORTAL_COMPLETED

    @property
    def delta(self) -> Decimal:
        if not self.moved:
            return ZERO
        return (self.paid_in or ZERO) - (self.withdrawn or ZERO)

    @property
    def sort_key(self) -> tuple[datetime, int]:
        return (self.completed_at, self.seq)

    def to_dict(self) -> dict[str, Any]:
        def amount(value: Decimal | None) -> str | None:
            return None if value is None else f"{value:.2f}"

        return {
            "receipt": self.receipt,
            "shortcode": self.shortcode,
            "account": self.account,
            "kind": self.kind,
            "status": self.status,
            "initiated_at": to_eat(self.initiated_at).isoformat(),
            "completed_at": to_eat(self.completed_at).isoformat(),
            "paid_in": amount(self.paid_in),
            "withdrawn": amount(self.withdrawn),
            "balance": f"{self.balance:.2f}",
            "reason_type": self.reason_type,
            "msisdn": self.msisdn,
            "party_name": self.party_name,
            "bill_ref": self.bill_ref,
            "linked_transaction_id": self.linked,
            "counter_account": self.counter_account,
        }


def running_balances(lines: Iterable[Line], opening: Decimal) -> list[tuple[Line, Decimal]]:
    """Each line with the balance after it, in the order given."""
    balance = opening
    result = []
    for line in lines:
        balance += line.delta
        result.append((line, balance))
    return result


def charge_for(amount: Decimal, tariff: str) -> Decimal:
    """A shortcode's ``payment_charge``: a fixed amount (``"5.00"``) or a percentage
    (``"0.55%"``, rounded half up to the cent)."""
    text = tariff.strip()
    if text.endswith("%"):
        return (amount * Decimal(text[:-1]) / 100).quantize(ZERO, rounding=ROUND_HALF_UP)
    return Decimal(text).quantize(ZERO)


class Ledger:
    """Thread-safe store. Transactions and lines are mutated only through its methods, under its
    lock. Lines are kept per (shortcode, account) in completion order; inserting a back-dated
    line recomputes the balances after it, as if it had happened then."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._transactions: dict[str, Transaction] = {}
        self._lines: dict[tuple[str, str], list[Line]] = {}
        self._openings: dict[tuple[str, str], Decimal] = {}
        self._seq = itertools.count(1)
        self._issued_ids: set[str] = set()  # survives reset: receipts are globally unique

    def new_trans_id(self, moment: datetime) -> str:
        with self._lock:
            while True:
                candidate = receipt_number(moment)
                if candidate not in self._issued_ids:
                    self._issued_ids.add(candidate)
                    return candidate

    def reserve_trans_id(self, trans_id: str) -> bool:
        with self._lock:
            if trans_id in self._issued_ids:
                return False
            self._issued_ids.add(trans_id)
            return True

    def add(self, tx: Transaction) -> None:
        with self._lock:
            self._transactions[tx.trans_id] = tx

    def get(self, trans_id: str) -> Transaction | None:
        with self._lock:
            return self._transactions.get(trans_id)

    # Moving money -------------------------------------------------------------------------

    def _post(self, line: Line, opening: Decimal) -> None:
        """Insert ``line`` in completion order and recompute the balances from there on."""
        key = (line.shortcode, line.account)
        self._openings.setdefault(key, opening)
        lines = self._lines.setdefault(key, [])
        line.seq = next(self._seq)
        at = bisect.bisect_right(lines, line.sort_key, key=lambda item: item.sort_key)
        lines.insert(at, line)
        balance = lines[at - 1].balance if at else self._openings[key]
        for item in lines[at:]:
            balance += item.delta
            item.balance = balance

    def _current(self, shortcode: str, account: str, opening: Decimal) -> Decimal:
        lines = self._lines.get((shortcode, account))
        if lines:
            return lines[-1].balance
        return self._openings.get((shortcode, account), opening)

    def _customer_line(self, tx: Transaction, at: datetime, kind: str, status: str) -> Line:
        return Line(
            receipt=tx.trans_id,
            shortcode=tx.shortcode,
            account=UTILITY,
            kind=kind,
            status=status,
            initiated_at=tx.initiated_at,
            completed_at=at,
            paid_in=tx.amount,
            withdrawn=None,
            reason_type=tx.reason_type,
            command_id=tx.command_id,
            msisdn=tx.payer.msisdn,
            party_name=tx.payer.display_name,
            bill_ref=tx.bill_ref,
        )

    def complete(
        self,
        tx: Transaction,
        when: Callable[[], datetime],
        *,
        opening_balance: Decimal,
        tariff: str = "0",
    ) -> Decimal:
        """Move the money: the payment's line (and its charge's, if the shortcode is charged),
        then mark the payment completed. Returns the balance right after the payment, the
        ``OrgAccountBalance`` its confirmation carries. ``when`` is read under the lock, so
        live payments complete in the order their balances were computed."""
        with self._lock:
            at = when()
            line = self._customer_line(tx, at, PAYMENT, PORTAL_COMPLETED)
            self._post(line, opening_balance)
            charge = charge_for(tx.amount, tariff)
            if charge > 0:
                name = "Pay Bill Charge" if tx.command_id == PAYBILL else "Pay Merchant Charge"
                self._post(
                    Line(
                        receipt=tx.trans_id,
                        shortcode=tx.shortcode,
                        account=UTILITY,
                        kind=CHARGE,
                        status=PORTAL_COMPLETED,
                        initiated_at=tx.initiated_at,
                        completed_at=at,
                        paid_in=None,
                        withdrawn=charge,
                        reason_type=name,
                        command_id=tx.command_id,
                    ),
                    opening_balance,
                )
            tx.status = COMPLETED
            tx.completed_at = at
            tx.balance_after = line.balance
            tx.charge = charge
            return line.balance

    def fail(
        self, tx: Transaction, at: datetime, portal_status: str, *, opening_balance: Decimal
    ) -> Line:
        """A customer's attempt that did not go through: on the statement, never money."""
        with self._lock:
            line = self._customer_line(tx, at, ATTEMPT, portal_status)
            self._post(line, opening_balance)
            tx.status = FAILED
            tx.status_reason = portal_status
            return line

    def reverse(
        self, tx: Transaction, at: datetime, receipt: str, *, opening_balance: Decimal
    ) -> Line:
        """Safaricom reverses a completed payment: a Withdrawn line of its own, linked to it."""
        with self._lock:
            if tx.status != COMPLETED or tx.completed_at is None:
                raise LedgerError(f"{tx.trans_id} is {tx.status}: only completed payments reverse")
            if tx.reversed_by:
                raise LedgerError(f"{tx.trans_id} was already reversed by {tx.reversed_by}")
            if at < tx.completed_at:
                raise LedgerError("a reversal cannot precede the payment it reverses")
            available = self._current(tx.shortcode, UTILITY, opening_balance)
            if available < tx.amount:
                raise LedgerError(f"the Utility Account holds {available:.2f}: not enough")
            line = Line(
                receipt=receipt,
                shortcode=tx.shortcode,
                account=UTILITY,
                kind=REVERSAL,
                status=PORTAL_COMPLETED,
                initiated_at=at,
                completed_at=at,
                paid_in=None,
                withdrawn=tx.amount,
                reason_type="Reversal",
                command_id=tx.command_id,
                msisdn=tx.payer.msisdn,
                party_name=tx.payer.display_name,
                bill_ref=tx.bill_ref,
                linked=tx.trans_id,
            )
            self._post(line, opening_balance)
            tx.reversed_by = receipt
            return line

    def transfer(
        self,
        shortcode: str,
        amount: Decimal,
        source: str,
        target: str,
        at: datetime,
        receipt: str,
        *,
        openings: dict[str, Decimal],
    ) -> tuple[Line, Line]:
        """Move money between the organisation's own accounts: one receipt, a Withdrawn line
        on ``source`` and a Paid In line on ``target``."""
        with self._lock:
            available = self._current(shortcode, source, openings[source])
            if available < amount:
                raise LedgerError(f"the {ACCOUNT_NAMES[source]} holds {available:.2f}: not enough")
            reason = (
                f"Business Transfer From {ACCOUNT_SHORT_NAMES[source]} "
                f"To {ACCOUNT_SHORT_NAMES[target]}"
            )
            lines = []
            for account, other, paid_in, withdrawn in (
                (source, target, None, amount),
                (target, source, amount, None),
            ):
                line = Line(
                    receipt=receipt,
                    shortcode=shortcode,
                    account=account,
                    kind=TRANSFER,
                    status=PORTAL_COMPLETED,
                    initiated_at=at,
                    completed_at=at,
                    paid_in=paid_in,
                    withdrawn=withdrawn,
                    reason_type=reason,
                    counter_account=other,
                )
                self._post(line, openings[account])
                lines.append(line)
            return lines[0], lines[1]

    def finish(self, tx: Transaction, status: str, reason: str) -> None:
        with self._lock:
            tx.status = status
            tx.status_reason = reason

    def update(self, tx: Transaction, change: Callable[[Transaction], None]) -> None:
        with self._lock:
            change(tx)

    def read(self, getter: Callable[[], T]) -> T:
        """Run ``getter`` under the lock, for a consistent view of records being processed."""
        with self._lock:
            return getter()

    def record_delivery(self, tx: Transaction, delivery: Delivery) -> None:
        with self._lock:
            tx.deliveries.append(delivery)

    def note(self, tx: Transaction, text: str) -> None:
        with self._lock:
            tx.notes.append(text)

    # Reading ------------------------------------------------------------------------------

    def transactions(
        self, shortcode: str | None = None, status: str | None = None
    ) -> list[Transaction]:
        with self._lock:
            return [
                tx
                for tx in self._transactions.values()
                if (shortcode is None or tx.shortcode == shortcode)
                and (status is None or tx.status == status)
            ]

    def completed_in_order(self, shortcode: str) -> list[Transaction]:
        items = self.transactions(shortcode, COMPLETED)
        return sorted(items, key=lambda tx: (tx.completed_at, tx.trans_id))

    def lines(self, shortcode: str, accounts: Iterable[str] = ACCOUNTS) -> list[Line]:
        """The lines of ``accounts``, merged in completion order (oldest first)."""
        with self._lock:
            merged = [line for a in accounts for line in self._lines.get((shortcode, a), [])]
        return sorted(merged, key=lambda line: line.sort_key)

    def opening(self, shortcode: str, account: str, default: Decimal) -> Decimal:
        """The balance before the account's first line."""
        with self._lock:
            return self._openings.get((shortcode, account), default)

    def balance(self, shortcode: str, opening_balance: Decimal, account: str = UTILITY) -> Decimal:
        """The account's balance after its latest line."""
        with self._lock:
            return self._current(shortcode, account, opening_balance)

    def snapshot(self, txs: list[Transaction]) -> list[dict[str, Any]]:
        with self._lock:
            return [tx.to_dict() for tx in txs]

    def line_snapshot(self, lines: Iterable[Line]) -> list[dict[str, Any]]:
        with self._lock:
            return [line.to_dict() for line in lines]

    def clear(self) -> None:
        with self._lock:
            self._transactions.clear()
            self._lines.clear()
            self._openings.clear()
