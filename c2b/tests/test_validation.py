"""The validation URL: the shortcode's rules, answered with Daraja's official codes."""

from decimal import Decimal

import pytest

from c2b.models import CallbackReceipt, Payment, ValidationDecision

pytestmark = pytest.mark.django_db

ACCEPT = {"ResultCode": "0", "ResultDesc": "Accepted"}


def reject(code):
    return {"ResultCode": code, "ResultDesc": "Rejected"}


def test_payment_within_rules_is_accepted_and_recorded(mpesa, make_shortcode, payload):
    make_shortcode(
        "600984",
        min_amount=Decimal("10"),
        max_amount=Decimal("150000"),
        account_pattern=r"NS ?\d{5}",
    )
    response = mpesa.validate(payload("validation_v2"))

    assert response.status_code == 200
    assert response.json() == ACCEPT
    decision = ValidationDecision.objects.get()
    assert decision.accepted is True
    assert decision.result_code == "0"
    assert decision.trans_id == "TKR3XYZ9AB"
    assert decision.receipt.kind == "validation"


def test_unknown_shortcode_is_rejected_c2b00015(mpesa, db, payload):
    assert mpesa.validate(payload("validation_v2")).json() == reject("C2B00015")
    assert ValidationDecision.objects.get().reason == "Unknown shortcode 600984."


def test_disabled_shortcode_is_rejected_c2b00015(mpesa, make_shortcode, payload):
    make_shortcode("600984", enabled=False)
    assert mpesa.validate(payload("validation_v2")).json() == reject("C2B00015")


@pytest.mark.parametrize("amount", ["9.00", "150000.01"])
def test_amount_outside_limits_is_rejected_c2b00013(mpesa, make_shortcode, payload, amount):
    make_shortcode("600984", min_amount=Decimal("10"), max_amount=Decimal("150000"))
    response = mpesa.validate(payload("validation_v2", TransAmount=amount))
    assert response.json() == reject("C2B00013")


def test_account_not_matching_pattern_is_rejected_c2b00012(mpesa, make_shortcode, payload):
    make_shortcode("600984", account_pattern=r"NS\d{5}")
    response = mpesa.validate(payload("validation_v2", BillRefNumber="NS12"))
    assert response.json() == reject("C2B00012")
    assert "does not match" in ValidationDecision.objects.get().reason


def test_account_pattern_does_not_apply_to_tills(mpesa, make_shortcode, payload):
    make_shortcode("600984", kind="till", account_pattern=r"NS\d{5}")
    response = mpesa.validate(payload("validation_v2", BillRefNumber=""))
    assert response.json() == ACCEPT


@pytest.mark.parametrize("body", [b"garbage", b'{"TransID": "AB12CD34EF"}'])
def test_unreadable_validation_request_is_rejected_c2b00016(mpesa, paybill, body):
    response = mpesa.validate(body)
    assert response.status_code == 200
    assert response.json() == reject("C2B00016")
    receipt = CallbackReceipt.objects.get()
    assert receipt.status == CallbackReceipt.Status.FAILED
    assert receipt.validation_decision.result_code == "C2B00016"


def test_confirmation_is_linked_to_its_validation_decision(mpesa, paybill, payload):
    mpesa.validate(payload("validation_v2"))
    mpesa.confirm(payload("confirmation_v2_masked"))
    assert Payment.objects.get().validation == ValidationDecision.objects.get()


def test_confirmation_after_a_rejected_validation_is_still_recorded(mpesa, make_shortcode, payload):
    # ResponseType Completed + a late answer can complete a payment we rejected: money moved.
    make_shortcode("600984", max_amount=Decimal("100"))
    mpesa.validate(payload("validation_v2"))
    assert mpesa.confirm(payload("confirmation_v2_masked")).status_code == 200
    payment = Payment.objects.get()
    assert payment.validation.accepted is False


def test_decision_the_database_refuses_is_rejected_c2b00016_and_kept_with_its_traceback(
    mpesa, make_shortcode, payload
):
    from unittest import mock

    from django.db import IntegrityError

    make_shortcode("600984")
    real = ValidationDecision.objects.create
    refusals = [IntegrityError("duplicate key value")]

    def refuse_once(**fields):
        if refusals:
            raise refusals.pop()
        return real(**fields)

    with mock.patch(
        "c2b.services.callbacks.ValidationDecision.objects.create", side_effect=refuse_once
    ):
        response = mpesa.validate(payload("validation_v2"))

    # Validation answers HTTP 200 with a code, always: a 500 would let M-Pesa apply the default.
    assert (response.status_code, response.json()) == (200, reject("C2B00016"))
    receipt = CallbackReceipt.objects.get()
    assert receipt.status == CallbackReceipt.Status.FAILED
    assert receipt.error == "The database refused a value in this request (see traceback)."
    assert "IntegrityError: duplicate key value" in receipt.traceback
    assert ValidationDecision.objects.get().result_code == "C2B00016"


def test_a_bug_while_deciding_is_rejected_c2b00016_never_a_500(mpesa, make_shortcode, payload):
    from unittest import mock

    make_shortcode("600984")
    with mock.patch(
        "c2b.services.callbacks.validation_check", side_effect=ZeroDivisionError("bug")
    ):
        response = mpesa.validate(payload("validation_v2"))

    assert (response.status_code, response.json()) == (200, reject("C2B00016"))
    receipt = CallbackReceipt.objects.get()
    assert receipt.error == "Unexpected error while processing (see traceback)."
    assert "ZeroDivisionError: bug" in receipt.traceback
