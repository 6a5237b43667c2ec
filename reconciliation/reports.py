"""A reconciliation run as CSV, for the finance office's spreadsheet (formula-safe)."""

from __future__ import annotations

from collections.abc import Iterator

from c2b.exports import money, neutralise
from core.eat import eat_iso
from reconciliation.models import ReconciliationItem, ReconciliationRun

REPORT_HEADER = [
    "Outcome",
    "TransID",
    "BusinessShortCode",
    "TransTime",
    "StatementAmount",
    "LedgerAmount",
    "StatementAccount",
    "LedgerAccount",
    "Note",
]


def report_rows(run: ReconciliationRun, *, outcome: str = "") -> Iterator[list[str]]:
    """The header, then one row per receipt: times ISO 8601 in EAT, amounts with two decimals,
    text a spreadsheet would execute prefixed with ``'``."""
    yield REPORT_HEADER
    items = run.items.select_related("shortcode").order_by("trans_time", "trans_id")
    if outcome:
        items = items.filter(outcome=outcome)
    for item in items.iterator(chunk_size=2000):
        yield _row(item)


def _row(item: ReconciliationItem) -> list[str]:
    return [
        item.outcome,
        neutralise(item.trans_id),
        item.shortcode.number,
        eat_iso(item.trans_time),
        money(item.statement_amount),
        money(item.ledger_amount),
        neutralise(item.statement_account),
        neutralise(item.ledger_account),
        neutralise(item.note),
    ]
