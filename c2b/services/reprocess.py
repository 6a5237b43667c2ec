"""Running stored confirmations through capture again, after a fix or an outage."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from c2b.models import CallbackReceipt
from c2b.selectors import capture_queue
from c2b.services.capture import capture_receipts

# A receipt still "received" this long after arrival is waiting on a capture worker that is not
# running (or not keeping up), not in flight.
STALE_AFTER = timedelta(minutes=1)


def reprocessable_receipts(*, failed: bool) -> QuerySet[CallbackReceipt]:
    """Confirmations no capture worker took within a minute, or (``failed=True``) the failed ones.

    Validation receipts are never reprocessed: M-Pesa already had its answer.
    """
    if failed:
        return CallbackReceipt.objects.filter(
            kind=CallbackReceipt.Kind.CONFIRMATION, status=CallbackReceipt.Status.FAILED
        ).order_by("id")
    return capture_queue().filter(received_at__lt=timezone.now() - STALE_AFTER)


def callback_receipts_reprocess(
    *, receipts: QuerySet[CallbackReceipt], batch: int = 500
) -> Counter[str]:
    """Capture the receipts again, ``batch`` at a time; returns how many ended in each status.

    Only failed confirmations and those still waiting are taken: a processed receipt made its
    payment, and a duplicate or conflict was judged against it, so running one again could only
    relabel it."""
    results: Counter[str] = Counter()
    ids = list(
        receipts.filter(
            kind=CallbackReceipt.Kind.CONFIRMATION,
            status__in=[CallbackReceipt.Status.FAILED, CallbackReceipt.Status.RECEIVED],
        ).values_list("id", flat=True)
    )
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        report = capture_receipts(receipts=CallbackReceipt.objects.filter(pk__in=chunk))
        results.update(report.counts())
    return results
