"""One way to record a payment, whatever told us about it: the callback or reconciliation."""

from decimal import Decimal

import pytest
from django.db import transaction

from c2b.models import CallbackReceipt, Payment
from c2b.payloads import parse_c2b
from capture.recording import payments_record
from factories import load_payload
from members.models import MemberMatch
from sms.models import OutboundSms

pytestmark = pytest.mark.django_db

Source = Payment.Source


def facts(**changes):
    return parse_c2b(load_payload("confirmation_v2_masked", **changes))


def record(*payloads, source=Source.STATEMENT, **options):
    with transaction.atomic():
        return payments_record(payloads=payloads, source=source, **options)


def test_a_payment_found_by_reconciliation_is_stored_with_its_source_member_and_sms(
    paybill, make_member
):
    member = make_member("NS00123", phones=("254712345126",))
    [recording] = record(facts())

    assert recording.created
    payment = Payment.objects.get()
    assert recording.payment == payment
    assert payment.source == Source.STATEMENT
    assert MemberMatch.objects.get(payment=payment).member == member
    sms = OutboundSms.objects.get(payment=payment)
    assert (sms.status, sms.recipient) == (OutboundSms.Status.QUEUED, "254712345126")


def test_a_callback_arriving_after_reconciliation_stored_the_payment_is_a_redelivery(
    mpesa, paybill
):
    record(facts())
    response = mpesa.confirm(load_payload("confirmation_v2_masked"))

    assert response.status_code == 200
    payment = Payment.objects.get()
    assert payment.source == Source.STATEMENT
    receipt = CallbackReceipt.objects.get()
    assert (receipt.status, receipt.payment) == (CallbackReceipt.Status.DUPLICATE, payment)
    assert OutboundSms.objects.count() == 1


def test_recording_again_stores_nothing_and_says_what_differs(paybill):
    record(facts())
    [same, different] = record(facts(), facts(TransAmount="15.00"), source=Source.PULL)

    assert (same.created, same.differences) == (False, [])
    assert not different.created
    assert different.differences == [("TransAmount", Decimal("1500.00"), Decimal("15.00"))]
    assert Payment.objects.get().source == Source.STATEMENT


def test_one_trans_id_twice_in_one_call_is_stored_once(paybill):
    first, second = record(facts(), facts())
    assert (first.created, second.created) == (True, False)
    assert second.payment == first.payment
    assert Payment.objects.count() == 1


def test_a_payment_to_a_shortcode_that_is_not_ours_is_refused_and_nothing_is_written(db):
    [recording] = record(facts())
    assert recording.refused.startswith("Unknown shortcode 600984")
    assert recording.payment is None
    assert not Payment.objects.exists()
    assert not OutboundSms.objects.exists()


def test_receipts_can_be_left_unsent_with_the_reason(paybill):
    record(facts(MSISDN="254712345678"), sms_receipts=False)
    sms = OutboundSms.objects.get()
    assert sms.status == OutboundSms.Status.SKIPPED
    assert "receipts for backfilled payments are off" in sms.reason
