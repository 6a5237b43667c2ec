"""Actions staff take from the pages; each calls the owning room's service and reports in words."""

from __future__ import annotations

import logging

from c2b.models import CallbackReceipt
from capture.services import callback_receipts_reprocess
from sms.services import SmsResendRefused
from sms.services import sms_resend as sms_queue_again

logger = logging.getLogger(__name__)


class ActionRefused(Exception):
    """The action cannot be taken; the message says why, for the person who asked."""


def receipt_reprocess(*, receipt: CallbackReceipt, user: str) -> str:
    """Run one stored confirmation through processing again; returns the outcome in words."""
    if receipt.kind != CallbackReceipt.Kind.CONFIRMATION:
        raise ActionRefused(
            f"Callback #{receipt.pk} is a validation request: M-Pesa already had our answer, "
            "so it cannot be processed again."
        )
    if receipt.status not in (CallbackReceipt.Status.FAILED, CallbackReceipt.Status.RECEIVED):
        raise ActionRefused(
            f"Callback #{receipt.pk} is already {receipt.get_status_display().lower()}; "
            "only failed or unprocessed callbacks are reprocessed."
        )
    results = callback_receipts_reprocess(receipts=CallbackReceipt.objects.filter(pk=receipt.pk))
    receipt.refresh_from_db()
    logger.info("Receipt %s reprocessed by %s: %s", receipt.pk, user, dict(results))
    outcome = f"Callback #{receipt.pk} reprocessed: {receipt.get_status_display().lower()}."
    if receipt.status == CallbackReceipt.Status.FAILED:
        outcome += f" Still failing: {receipt.error}"
    return outcome


def sms_resend(*, sms_id: int, user: str) -> str:
    try:
        sms_queue_again(sms_id=sms_id)
    except SmsResendRefused as exc:
        raise ActionRefused(str(exc)) from None
    logger.info("SMS %s resend requested by %s", sms_id, user)
    return f"SMS #{sms_id} queued again; the SMS worker will send it shortly."
