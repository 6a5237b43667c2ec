"""Capture writes the receipt SMS in the payment's transaction, once, and never waits to send it."""

from unittest import mock

import pytest
import responses
from django.core.checks import Warning as CheckWarning
from django.db import IntegrityError, transaction

from c2b.models import CallbackReceipt, Payment
from core.phones import phone_hash
from factories import make_receipt_sms
from sms.checks import check_sms_template
from sms.gsm7 import fits_one_sms, gsm7_length
from sms.models import OutboundSms
from sms.selectors import payments_with_failed_sms_q, sms_failed, sms_for_payment

pytestmark = pytest.mark.django_db

Status = OutboundSms.Status


def test_first_storage_of_a_payment_queues_one_receipt_sms(mpesa, paybill, payload, make_member):
    make_member("NS00123", name="John Otieno", phones=("254712345126",))
    mpesa.confirm(payload("confirmation_v2_masked"))

    sms = sms_for_payment(payment_id=Payment.objects.get().pk)
    assert sms.status == Status.QUEUED
    assert sms.recipient == "254712345126"
    assert sms.recipient_source == OutboundSms.RecipientSource.MEMBER
    assert sms.text == (
        "Dear John, Neno SACCO has received KES 1,500.00 for account NS00123 on 27/11/2026 "
        "14:30. M-Pesa ref TKR3XYZ9AB. Thank you."
    )
    assert fits_one_sms(sms.text)


def test_duplicate_delivery_sends_no_second_sms(mpesa, paybill, payload, make_member):
    make_member("NS00123")
    mpesa.confirm(payload("confirmation_v2_masked"))
    mpesa.confirm(payload("confirmation_v2_masked"))
    mpesa.confirm(payload("confirmation_v2_masked", TransAmount="1.00"))  # conflicting
    assert OutboundSms.objects.count() == 1


def test_rolled_back_payment_leaves_no_sms(mpesa, paybill, payload, make_member):
    make_member("NS00123")
    with mock.patch("capture.services._receipts_save", side_effect=RuntimeError("boom")):
        response = mpesa.confirm(payload("confirmation_v2_masked"))
    assert response.status_code == 200  # answered before capture
    assert CallbackReceipt.objects.get().status == CallbackReceipt.Status.FAILED
    assert Payment.objects.count() == 0
    assert OutboundSms.objects.count() == 0


def test_a_payment_can_never_have_two_sms(make_payment):
    payment = make_payment(msisdn="254712345678")
    make_receipt_sms(payment)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_receipt_sms(payment)


def test_full_msisdn_is_the_recipient_even_for_a_member(mpesa, make_shortcode, payload):
    make_shortcode("600638", kind="till")
    mpesa.confirm(payload("confirmation_buy_goods_full_msisdn"))
    sms = OutboundSms.objects.get()
    assert (sms.recipient, sms.recipient_source) == ("254708374149", "msisdn")
    assert sms.text.startswith("Dear John, ")
    assert "for account -" in sms.text


def test_hashed_msisdn_sends_to_the_members_phone_that_hashes_to_it(
    mpesa, paybill, payload, make_member
):
    make_member("NS00456", name="Mary Wanjiku", phones=("254799000001", "254711222333"))
    mpesa.confirm(payload("confirmation_v1_hashed", MSISDN=phone_hash("254711222333")))
    assert OutboundSms.objects.get().recipient == "254711222333"


def test_masked_msisdn_sends_to_the_members_phone_with_the_same_visible_digits(
    mpesa, paybill, payload, make_member
):
    make_member("NS00123", phones=("254799000001", "254712345126"))
    mpesa.confirm(payload("confirmation_v2_masked"))
    assert OutboundSms.objects.get().recipient == "254712345126"


def test_members_main_phone_is_used_when_no_phone_fits(mpesa, paybill, payload, make_member):
    make_member("NS00456", phones=("254799000001", "254799000002"))
    mpesa.confirm(payload("confirmation_v1_hashed"))
    assert OutboundSms.objects.get().recipient == "254799000001"


def test_unmatched_payment_with_masked_msisdn_is_skipped_with_the_reason(mpesa, paybill, payload):
    mpesa.confirm(payload("confirmation_v2_masked"))
    sms = OutboundSms.objects.get()
    assert sms.status == Status.SKIPPED
    assert sms.recipient == ""
    assert sms.reason == "M-Pesa sent a masked or missing payer number and no member matched."


def test_unmatched_payment_with_hashed_msisdn_is_skipped_with_the_reason(mpesa, paybill, payload):
    mpesa.confirm(payload("confirmation_v1_hashed"))
    assert OutboundSms.objects.get().reason == (
        "M-Pesa sent a hashed payer number and no member matched."
    )


def test_member_without_a_phone_is_skipped_with_the_reason(mpesa, paybill, payload, make_member):
    make_member("NS00123", phones=())
    mpesa.confirm(payload("confirmation_v2_masked"))
    sms = OutboundSms.objects.get()
    assert sms.status == Status.SKIPPED
    assert sms.reason == "Member NS00123 has no phone number on record."


def test_names_with_characters_that_force_ucs2_are_transliterated(
    mpesa, paybill, payload, make_member
):
    make_member("NS00123", name="Łucja Zoë 😀", phones=("254712345126",))
    mpesa.confirm(payload("confirmation_v2_masked"))
    text = OutboundSms.objects.get().text
    assert text.startswith("Dear Lucja, ")
    assert gsm7_length(text) is not None


def test_payer_name_from_mpesa_is_used_without_a_member(mpesa, paybill, payload):
    mpesa.confirm(payload("confirmation_v2_masked", MSISDN="254712345678", FirstName="ŽANETA"))
    assert OutboundSms.objects.get().text.startswith("Dear Zaneta, ")


def test_a_name_too_long_for_one_sms_falls_back_to_member(mpesa, paybill, payload, make_member):
    make_member("NS00123", name="A" * 60, phones=("254712345126",))
    mpesa.confirm(payload("confirmation_v2_masked"))
    text = OutboundSms.objects.get().text
    assert text.startswith("Dear Member, ")
    assert fits_one_sms(text)


def test_the_sacco_name_comes_from_settings(mpesa, paybill, payload, settings):
    settings.SMS_SACCO_NAME = "Umoja Sacco"
    mpesa.confirm(payload("confirmation_v2_masked", MSISDN="254712345678"))
    assert "Umoja Sacco has received" in OutboundSms.objects.get().text


def _override_template(settings, tmp_path, text):
    (tmp_path / "sms").mkdir()
    (tmp_path / "sms" / "payment_receipt.txt").write_text(text)
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]


def test_the_sacco_can_override_the_template(mpesa, paybill, payload, settings, tmp_path):
    _override_template(settings, tmp_path, "Asante {{ name }}! {{ amount }} ref {{ receipt }}\n")
    mpesa.confirm(payload("confirmation_v2_masked", MSISDN="254712345678"))
    assert OutboundSms.objects.get().text == "Asante John! KES 1,500.00 ref TKR3XYZ9AB"


def test_a_broken_template_never_loses_the_payment(mpesa, paybill, payload, settings, tmp_path):
    _override_template(settings, tmp_path, "{% if %}")
    response = mpesa.confirm(payload("confirmation_v2_masked", MSISDN="254712345678"))
    assert response.status_code == 200
    assert CallbackReceipt.objects.get().status == CallbackReceipt.Status.PROCESSED
    sms = OutboundSms.objects.get()
    assert sms.status == Status.FAILED
    assert "could not be rendered" in sms.reason


def test_default_template_passes_the_160_character_gsm7_check():
    assert check_sms_template(None) == []


def test_check_warns_when_the_template_no_longer_fits_one_sms(settings, tmp_path):
    _override_template(settings, tmp_path, "{{ name }} " + "x" * 160)
    [warning] = check_sms_template(None)
    assert isinstance(warning, CheckWarning)
    assert warning.id == "sms.W002"


def test_check_warns_when_the_template_forces_ucs2(settings, tmp_path):
    _override_template(settings, tmp_path, "Asante {{ name }} 🙏")
    [warning] = check_sms_template(None)
    assert "outside GSM-7" in warning.msg


def test_check_reports_a_template_that_does_not_render(settings, tmp_path):
    _override_template(settings, tmp_path, "{% if %}")
    [error] = check_sms_template(None)
    assert error.id == "sms.E002"


@responses.activate(assert_all_requests_are_fired=False)
def test_capture_never_calls_the_sms_provider(mpesa, paybill, payload, settings):
    settings.SMS_BACKEND = "africastalking"
    settings.AFRICASTALKING_USERNAME, settings.AFRICASTALKING_API_KEY = "neno", "key"
    responses.add(responses.POST, "https://api.africastalking.com/version1/messaging", status=500)

    response = mpesa.confirm(payload("confirmation_v2_masked", MSISDN="254712345678"))

    assert response.status_code == 200
    assert len(responses.calls) == 0
    assert OutboundSms.objects.get().status == Status.QUEUED


def test_selectors_give_staff_each_payments_sms_and_the_failed_ones(queued_sms, make_payment):
    [sms, failing] = queued_sms(2)
    no_sms = make_payment()
    OutboundSms.objects.filter(pk=failing.pk).update(status=Status.UNDELIVERED)
    assert sms_for_payment(payment_id=sms.payment_id) == sms
    assert sms_for_payment(payment_id=no_sms.pk) is None
    assert sms_failed(limit=10) == (1, [failing])
    with_failed = Payment.objects.filter(payments_with_failed_sms_q())
    assert list(with_failed) == [failing.payment]
