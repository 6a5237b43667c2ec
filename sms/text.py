"""The receipt text, from the template ``sms/payment_receipt.txt`` (override it in ``templates/``).

Context: ``name`` (the member's first name, else the payer's), ``amount`` (``KES 1,500.00``),
``account``, ``receipt`` (M-Pesa TransID), ``time`` (EAT, ``27/11/2026 14:30``), ``sacco_name``.
Values are made GSM-7 safe, so one odd character in a name cannot turn the receipt into a
70-character UCS-2 message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from core.eat import EAT
from sms.gsm7 import SINGLE_SMS_SEPTETS, gsm7_length, to_gsm7

TEMPLATE = "sms/payment_receipt.txt"
FALLBACK_NAME = "Member"


@dataclass(frozen=True)
class ReceiptFacts:
    name: str
    amount: Decimal
    account: str
    receipt: str
    time: datetime


def _clean(value: str) -> str:
    return " ".join(to_gsm7(value).split())


def receipt_text(facts: ReceiptFacts) -> str:
    """One line of GSM-7 text; the name falls back to 'Member' if the real one makes it long."""
    text = _render(facts, _clean(facts.name.split()[0] if facts.name.split() else ""))
    if (gsm7_length(text) or 0) > SINGLE_SMS_SEPTETS:
        text = _render(facts, FALLBACK_NAME)
    return text


def _render(facts: ReceiptFacts, name: str) -> str:
    """Rendered and made GSM-7: a stray character in an override is dropped, not sent as UCS-2."""
    return to_gsm7(render_raw(facts, name))


def render_raw(facts: ReceiptFacts, name: str) -> str:
    """The template's output on one line, as written (the system check looks at this)."""
    context = {
        "name": name.title() or FALLBACK_NAME,
        "amount": f"KES {facts.amount:,.2f}",
        "account": _clean(facts.account) or "-",
        "receipt": _clean(facts.receipt),
        "time": facts.time.astimezone(EAT).strftime("%d/%m/%Y %H:%M"),
        "sacco_name": _clean(settings.SMS_SACCO_NAME),
    }
    # Values are plain text, not HTML: no escaping of '&' in "Kamau & Sons".
    rendered = render_to_string(TEMPLATE, {k: mark_safe(v) for k, v in context.items()})  # noqa: S308
    return " ".join(rendered.split())


TYPICAL = ReceiptFacts(
    name="Wanjiku",
    amount=Decimal("150000.00"),
    account="NS00123",
    receipt="TKR3XYZ9AB",
    time=datetime(2026, 11, 27, 14, 30, tzinfo=EAT),
)
