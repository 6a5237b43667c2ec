"""What a hostile tester or a flaky network sends: every body is either accepted and becomes
exactly one payment, or is refused (400 / C2B00016) and kept raw for staff. Never a 500."""

import json

import pytest

from c2b.models import CallbackReceipt, Payment, ValidationDecision
from factories import load_payload

pytestmark = pytest.mark.django_db

Status = CallbackReceipt.Status
UNREADABLE = {"ResultCode": "C2B00016", "ResultDesc": "Rejected"}


def masked(**changes) -> bytes:
    return json.dumps(load_payload("confirmation_v2_masked", **changes)).encode()


def with_raw(text: str, **changes) -> bytes:
    """The masked confirmation with ``text`` spliced in before its closing brace, raw."""
    body = masked(**changes).decode()
    return (body[:-1] + ", " + text + "}").encode()


HOSTILE = {
    "NaN in an extra key": with_raw('"Extra": NaN'),
    "Infinity in an extra key": with_raw('"Extra": [1, -Infinity]'),
    "NUL in a text field": masked(FirstName="JO\u0000HN"),
    "NUL in an extra key's name": with_raw('"Ex\\u0000tra": 1'),
    "NUL inside an extra value": with_raw('"Extra": {"a": ["b\\u0000"]}'),
    "a lone surrogate": with_raw('"Extra": "\\ud800"'),
    "deep nesting": with_raw('"Extra": ' + "[" * 5000 + "]" * 5000),
    "nesting the database may refuse": with_raw('"Extra": ' + "[" * 100 + "]" * 100),
    "an integer of thousands of digits": with_raw('"Extra": ' + "9" * 5000),
    "an amount of a hundred million digits": masked(TransAmount="1E+100000000"),
    "an amount as an exponent": masked(TransAmount="1E+3"),
    "a time before M-Pesa existed": masked(TransTime="00010101000000"),
    "a time in year 9999": masked(TransTime="99991231235959"),
    "a duplicated amount": masked(TransAmount="10.00").replace(
        b'"TransAmount": "10.00"', b'"TransAmount": "10.00", "TransAmount": "99999.00"'
    ),
    "an amount with an underscore": masked(TransAmount="1_000"),
    "an amount badly grouped": masked(TransAmount="1,0,0"),
    "an amount in Arabic-Indic digits": masked(TransAmount="\u0661\u0660\u0660"),
    "an amount with spaces inside": masked(TransAmount="1 000"),
}


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_confirmation_that_could_not_be_captured_is_refused_400_and_kept(mpesa, paybill, body):
    response = mpesa.confirm(body)

    assert response.status_code == 400
    receipt = CallbackReceipt.objects.get()
    assert receipt.status == Status.FAILED
    assert receipt.error
    assert bytes(receipt.body) == body
    assert not Payment.objects.exists()


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_validation_that_cannot_be_read_is_answered_c2b00016_with_http_200(mpesa, paybill, body):
    response = mpesa.validate(body)

    assert response.status_code == 200
    assert response.json() == UNREADABLE
    receipt = CallbackReceipt.objects.get()
    assert receipt.status == Status.FAILED
    assert ValidationDecision.objects.get().result_code == "C2B00016"


def test_a_nul_in_bill_ref_number_is_unreadable_not_a_database_outage(mpesa, paybill):
    response = mpesa.validate(masked(BillRefNumber="NS\u0000123"))
    assert (response.status_code, response.json()) == (200, UNREADABLE)
    receipt = CallbackReceipt.objects.get()
    assert receipt.status == Status.FAILED
    assert "NUL" in receipt.error


@pytest.mark.parametrize("amount", ["1000", "1000.00", "1,000", "1,000.50", "12,345,678.00", 1000])
def test_plain_and_correctly_grouped_amounts_are_read(mpesa, paybill, amount):
    assert mpesa.confirm(masked(TransAmount=amount)).status_code == 200
    assert str(Payment.objects.get().amount) in ("1000.00", "1000.50", "12345678.00")


def test_a_lower_case_receipt_is_the_same_payment_as_its_upper_case_one(mpesa, paybill):
    assert mpesa.confirm(masked(TransID="CLOW0000001")).status_code == 200
    assert mpesa.confirm(masked(TransID="clow0000001")).status_code == 200

    payment = Payment.objects.get()
    assert payment.trans_id == "CLOW0000001"
    statuses = sorted(CallbackReceipt.objects.values_list("status", flat=True))
    assert statuses == [Status.DUPLICATE, Status.PROCESSED]
    assert set(CallbackReceipt.objects.values_list("trans_id", flat=True)) == {"CLOW0000001"}


def test_an_organisation_paying_the_paybill_is_captured_with_no_sms_and_no_fault(
    mpesa, paybill, make_member
):
    from sms.models import OutboundSms

    make_member("NS00123", phones=("254712345126",))
    body = masked(
        TransactionType="Organization To Organization Transfer",
        MSISDN="",
        FirstName="KENYA TEACHERS CHECK-OFF EMPLOYER LIMITED",
        BillRefNumber="NS00123",
    )
    assert mpesa.confirm(body).status_code == 200

    payment = Payment.objects.get()
    assert payment.payer_name == "KENYA TEACHERS CHECK-OFF EMPLOYER LIMITED"
    assert payment.member_match.member.number == "NS00123"
    sms = OutboundSms.objects.get()
    assert sms.status == OutboundSms.Status.SKIPPED
    assert "organisation" in sms.reason
    assert not sms.failed
