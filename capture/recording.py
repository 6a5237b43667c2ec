"""The one way a payment enters the ledger, whatever told us about it.

M-Pesa's confirmation callback (through the capture worker), a statement line or a Pull record
(through reconciliation's backfill): each is a ``C2BPayload`` and is recorded here, the same way,
in the caller's transaction:

1. the ``Payment`` row, with its ``source``, linked to the validation decision for its TransID;
2. its ``MemberMatch`` (``members``);
3. its receipt SMS, as an outbox row a worker sends later (``sms``).

Exactly once is the database's job: ``Payment.trans_id`` is unique. Looking the batch's TransIDs
up first only saves work; two writers racing on one TransID meet at the constraint, and the
loser's record is reported as already stored. A payload whose TransID is stored already (a
redelivery, or a callback that arrives after reconciliation recorded its payment) is never
stored twice: its ``Recording`` says how it differs from the stored payment, if at all.

The statements per call are a fixed handful whatever the number of payloads, which is what lets
capture keep up with M-Pesa at peak and lets a 100,000-line statement be backfilled in seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from c2b.models import Payment, Shortcode
from c2b.payloads import FIELD_BY_ATTR, C2BPayload, payload_values
from c2b.selectors import validation_decisions_for
from c2b.services.callbacks import unknown_shortcode_reason
from core.eat import EAT
from members.models import MemberMatch
from members.services import payments_member_match
from sms.services import sms_receipts_enqueue

logger = logging.getLogger(__name__)


@dataclass
class Recording:
    """What became of one payload.

    ``created``: this call stored ``payment``. Otherwise ``payment`` is the one stored earlier
    with the same TransID and ``differences`` lists ``(Daraja key, stored, received)`` where the
    payload disagrees with it; or ``refused`` says why nothing could be stored (the payment's
    shortcode is not ours)."""

    payload: C2BPayload
    payment: Payment | None = None
    created: bool = False
    differences: list[tuple[str, Any, Any]] = field(default_factory=list)
    refused: str = ""


def payments_record(
    *, payloads: Sequence[C2BPayload], source: str, sms_receipts: bool = True
) -> list[Recording]:
    """Record each payload as a payment, exactly once, with its member match and receipt SMS.

    Returns one ``Recording`` per payload, in order. Runs in the caller's transaction (it must
    be inside ``transaction.atomic()``), so a rollback leaves no payment, match or SMS behind.
    ``sms_receipts=False`` writes each new payment's SMS row as skipped, with the reason, instead
    of queueing it. Database errors other than a TransID race propagate."""
    recordings = [Recording(payload) for payload in payloads]
    if not recordings:
        return recordings
    trans_ids = {r.payload.trans_id for r in recordings}
    shortcodes = Shortcode.objects.in_bulk(
        {r.payload.business_short_code for r in recordings}, field_name="number"
    )
    stored = Payment.objects.in_bulk(trans_ids, field_name="trans_id")
    validations = validation_decisions_for(trans_ids - set(stored))

    new: dict[str, Recording] = {}
    for recording in recordings:
        payload = recording.payload
        shortcode = shortcodes.get(payload.business_short_code)
        if shortcode is None:
            recording.refused = unknown_shortcode_reason(payload.business_short_code)
        elif payload.trans_id not in stored and payload.trans_id not in new:
            recording.payment = Payment(
                shortcode=shortcode,
                source=source,
                validation=validations.get(payload.trans_id),
                **payload_values(payload),
            )
            recording.created = True
            new[payload.trans_id] = recording

    for trans_id, winner in _payments_insert([r.payment for r in new.values()]).items():
        # Another writer stored this TransID first: ours is a redelivery of theirs.
        lost = new.pop(trans_id)
        lost.created, lost.payment = False, None
        stored[trans_id] = winner

    created = [r.payment for r in new.values()]
    if created:
        matches = payments_member_match(payments=created)
        sms_receipts_enqueue(
            items=[(m.payment, m.member) for m in matches],
            skip_reason="" if sms_receipts else _NO_RECEIPTS,
        )
        for payment in created:
            logger.info("Payment %s stored (%s)", payment.trans_id, source)

    stored.update({trans_id: r.payment for trans_id, r in new.items()})
    for recording in recordings:
        if not recording.created and not recording.refused:
            recording.payment = stored[recording.payload.trans_id]
            if recording.payment.source == source or source != Payment.Source.CALLBACK:
                recording.differences = recording.payload.differences(recording.payment)
            else:
                recording.differences = _complete_from_callback(recording)
    return recordings


# Facts every source states the same way; the rest (M-Pesa's type names, how a phone is masked,
# whose name) differ between a statement, Pull, Transaction Status and the callback.
_SAME_IN_EVERY_SOURCE = ("amount", "business_short_code")
# What a callback may fill in on a payment reconciliation recorded first, where that was blank.
_COMPLETABLE = (
    "bill_ref_number",
    "invoice_number",
    "org_account_balance",
    "third_party_trans_id",
    "msisdn",
    "first_name",
    "middle_name",
    "last_name",
)


def _complete_from_callback(recording: Recording) -> list[tuple[str, Any, Any]]:
    """The callback of a payment reconciliation found first: a redelivery, never a second
    payment. Returns how it differs on the facts every source states alike (amount, shortcode,
    account where both have one); otherwise it fills in what the first record lacked, and says
    so on the payment (``amended``)."""
    payment, payload = recording.payment, recording.payload
    differences = [
        (FIELD_BY_ATTR[attr].key, getattr(payment, attr), getattr(payload, attr))
        for attr in _SAME_IN_EVERY_SOURCE
        if getattr(payment, attr) != getattr(payload, attr)
    ]
    if payment.bill_ref_number and _account(payment.bill_ref_number) != _account(
        payload.bill_ref_number
    ):
        differences.append(("BillRefNumber", payment.bill_ref_number, payload.bill_ref_number))
    if differences:
        return differences
    filled = [
        attr
        for attr in _COMPLETABLE
        if getattr(payment, attr) in ("", None) and getattr(payload, attr) not in ("", None)
    ]
    if filled:
        for attr in filled:
            setattr(payment, attr, getattr(payload, attr))
        keys = ", ".join(FIELD_BY_ATTR[attr].key for attr in filled)
        when = timezone.now().astimezone(EAT).strftime("%d-%m-%Y %H:%M")
        line = f"{when}: {keys} completed from M-Pesa's confirmation callback."
        payment.amended = f"{payment.amended}\n{line}".strip()
        payment.save(update_fields=[*filled, "amended"])
        if "bill_ref_number" in filled:  # now it can be matched by account
            MemberMatch.objects.filter(payment=payment).delete()
            payments_member_match(payments=[payment])
        logger.info("Payment %s completed from its late callback: %s", payment.trans_id, keys)
    return []


def _account(text: str) -> str:
    return "".join(text.split()).upper()


_NO_RECEIPTS = "Found by reconciliation; receipts for backfilled payments are off."


def _payments_insert(payments: list[Payment]) -> dict[str, Payment]:
    """Insert the payments. Returns, by TransID, the stored payment for each one that another
    writer stored first (that one of ours was not inserted)."""
    if not payments:
        return {}
    try:
        with transaction.atomic():
            Payment.objects.bulk_create(payments)
        return {}
    except IntegrityError:
        pass
    # A race with another writer (rare): one by one, so the others still go in.
    lost: dict[str, Payment] = {}
    for payment in payments:
        payment.pk = None
        try:
            with transaction.atomic():
                payment.save(force_insert=True)
        except IntegrityError:
            winner = Payment.objects.filter(trans_id=payment.trans_id).first()
            if winner is None:
                raise
            lost[payment.trans_id] = winner
    return lost
