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
