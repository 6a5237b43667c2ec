"""One payment's page: every Daraja field, the callbacks as received, member and SMS."""

import pytest

from c2b.models import CallbackReceipt
from factories import load_payload
from members.models import Member, MemberPhone
from sms.models import OutboundSms

pytestmark = pytest.mark.django_db


def test_it_shows_every_daraja_field_in_eat(staff_client, mpesa, paybill):
    mpesa.confirm(load_payload("confirmation_v2_masked", InvoiceNumber="INV-7"))
    body = staff_client.get("/transactions/TKR3XYZ9AB/").content.decode()
    for text in (
        "TKR3XYZ9AB",
        "Pay Bill",
        "Fri 27 Nov 2026, 14:30:15 EAT",
        "KES 1,500.00",
        "600984",
        "NS 00123",
        "INV-7",
        "KES 49,197.00",
        "2547 ***** 126",
        "JOHN",
    ):
        assert text in body, text


def test_it_finds_the_payment_whatever_the_case_of_the_receipt(staff_client, mpesa, paybill):
    mpesa.confirm(load_payload("confirmation_v2_masked"))
    assert staff_client.get("/transactions/tkr3xyz9ab/").status_code == 200


def test_it_shows_each_callback_as_received_with_the_validation_answer(
    staff_client, mpesa, paybill
):
    mpesa.validate(load_payload("validation_v2", TransID="TKR3XYZ9AB"))
    mpesa.confirm(load_payload("confirmation_v2_masked"))
    mpesa.confirm(load_payload("confirmation_v2_masked", TransAmount="1600.00"))  # conflict
    response = staff_client.get("/transactions/TKR3XYZ9AB/")
    receipts = response.context["detail"].receipts
    assert [r.kind for r in receipts] == ["validation", "confirmation", "confirmation"]
    assert [r.status for r in receipts] == ["processed", "processed", "conflict"]
    body = response.content.decode()
    assert "Accepted" in body
    assert "Redelivery differs from the stored payment in: TransAmount" in body
    assert "&quot;TransAmount&quot;: &quot;1600.00&quot;" in body  # the body, escaped


def test_a_receipt_with_only_a_failed_callback_still_has_a_page(staff_client, mpesa, db):
    mpesa.confirm(load_payload("confirmation_v2_masked"))  # no shortcode 600984 exists
    response = staff_client.get("/transactions/TKR3XYZ9AB/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "No payment stored" in body
    assert "Unknown shortcode 600984" in body
    assert "Reprocess this callback" in body


def test_an_unknown_receipt_is_404(staff_client, db):
    assert staff_client.get("/transactions/TKNOSUCH00/").status_code == 404


def test_a_malformed_receipt_in_the_address_is_404(staff_client, db):
    assert staff_client.get("/transactions/not-a-receipt!/").status_code == 404


def test_it_shows_the_member_and_the_rule_that_matched(staff_client, mpesa, paybill):
    member = Member.objects.create(number="NS00123", name="Jane Wanjiku")
    MemberPhone.objects.create(member=member, number="254712345126")
    mpesa.confirm(load_payload("confirmation_v2_masked"))
    body = staff_client.get("/transactions/TKR3XYZ9AB/").content.decode()
    assert "NS00123" in body
    assert "Jane Wanjiku" in body
    assert "Account number, consistent with the masked phone" in body


def test_it_says_when_no_member_matched_and_why(staff_client, mpesa, paybill):
    mpesa.confirm(load_payload("confirmation_v2_masked"))
    body = staff_client.get("/transactions/TKR3XYZ9AB/").content.decode()
    assert "Unmatched" in body
    assert "No member number &#x27;NS00123&#x27;" in body


def test_it_shows_the_sms_status_and_offers_a_resend_when_it_failed(staff_client, mpesa, paybill):
    mpesa.confirm(load_payload("confirmation_v2_masked", MSISDN="254712345678"))
    sms = OutboundSms.objects.get()
    sms.status, sms.reason = OutboundSms.Status.FAILED, "Provider said: InsufficientBalance"
    sms.save()
    body = staff_client.get("/transactions/TKR3XYZ9AB/").content.decode()
    assert "Failed" in body
    assert "InsufficientBalance" in body
    assert f"/attention/sms/{sms.pk}/resend/" in body


def test_customer_typed_text_and_raw_bodies_are_escaped(staff_client, mpesa, paybill):
    mpesa.confirm(
        load_payload("confirmation_v2_masked", FirstName="<b>x</b>", BillRefNumber="<i>NS</i>")
    )
    body = staff_client.get("/transactions/TKR3XYZ9AB/").content.decode()
    assert "<b>x</b>" not in body
    assert "<i>NS</i>" not in body
    assert "&lt;b&gt;x&lt;/b&gt;" in body


def test_a_body_that_is_not_json_is_shown_exactly_as_received(staff_client, mpesa, db):
    mpesa.confirm(b"TransID=TKR3XYZ9AB&<not json>")
    receipt = CallbackReceipt.objects.get()
    receipt.trans_id = "TKR3XYZ9AB"
    receipt.save()
    body = staff_client.get("/transactions/TKR3XYZ9AB/").content.decode()
    assert "TransID=TKR3XYZ9AB&amp;&lt;not json&gt;" in body


def test_a_callback_is_shown_byte_for_byte_as_received_duplicate_keys_and_all(
    staff_client, mpesa, paybill
):
    raw = (
        b'{"TransID": "TKR3XYZ9AB", "TransAmount": "10.00", "TransAmount": "99999.00",'
        b'  "BusinessShortCode": "600984"}'
    )
    mpesa.confirm(raw)
    body = staff_client.get("/transactions/TKR3XYZ9AB/").content.decode()
    shown = raw.decode().replace('"', "&quot;")
    assert shown in body  # both amounts, the odd spacing: what M-Pesa (or someone) sent
