"""What M-Pesa knows happened: every payment attempt, its outcome, and every callback sent.

The ledger is the emulator's source of truth, like Safaricom's own records: statements, Pull
and Transaction Status read it, whatever happened to the callbacks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from daraja_emulator.clock import mpesa_timestamp, to_eat
from daraja_emulator.ids import receipt_number
from daraja_emulator.payers import Payer
from daraja_emulator.settings import Faults

T = TypeVar("T")

PENDING, COMPLETED, REJECTED, CANCELLED = "pending", "completed", "rejected", "cancelled"
PAYBILL, BUY_GOODS = "CustomerPayBillOnline", "CustomerBuyGoodsOnline"


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
    deliveries: list[Delivery] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)

    @property
    def transaction_type(self) -> str:
        return "Pay Bill" if self.command_id == PAYBILL else "Buy Goods"

    @property
    def reason_type(self) -> str:
        return "Pay Bill Online" if self.command_id == PAYBILL else "Buy Goods Online"

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
            "api_version": self.api_version,
            "faults": self.faults.to_dict(),
            "source": self.source,
            "finished": self.done.is_set(),
            "notes": list(self.notes),
            "deliveries": [d.to_dict() for d in self.deliveries],
        }


class Ledger:
    """Thread-safe store. Transactions are mutated only through its methods, under its lock."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._transactions: dict[str, Transaction] = {}
        self._balances: dict[str, Decimal] = {}
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

    def complete(self, tx: Transaction, at: datetime, opening_balance: Decimal) -> Decimal:
        """Move the money: mark completed and return the shortcode's new balance."""
        with self._lock:
            balance = self._balances.get(tx.shortcode, opening_balance) + tx.amount
            self._balances[tx.shortcode] = balance
            tx.status = COMPLETED
            tx.completed_at = at
            tx.balance_after = balance
            return balance

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

    def balance(self, shortcode: str, opening_balance: Decimal) -> Decimal:
        with self._lock:
            return self._balances.get(shortcode, opening_balance)

    def snapshot(self, txs: list[Transaction]) -> list[dict[str, Any]]:
        with self._lock:
            return [tx.to_dict() for tx in txs]

    def clear(self) -> None:
        with self._lock:
            self._transactions.clear()
            self._balances.clear()
