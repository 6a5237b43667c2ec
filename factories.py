"""The tests' shared world: real-shaped callback bodies and the rows the rooms are made of.

Every test module imports its builders from here (fixtures in ``conftest.py`` wrap the common
ones); there is one way to make each thing.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from itertools import count
from pathlib import Path
from typing import Any

PAYLOADS = Path(__file__).parent / "c2b" / "tests" / "payloads"
TOKEN = "test-callback-token-0123456789abcdef"

_receipts = count(1)


def load_payload(name: str, **changes: Any) -> dict[str, Any]:
    """A real-shaped callback body from c2b/tests/payloads, with keys changed or (None) removed."""
    data = json.loads((PAYLOADS / f"{name}.json").read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def daraja_error(status: int, code: str, message: str) -> Any:
    """A reply in Daraja's error envelope, as its gateway sends every error."""
    import httpx

    return httpx.Response(
        status, json={"requestId": "16813-1590513-1", "errorCode": code, "errorMessage": message}
    )


def make_shortcode(number: str = "600984", **fields: Any) -> Any:
    from c2b.models import Shortcode

    return Shortcode.objects.create(number=number, **fields)


def make_member(
    number: str = "NS00123",
    name: str = "John Otieno",
    phones: tuple[str, ...] = ("254712345126",),
    status: str = "active",
) -> Any:
    """``make_member("NS00123", phones=("254712345126",), status="active")``."""
    from members.models import Member, MemberPhone

    member = Member.objects.create(number=number, name=name, status=status)
    for position, phone in enumerate(phones):
        MemberPhone.objects.create(member=member, number=phone, position=position)
    return member


def make_payment(
    at: str = "2026-11-27 14:30:15",
    amount: str = "1500.00",
    shortcode: Any = None,
    **fields: Any,
) -> Any:
    """A stored payment, without a callback: ``make_payment(at=..., amount=..., **fields)``.

    ``at`` is EAT; the other fields default to the masked v2 confirmation's facts, and the
    shortcode to 600984 (created if missing). Nothing else is written (no match, no SMS)."""
    from c2b.models import Payment, Shortcode
    from core.eat import EAT

    if shortcode is None:
        shortcode, _ = Shortcode.objects.get_or_create(
            number="600984", defaults={"name": "Main paybill"}
        )
    values = {
        "trans_id": f"TKR{next(_receipts):07d}",
        "transaction_type": "Pay Bill",
        "bill_ref_number": "NS 00123",
        "msisdn": "2547 ***** 126",
        "first_name": "JOHN",
        "org_account_balance": Decimal("49197.00"),
    } | fields
    return Payment.objects.create(
        trans_time=datetime.fromisoformat(at).replace(tzinfo=EAT),
        amount=Decimal(amount),
        shortcode=shortcode,
        business_short_code=shortcode.number,
        **values,
    )


def make_receipt_sms(payment: Any, member: Any = None) -> Any:
    """The payment's receipt SMS, written as capture writes it."""
    from sms.services import sms_receipts_enqueue

    [sms] = sms_receipts_enqueue(items=[(payment, member)])
    return sms


def statement_csv(
    lines: list[dict[str, Any]],
    *,
    shortcode: str = "600984",
    opening: str = "10000.00",
    period: tuple[str, str] = ("2026-11-27 00:00:00", "2026-11-27 23:59:59"),
    totals: bool = True,
) -> bytes:
    """An Org-portal statement (the classic CSV with the fuller preamble) whose balances and
    totals add up. Each line: ``receipt``, ``at`` (EAT ``YYYY-MM-DD HH:MM:SS``), ``amount``
    and optionally ``account``, ``payer``, ``kind`` (``payment``, ``charge``, ``reversal``),
    ``linked`` (the receipt a reversal reverses), ``status`` (default ``Completed``)."""
    import csv
    import io

    def portal(text: str) -> str:
        return datetime.fromisoformat(text).strftime("%d-%m-%Y %H:%M:%S")

    ordered = sorted(lines, key=lambda line: line["at"])
    balance, rows = Decimal(opening), []
    paid_in = withdrawn = Decimal("0")
    for line in ordered:
        amount, kind = Decimal(line["amount"]), line.get("kind", "payment")
        status = line.get("status", "Completed")
        payer = line.get("payer", "2547******126 - JOHN OTIENO")
        incoming = kind == "payment"
        if status == "Completed":
            balance += amount if incoming else -amount
            paid_in += amount if incoming else 0
            withdrawn += 0 if incoming else amount
        details = {
            "payment": f"Pay Bill from {payer} Acc. {line.get('account', 'NS00123')}",
            "charge": "Pay Bill Charge",
            "reversal": "Reversal",
        }[kind]
        rows.append(
            [
                line["receipt"],
                portal(line["at"]),
                portal(line["at"]),
                details,
                status,
                f"{amount:,.2f}" if incoming else "",
                "" if incoming else f"{amount:,.2f}",
                f"{balance:,.2f}" if status == "Completed" else "",
                "true" if status == "Completed" else "false",
                {"payment": "Pay Utility", "charge": "Pay Bill Charge", "reversal": "Reversal"}[
                    kind
                ],
                payer,
                line.get("linked", ""),
                line.get("account", "NS00123") if kind == "payment" else "",
            ]
        )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Short Code:", shortcode])
    writer.writerow(["Time Period:", "From", portal(period[0]), "To", portal(period[1])])
    if totals:
        writer.writerow(
            [
                "Opening Balance:",
                f"{Decimal(opening):,.2f}",
                "Closing Balance:",
                f"{balance:,.2f}",
                "Total Paid In:",
                f"{paid_in:,.2f}",
                "Total Withdrawn:",
                f"{withdrawn:,.2f}",
            ]
        )
    writer.writerow([])
    writer.writerow(
        [
            "Receipt No.", "Completion Time", "Initiation Time", "Details", "Transaction Status",
            "Paid In", "Withdrawn", "Balance", "Balance Confirmed", "Reason Type",
            "Other Party Info", "Linked Transaction ID", "A/C No.",
        ]
    )  # fmt: skip
    writer.writerows(reversed(rows))  # the portal lists newest first
    return out.getvalue().encode()
