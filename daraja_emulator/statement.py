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
    settings = state.settings_for(shortcode)
    running = settings.opening_balance
    rows: list[tuple[Transaction, datetime, Decimal]] = []
    for tx in state.ledger.completed_in_order(shortcode):
        running += tx.amount
        at = tx.completed_at or tx.initiated_at
        if (since is None or at >= since) and (until is None or at <= until):
            rows.append((tx, at, running))
    now = state.clock.now()
    period_from = since or (rows[0][1] if rows else now)
    period_to = until or now

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Organization Name:", settings.display_name])
    writer.writerow(["Organization Short Code:", shortcode])
    writer.writerow(["Account:", "Utility Account"])
    period = f"From {portal_timestamp(period_from)} To {portal_timestamp(period_to)}"
    writer.writerow(["Time Period:", period])
    writer.writerow(["Report Time:", portal_timestamp(now)])
    writer.writerow([])
    writer.writerow(HEADER)
    for tx, completed_at, balance in reversed(rows):
        writer.writerow(
            [
                tx.trans_id,
                portal_timestamp(completed_at),
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
