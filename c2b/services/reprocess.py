"""Running stored confirmations through processing again, after a fix or an outage."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from c2b.models import CallbackReceipt
from c2b.services.callbacks import callback_receipt_process

# A receipt still "received" this long after arrival was interrupted (crash, outage), not in flight.
STALE_AFTER = timedelta(minutes=1)


def reprocessable_receipts(*, failed: bool) -> QuerySet[CallbackReceipt]:
    """Confirmations left unprocessed by an interruption, or (``failed=True``) the failed ones.

    Validation receipts are never reprocessed: M-Pesa already had its answer.
    """
    receipts = CallbackReceipt.objects.filter(kind=CallbackReceipt.Kind.CONFIRMATION)
    if failed:
        return receipts.filter(status=CallbackReceipt.Status.FAILED).order_by("id")
    return receipts.filter(
        status=CallbackReceipt.Status.RECEIVED, received_at__lt=timezone.now() - STALE_AFTER
    ).order_by("id")


def callback_receipts_reprocess(*, receipts: QuerySet[CallbackReceipt]) -> Counter[str]:
    """Process each receipt again; returns how many ended in each status."""
    results: Counter[str] = Counter()
    for receipt in receipts.filter(kind=CallbackReceipt.Kind.CONFIRMATION).iterator():
        callback_receipt_process(receipt=receipt)
        results[receipt.status] += 1
    return results
