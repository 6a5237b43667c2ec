from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import OperationalError
from django.utils import timezone

from c2b.models import CallbackReceipt, Payment
from factories import load_payload

pytestmark = pytest.mark.django_db


def test_healthz_reports_the_database_and_an_empty_capture_queue(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "capture": {"waiting": 0, "oldest_seconds": 0, "late": False},
    }


def test_healthz_says_when_confirmations_wait_too_long_for_capture(client, mpesa, paybill):
    mpesa.post("confirmation", load_payload("confirmation_v2_masked"))
    CallbackReceipt.objects.update(received_at=timezone.now() - timedelta(minutes=5))

    response = client.get("/healthz")

    assert response.status_code == 200  # the web server is fine; the worker is not running
    capture = response.json()["capture"]
    assert capture["waiting"] == 1
    assert capture["late"] is True
    assert 299 <= capture["oldest_seconds"] <= 310


@pytest.mark.parametrize(
    ("waited", "late"), [(timedelta(seconds=5), False), (timedelta(seconds=30), True)]
)
def test_healthz_says_capture_is_late_within_seconds_not_minutes(
    client, mpesa, paybill, waited, late
):
    mpesa.post("confirmation", load_payload("confirmation_v2_masked"))
    CallbackReceipt.objects.update(received_at=timezone.now() - waited)

    # A running worker keeps the oldest under 10 s: half a minute of waiting is news.
    assert client.get("/healthz").json()["capture"]["late"] is late


def test_healthz_is_503_when_the_database_is_unreachable(client):
    with mock.patch("capture.views.capture_backlog", side_effect=OperationalError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_admin_lists_payments_and_receipts_read_only(admin_client, mpesa, paybill):
    mpesa.confirm(load_payload("confirmation_v2_masked"))
    payment = Payment.objects.get()
    receipt = CallbackReceipt.objects.get()
    assert admin_client.get("/admin/c2b/payment/").status_code == 200
    assert (
        admin_client.get("/admin/c2b/callbackreceipt/?status__exact=processed").status_code == 200
    )
    page = admin_client.get(f"/admin/c2b/callbackreceipt/{receipt.pk}/change/")
    assert b"TKR3XYZ9AB" in page.content
    response = admin_client.post(f"/admin/c2b/payment/{payment.pk}/change/", {"amount": "1"})
    assert response.status_code == 403
    payment.refresh_from_db()
    assert payment.amount == Decimal("1500.00")


def test_admin_action_reprocesses_failed_receipts(admin_client, mpesa, make_shortcode):
    mpesa.confirm(load_payload("confirmation_v2_masked"))
    make_shortcode("600984")
    receipt = CallbackReceipt.objects.get()
    admin_client.post(
        "/admin/c2b/callbackreceipt/",
        {"action": "reprocess", "_selected_action": [receipt.pk]},
    )
    receipt.refresh_from_db()
    assert receipt.status == "processed"
