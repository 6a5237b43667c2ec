"""The M-Pesa Org-portal statement, as staff download it: the final source of truth."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal

from daraja_emulator.clock import portal_timestamp
from daraja_emulator.ledger import Transaction
from daraja_emulator.payers import portal_msisdn
from daraja_emulator.state import EmulatorState

HEADER = [
    "Receipt No.", "Completion Time", "Initiation Time", "Details", "Transaction Status",
    "Paid In", "Withdrawn", "Balance", "Balance Confirmed", "Reason Type", "Other Party Info",
    "Linked Transaction ID", "A/C No.",
]  # fmt: skip


def money(amount: Decimal) -> str:
    """``1,020.00``: the portal's thousands separators."""
    return f"{amount:,.2f}"


def render(
    state: EmulatorState, shortcode: str, since: datetime | None, until: datetime | None
) -> str:
    """Completed payments only, newest first like the portal. The Balance column is recomputed
    in completion order from the opening balance, so back-dated entries stay consistent."""
    entry = state.shortcode(shortcode)
    with state.lock:
        settings = entry.settings
    running = settings.opening_balance
    rows: list[tuple[Transaction, Decimal]] = []
    for tx in state.ledger.completed_in_order(shortcode):
        running += tx.amount
        assert tx.completed_at is not None
        if (since is None or tx.completed_at >= since) and (
            until is None or tx.completed_at <= until
        ):
            rows.append((tx, running))
    now = state.clock.now()
    period_from = (
        portal_timestamp(since)
        if since
        else (portal_timestamp(rows[0][0].completed_at) if rows and rows[0][0].completed_at else "")
    )
    period_to = portal_timestamp(until or now)

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Organization Name:", settings.display_name])
    writer.writerow(["Organization Short Code:", shortcode])
    writer.writerow(["Account:", "Utility Account"])
    writer.writerow(["Time Period:", f"From {period_from} To {period_to}"])
    writer.writerow(["Report Time:", portal_timestamp(now)])
    writer.writerow([])
    writer.writerow(HEADER)
    for tx, balance in reversed(rows):
        assert tx.completed_at is not None
        writer.writerow(
            [
                tx.trans_id,
                portal_timestamp(tx.completed_at),
                portal_timestamp(tx.initiated_at),
                tx.reason_type,
                "Completed",
                money(tx.amount),
                "",
                money(balance),
                "true",
                tx.reason_type,
                f"{portal_msisdn(tx.payer.msisdn)} - {tx.payer.display_name}",
                "",
                tx.bill_ref,
            ]
        )
    return out.getvalue()
