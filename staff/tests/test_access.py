"""Every staff page is behind a staff login."""

from urllib.parse import quote

import pytest
from django.urls import reverse

from c2b.models import CallbackReceipt, Payment
from factories import make_receipt_sms
from sms.models import OutboundSms

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/transactions/",
    "/transactions/?q=TKR&since=2026-11-01",
    "/transactions/TKR0000001/",
    "/transactions/export.csv",
    "/transactions/export.xlsx",
    "/attention/",
]


@pytest.mark.parametrize("url", PAGES)
def test_it_sends_anonymous_visitors_to_sign_in_and_back(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={quote(url, safe='/')}"


@pytest.mark.parametrize("url", PAGES)
def test_it_refuses_signed_in_users_who_are_not_staff(client, member_user, url):
    client.force_login(member_user)
    response = client.get(url)
    assert response.status_code == 403
    assert b"for SACCO staff only" in response.content


def test_it_refuses_inactive_staff(client, cashier):
    client.force_login(cashier)
    cashier.is_active = False
    cashier.save()
    assert client.get("/").status_code in (302, 403)


@pytest.fixture
def failures(mpesa, make_payment, payload):
    """A callback that failed (its shortcode was missing) and an SMS that failed."""
    mpesa.confirm(payload("confirmation_v2_masked"))
    sms = make_receipt_sms(make_payment(msisdn="254712345678"))
    OutboundSms.objects.filter(pk=sms.pk).update(status=OutboundSms.Status.FAILED)
    return CallbackReceipt.objects.get(), sms


def _unchanged(receipt: CallbackReceipt, sms: OutboundSms) -> bool:
    receipt_now = CallbackReceipt.objects.get(pk=receipt.pk)
    sms_now = OutboundSms.objects.get(pk=sms.pk)
    return (
        (receipt_now.status, receipt_now.attempts) == (receipt.status, receipt.attempts)
        and sms_now.status == OutboundSms.Status.FAILED
        and not Payment.objects.filter(trans_id=receipt.trans_id).exists()
    )


@pytest.mark.parametrize("action", ["receipts/{receipt}/reprocess/", "sms/{sms}/resend/"])
def test_actions_refuse_anonymous_and_non_staff_posts_and_change_nothing(
    client, member_user, failures, action
):
    receipt, sms = failures
    url = "/attention/" + action.format(receipt=receipt.pk, sms=sms.pk)
    assert client.post(url).status_code == 302
    client.force_login(member_user)
    assert client.post(url).status_code == 403
    assert _unchanged(receipt, sms)


@pytest.mark.parametrize("url", ["/attention/receipts/1/reprocess/", "/attention/sms/1/resend/"])
def test_actions_only_accept_post(staff_client, url):
    assert staff_client.get(url).status_code == 405


def test_actions_require_a_csrf_token(cashier, failures):
    from django.test import Client

    receipt, sms = failures  # its shortcode exists by now: reprocessing would succeed if it ran
    client = Client(enforce_csrf_checks=True)
    client.force_login(cashier)
    assert client.post(f"/attention/receipts/{receipt.pk}/reprocess/").status_code == 403
    assert client.post(f"/attention/sms/{sms.pk}/resend/").status_code == 403
    assert _unchanged(receipt, sms)


def test_staff_see_the_dashboard(staff_client):
    response = staff_client.get("/")
    assert response.status_code == 200
    assert b"Dashboard" in response.content


def test_sign_out_is_a_post_and_ends_the_session(staff_client):
    response = staff_client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert staff_client.get("/").status_code == 302
