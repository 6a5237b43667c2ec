"""The payment export format, shared by ``manage.py export_transactions`` and the staff app.

Columns are the Daraja callback fields in ``c2b.payloads.C2B_FIELDS`` order, headed by their
Daraja names, so a SACCO's existing spreadsheets keep working; then ``Source`` (what told us
about the payment: ``callback``, ``statement``, ``pull``, ``status``) and ``Reconciliation``
(the latest reconciliation's verdict, empty before any). Columns are only ever appended.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from django.db.models import QuerySet

from c2b.models import Payment
from c2b.payloads import C2B_FIELDS, Kind
from core.eat import eat_iso

EXPORT_HEADER = [*(f.key for f in C2B_FIELDS), "Source", "Reconciliation"]
_TEXT_KINDS = (Kind.RECEIPT, Kind.TEXT, Kind.SHORTCODE)
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")

Value = str | Decimal | datetime | None


class Writable(Protocol):
    def write(self, text: str, /) -> object: ...


def neutralise(text: str) -> str:
    """Stop a spreadsheet from running customer-typed text as a formula (CSV injection)."""
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


def money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def payment_export_values(payment: Payment) -> list[Value]:
    """One payment's export cells, typed: text (neutralised), Decimal amounts, aware times."""
    values: list[Value] = []
    for f in C2B_FIELDS:
        value = getattr(payment, f.attr)
        values.append(neutralise(value) if f.kind in _TEXT_KINDS else value)
    return [*values, payment.source, payment.reconciled]


def as_text(value: Value) -> str:
    """A cell as CSV text: two-decimal amounts, ISO 8601 times in EAT, empty for nothing."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return money(value)
    if isinstance(value, datetime):
        return eat_iso(value)
    return value


def payment_export_row(payment: Payment) -> list[str]:
    return [as_text(value) for value in payment_export_values(payment)]


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
