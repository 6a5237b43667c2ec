"""The confirmation URL: every completed payment stored exactly once, nothing lost."""

import json
from decimal import Decimal
from unittest import mock

import pytest
from django.db import OperationalError

from c2b.models import CallbackReceipt, Payment
from capture.services import capture_pending

pytestmark = pytest.mark.django_db

ACCEPTED = {"ResultCode": 0, "ResultDesc": "Accepted"}


def test_confirmation_is_stored_as_a_payment_and_acknowledged(mpesa, paybill, payload):
    response = mpesa.confirm(payload("confirmation_v2_masked"))

    assert response.status_code == 200
    assert response.json() == ACCEPTED
    payment = Payment.objects.get()
    assert payment.trans_id == "TKR3XYZ9AB"
    assert payment.amount == Decimal("1500.00")
    assert payment.shortcode == paybill
    assert payment.msisdn == "2547 ***** 126"
    receipt = CallbackReceipt.objects.get()
    assert receipt.status == CallbackReceipt.Status.PROCESSED
    assert receipt.payment == payment
    assert receipt.kind == "confirmation"
    assert receipt.source_ip == "127.0.0.1"


def test_raw_body_is_kept_byte_for_byte(mpesa, paybill, payload):
    body = json.dumps(payload("confirmation_v1_hashed"), indent=3).encode()
    mpesa.confirm(body)
    assert bytes(CallbackReceipt.objects.get().body) == body


def test_duplicate_confirmation_is_stored_once(mpesa, paybill, payload):
    first = mpesa.confirm(payload("confirmation_v2_masked"))
    second = mpesa.confirm(payload("confirmation_v2_masked"))

    assert first.json() == second.json() == ACCEPTED
    assert second.status_code == 200
    assert Payment.objects.count() == 1
    statuses = list(CallbackReceipt.objects.order_by("id").values_list("status", flat=True))
    assert statuses == ["processed", "duplicate"]
    assert CallbackReceipt.objects.get(status="duplicate").payment == Payment.objects.get()


def test_conflicting_redelivery_leaves_first_record_untouched_and_is_flagged(
    mpesa, paybill, payload
):
    mpesa.confirm(payload("confirmation_v2_masked"))
    response = mpesa.confirm(payload("confirmation_v2_masked", TransAmount="9999.00"))

    assert response.status_code == 200
    assert response.json() == ACCEPTED
    assert Payment.objects.get().amount == Decimal("1500.00")
    conflict = CallbackReceipt.objects.get(status=CallbackReceipt.Status.CONFLICT)
    assert "TransAmount (stored 1500.00, received 9999.00)" in conflict.error


def test_redelivery_differing_only_in_balance_or_extra_keys_is_a_plain_duplicate(
    mpesa, paybill, payload
):
    mpesa.confirm(payload("confirmation_v2_masked"))
    mpesa.confirm(payload("confirmation_v2_masked", OrgAccountBalance="1.00", New="x"))
    assert CallbackReceipt.objects.filter(status="duplicate").count() == 1


def test_seven_digit_shortcode_numbers_and_extra_keys_are_stored(mpesa, paybill, payload):
    assert mpesa.confirm(payload("confirmation_v1_hashed")).status_code == 200
    payment = Payment.objects.get()
    assert payment.business_short_code == "6009841"
    assert payment.extra == {"SomethingNew": {"Tier": "Gold"}}
    assert payment.org_account_balance is None


def test_trailing_slash_reaches_the_same_endpoint(client, paybill, payload):
    response = client.post(
        "/api/v1/c2b/test-callback-token-0123456789abcdef/confirmation/",
        data=json.dumps(payload("confirmation_v2_masked")),
        content_type="application/json",
    )
    assert response.status_code == 200
    capture_pending(limit=10)
    assert Payment.objects.count() == 1


def test_rotated_token_is_still_accepted(mpesa, paybill, payload):
    response = mpesa.post(
        "confirmation",
        payload("confirmation_v2_masked"),
        token="old-rotated-token-0123456789abcdef0",
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b"\xff\xfe", "not valid JSON"),
        (json.dumps({"TransAmount": "10.00"}).encode(), "TransID is missing"),
    ],
)
def test_unreadable_confirmation_is_kept_raw_and_answered_400(mpesa, paybill, body, reason):
    response = mpesa.confirm(body)

    assert response.status_code == 400
    assert reason in response.json()["ResultDesc"]
    receipt = CallbackReceipt.objects.get()
    assert receipt.status == CallbackReceipt.Status.FAILED
    assert reason in receipt.error
    assert bytes(receipt.body) == body
    assert Payment.objects.count() == 0


def test_bad_trans_time_is_kept_with_its_trans_id(mpesa, paybill, payload):
    response = mpesa.confirm(payload("confirmation_v2_masked", TransTime="yesterday"))
    assert response.status_code == 400
    receipt = CallbackReceipt.objects.get()
    assert receipt.trans_id == "TKR3XYZ9AB"
    assert "TransTime" in receipt.error


def test_confirmation_for_unknown_shortcode_needs_attention(mpesa, db, payload):
    response = mpesa.confirm(payload("confirmation_v2_masked"))
    assert response.status_code == 400
    assert "Unknown shortcode 600984" in response.json()["ResultDesc"]
    assert CallbackReceipt.objects.get().status == CallbackReceipt.Status.FAILED


def test_validation_rules_never_apply_to_confirmations(mpesa, make_shortcode, payload):
    make_shortcode("600984", enabled=False, max_amount=Decimal("10"), account_pattern=r"X\d+")
    assert mpesa.confirm(payload("confirmation_v2_masked")).status_code == 200
    assert Payment.objects.count() == 1


def test_wrong_token_answers_404_and_writes_nothing(mpesa, paybill, payload):
    response = mpesa.post("confirmation", payload("confirmation_v2_masked"), token="guess")
    assert response.status_code == 404
    assert CallbackReceipt.objects.count() == 0


def test_wrong_method_answers_405(client, paybill):
    response = client.get("/api/v1/c2b/test-callback-token-0123456789abcdef/confirmation")
    assert response.status_code == 405
    assert CallbackReceipt.objects.count() == 0


def test_body_over_64_kib_answers_413_without_storing(mpesa, paybill, payload):
    body = payload("confirmation_v2_masked", Padding="x" * 70_000)
    response = mpesa.confirm(body)
    assert response.status_code == 413
    assert CallbackReceipt.objects.count() == 0


def test_database_unavailable_answers_503_never_accepted(mpesa, paybill, payload):
    with mock.patch(
        "c2b.views.callback_receipt_store", side_effect=OperationalError("connection refused")
    ):
        response = mpesa.confirm(payload("confirmation_v2_masked"))
    assert response.status_code == 503
    assert response.json()["ResultDesc"] != "Accepted"


def test_database_failure_after_raw_store_answers_503_and_the_worker_still_captures_it(
    mpesa, paybill, payload
):
    with mock.patch(
        "c2b.services.callbacks.shortcode_is_known",
        side_effect=OperationalError("server closed the connection"),
    ):
        response = mpesa.post("confirmation", payload("confirmation_v2_masked"))
    assert response.status_code == 503
    assert CallbackReceipt.objects.get().status == CallbackReceipt.Status.RECEIVED

    capture_pending(limit=10)
    assert CallbackReceipt.objects.get().status == CallbackReceipt.Status.PROCESSED
    assert Payment.objects.get().trans_id == "TKR3XYZ9AB"


def test_bug_while_answering_keeps_the_raw_request_with_its_traceback(mpesa, paybill, payload):
    with mock.patch("c2b.services.callbacks.parse_c2b_body", side_effect=KeyError("boom")):
        response = mpesa.confirm(payload("confirmation_v2_masked"))
    assert response.status_code == 500
    assert response.json()["ResultDesc"] != "Accepted"
    receipt = CallbackReceipt.objects.get()
    assert receipt.status == CallbackReceipt.Status.FAILED
    assert "KeyError" in receipt.traceback
    assert Payment.objects.count() == 0


def test_a_chunked_body_the_server_did_not_read_is_refused_411_and_nothing_stored(client, paybill):
    response = client.post(
        "/api/v1/c2b/test-callback-token-0123456789abcdef/confirmation",
        data=b"",
        content_type="application/json",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
    )
    assert response.status_code == 411
    assert CallbackReceipt.objects.count() == 0


def test_a_chunked_body_the_server_de_chunked_is_read_and_kept(client, paybill, payload):
    import io

    body = json.dumps(payload("confirmation_v2_masked")).encode()
    response = client.generic(
        "POST",
        "/api/v1/c2b/test-callback-token-0123456789abcdef/confirmation",
        b"",
        content_type="application/json",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input_terminated": True, "wsgi.input": io.BytesIO(body)},
    )
    assert response.status_code == 200
    assert bytes(CallbackReceipt.objects.get().body) == body


def test_a_body_cut_off_by_the_client_is_refused_and_nothing_stored(mpesa, paybill, payload):
    from unittest import mock

    from django.http import UnreadablePostError

    with mock.patch(
        "django.core.handlers.wsgi.WSGIRequest.read", side_effect=UnreadablePostError("reset")
    ):
        response = mpesa.post("confirmation", payload("confirmation_v2_masked"))
    assert response.status_code == 400
    assert CallbackReceipt.objects.count() == 0
