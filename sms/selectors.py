"""Reads for staff screens: a payment's SMS receipt and its status."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, QuerySet

from c2b.models import Payment
from sms.models import OutboundSms


def sms_for_payment(payment: Payment) -> OutboundSms | None:
    """The payment's receipt SMS (status, reason, recipient…), or ``None`` for payments captured
    before receipts existed."""
    return OutboundSms.objects.filter(payment=payment).first()


def sms_for_payments(payment_ids: Iterable[int]) -> dict[int, OutboundSms]:
    """Receipt SMS keyed by payment id, in one query, for a page of payments."""
    return {sms.payment_id: sms for sms in OutboundSms.objects.filter(payment_id__in=payment_ids)}


def sms_filter(*, status: str | None = None) -> QuerySet[OutboundSms]:
    messages = OutboundSms.objects.select_related("payment", "member")
    return messages.filter(status=status) if status else messages


def sms_status_counts() -> dict[str, int]:
    rows = OutboundSms.objects.values("status").annotate(n=Count("id")).order_by()
    return {row["status"]: row["n"] for row in rows}
