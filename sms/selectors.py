"""Reads about SMS receipts, for the staff pages."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from sms.models import OutboundSms


def sms_for_payment(*, payment_id: int) -> OutboundSms | None:
    """The payment's receipt SMS, or ``None`` (payments captured before receipts existed)."""
    return OutboundSms.objects.filter(payment_id=payment_id).select_related("payment").first()


def payments_with_failed_sms_q() -> Q:
    """Payments whose receipt SMS failed or was not delivered."""
    failed = OutboundSms.objects.filter(
        payment=OuterRef("pk"), status__in=OutboundSms.FAILED_STATUSES
    )
    return Q(Exists(failed))


def sms_failed(*, limit: int) -> tuple[int, list[OutboundSms]]:
    """How many receipts failed, and the ``limit`` most recent of them (with their payment)."""
    failed = OutboundSms.objects.filter(status__in=OutboundSms.FAILED_STATUSES)
    rows = failed.select_related("payment").order_by("-updated_at", "-id")[:limit]
    return failed.count(), list(rows)
