"""The transaction export format, shared by the command and (later) the staff web app.

Columns follow Daraja's callback field names so a SACCO's existing spreadsheets keep working.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from django.db.models import QuerySet

from c2b.models import Payment
from c2b.payloads import EAT

EXPORT_HEADER = [
    "TransID",
    "TransactionType",
    "TransTime",
    "TransAmount",
    "BusinessShortCode",
    "BillRefNumber",
    "InvoiceNumber",
    "OrgAccountBalance",
    "ThirdPartyTransID",
    "MSISDN",
    "FirstName",
    "MiddleName",
    "LastName",
]
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")


class Writable(Protocol):
    def write(self, text: str, /) -> object: ...


def neutralise(text: str) -> str:
    """Stop a spreadsheet from running customer-typed text as a formula (CSV injection)."""
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


def money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def eat_iso(moment: datetime) -> str:
    return moment.astimezone(EAT).isoformat()


def payment_export_row(payment: Payment) -> list[str]:
    return [
        neutralise(payment.trans_id),
        neutralise(payment.transaction_type),
        eat_iso(payment.trans_time),
        money(payment.amount),
        neutralise(payment.business_short_code),
        neutralise(payment.bill_ref_number),
        neutralise(payment.invoice_number),
        money(payment.org_account_balance),
        neutralise(payment.third_party_trans_id),
        neutralise(payment.msisdn),
        neutralise(payment.first_name),
        neutralise(payment.middle_name),
        neutralise(payment.last_name),
    ]


def export_queryset(payments: QuerySet[Payment]) -> QuerySet[Payment]:
    """Stable export order: by TransTime, then TransID."""
    return payments.order_by("trans_time", "trans_id")


def export_rows(payments: QuerySet[Payment], chunk_size: int = 2000) -> Iterator[list[str]]:
    yield EXPORT_HEADER
    for payment in export_queryset(payments).iterator(chunk_size=chunk_size):
        yield payment_export_row(payment)


def write_csv(rows: Iterable[list[str]], out: Writable) -> int:
    """Write rows as CSV; returns the number of data rows (header excluded)."""
    writer = csv.writer(out, lineterminator="\r\n")
    count = -1
    for row in rows:
        writer.writerow(row)
        count += 1
    return max(count, 0)
