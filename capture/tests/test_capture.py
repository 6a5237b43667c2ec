"""The capture worker: answered confirmations become payments, in batches, exactly once."""

from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import IntegrityError, OperationalError, connection
from django.test.utils import CaptureQueriesContext

from c2b.models import CallbackReceipt, Payment
from capture import recording
from capture.services import CaptureReport, capture_pending
from sms.models import OutboundSms

pytestmark = pytest.mark.django_db

Status = CallbackReceipt.Status


def test_confirmation_is_answered_before_it_is_captured(mpesa, paybill, payload):
    response = mpesa.post("confirmation", payload("confirmation_v2_masked"))

    assert response.status_code == 200
    assert response.json() == {"ResultCode": 0, "ResultDesc": "Accepted"}
    assert CallbackReceipt.objects.get().status == Status.RECEIVED
    assert Payment.objects.count() == 0

    report = capture_pending(limit=10)

    assert report == CaptureReport(processed=1)
    receipt = CallbackReceipt.objects.get()
    assert (receipt.status, receipt.attempts) == (Status.PROCESSED, 1)
    assert receipt.payment == Payment.objects.get()
    assert OutboundSms.objects.get().payment == receipt.payment


def test_redelivery_in_the_same_batch_is_stored_once(mpesa, paybill, payload):
    for _ in range(3):
        mpesa.post("confirmation", payload("confirmation_v2_masked"))
    mpesa.post("confirmation", payload("confirmation_v2_masked", TransAmount="10.00"))

    report = capture_pending(limit=10)

    assert report == CaptureReport(processed=1, duplicate=2, conflict=1)
    payment = Payment.objects.get()
    statuses = list(CallbackReceipt.objects.order_by("id").values_list("status", "payment"))
    assert statuses == [
        ("processed", payment.pk),
        ("duplicate", payment.pk),
        ("duplicate", payment.pk),
        ("conflict", payment.pk),
    ]
    assert OutboundSms.objects.count() == 1


def test_capture_takes_the_oldest_first_and_at_most_the_batch_size(mpesa, paybill, payload):
    for i in range(5):
        mpesa.post("confirmation", payload("confirmation_v2_masked", TransID=f"TKR{i:07d}"))

    assert capture_pending(limit=2).processed == 2
    assert sorted(Payment.objects.values_list("trans_id", flat=True)) == [
        "TKR0000000",
        "TKR0000001",
    ]
    assert capture_pending(limit=10).processed == 3
    assert capture_pending(limit=10) == CaptureReport()


def test_a_batch_costs_the_same_queries_whatever_its_size(mpesa, paybill, payload):
    def queries_for(count: int, start: int) -> int:
        for i in range(start, start + count):
            mpesa.post("confirmation", payload("confirmation_v2_masked", TransID=f"TKR{i:07d}"))
        mpesa.post("confirmation", payload("confirmation_v2_masked", TransID=f"TKR{start:07d}"))
        with CaptureQueriesContext(connection) as queries:
            assert capture_pending(limit=100).processed == count
        return len(queries)

    # 40: under SQLite's 999 parameters per statement, past which Django splits an insert.
    assert queries_for(1, start=0) == queries_for(40, start=100)


def test_bug_while_capturing_one_receipt_fails_it_alone_with_its_traceback(mpesa, paybill, payload):
    mpesa.post("confirmation", payload("confirmation_v2_masked", TransID="TKRGOOD001"))
    mpesa.post("confirmation", payload("confirmation_v2_masked", TransID="TKRBAD0001"))
    mpesa.post("confirmation", payload("confirmation_v2_masked", TransID="TKRGOOD002"))
    real = recording.payload_values

    def buggy(parsed):
        if parsed.trans_id == "TKRBAD0001":
            raise KeyError("boom")
        return real(parsed)

    with mock.patch("capture.recording.payload_values", side_effect=buggy):
        report = capture_pending(limit=10)

    assert report == CaptureReport(processed=2, failed=1)
    assert sorted(Payment.objects.values_list("trans_id", flat=True)) == [
        "TKRGOOD001",
        "TKRGOOD002",
    ]
    bad = CallbackReceipt.objects.get(trans_id="TKRBAD0001")
    assert bad.status == Status.FAILED
    assert bad.error == "Unexpected error while capturing (see traceback)."
    assert "KeyError: 'boom'" in bad.traceback

    # Fixed: reprocessing stores it.
    call_command("reprocess_callbacks", "--failed", stdout=StringIO())
    bad.refresh_from_db()
    assert (bad.status, bad.attempts, bad.traceback) == (Status.PROCESSED, 2, "")


def test_value_the_database_refuses_fails_that_receipt_only(mpesa, paybill, payload):
    mpesa.post("confirmation", payload("confirmation_v2_masked", TransID="TKRGOOD001"))
    mpesa.post("confirmation", payload("confirmation_v2_masked", TransID="TKRHUGE001"))
    real = recording.payload_values

    def huge(parsed):
        fields = real(parsed)
        if parsed.trans_id == "TKRHUGE001":
            fields["invoice_number"] = "x" * 500  # longer than the column
        return fields

    with mock.patch("capture.recording.payload_values", side_effect=huge):
        report = capture_pending(limit=10)

    if connection.vendor == "sqlite":  # SQLite does not enforce lengths
        assert report == CaptureReport(processed=2)
        return
    assert report == CaptureReport(processed=1, failed=1)
    assert CallbackReceipt.objects.get(trans_id="TKRHUGE001").status == Status.FAILED


def test_receipt_stored_while_a_shortcode_was_missing_fails_with_the_reason(
    mpesa, make_shortcode, payload
):
    sc = make_shortcode("600984")
    mpesa.post("confirmation", payload("confirmation_v2_masked"))
    sc.delete()

    assert capture_pending(limit=10) == CaptureReport(failed=1)
    receipt = CallbackReceipt.objects.get()
    assert receipt.error.startswith("Unknown shortcode 600984: add it")
    assert receipt.trans_id == "TKR3XYZ9AB"


def test_database_outage_stops_the_batch_with_nothing_written(mpesa, paybill, payload):
    mpesa.post("confirmation", payload("confirmation_v2_masked"))
    with (
        mock.patch(
            "capture.recording.sms_receipts_enqueue",
            side_effect=OperationalError("server closed the connection"),
        ),
        pytest.raises(OperationalError),
    ):
        capture_pending(limit=10)
    assert Payment.objects.count() == 0
    assert CallbackReceipt.objects.get().status == Status.RECEIVED


def test_capture_worker_once_captures_everything_waiting_and_exits(mpesa, paybill, payload):
    for i in range(5):
        mpesa.post("confirmation", payload("confirmation_v2_masked", TransID=f"TKR{i:07d}"))
    mpesa.post("confirmation", payload("confirmation_v2_masked", TransID="TKR0000000"))
    err = StringIO()

    call_command("capture_worker", "--once", "--batch", "2", stderr=err)

    assert Payment.objects.count() == 5
    assert "stopped; 5 processed, 1 duplicate." in err.getvalue()


def test_integrity_error_that_is_no_race_fails_the_receipt_with_its_traceback(
    mpesa, paybill, payload
):
    mpesa.post("confirmation", payload("confirmation_v2_masked"))
    refused = IntegrityError("violates foreign key constraint")
    with (
        mock.patch.object(Payment.objects, "bulk_create", side_effect=refused),
        mock.patch.object(Payment, "save", side_effect=refused),
    ):
        report = capture_pending(limit=10)

    assert report == CaptureReport(failed=1)
    receipt = CallbackReceipt.objects.get()
    assert receipt.status == Status.FAILED
    assert "violates foreign key constraint" in receipt.traceback
    assert Payment.objects.count() == 0


def test_capture_worker_once_stops_on_a_database_outage_instead_of_waiting(mpesa, paybill, payload):
    mpesa.post("confirmation", payload("confirmation_v2_masked"))
    with (
        mock.patch(
            "capture.management.commands.capture_worker.capture_pending",
            side_effect=OperationalError("connection refused"),
        ),
        pytest.raises(OperationalError),
    ):
        call_command("capture_worker", "--once", stderr=StringIO())
    assert CallbackReceipt.objects.get().status == Status.RECEIVED
