"""Every staff page is behind a staff login."""

from urllib.parse import quote

import pytest
from django.urls import reverse

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


@pytest.mark.parametrize("url", ["/attention/receipts/1/reprocess/", "/attention/sms/1/resend/"])
def test_actions_refuse_anonymous_and_non_staff_posts(client, member_user, url):
    assert client.post(url).status_code == 302
    client.force_login(member_user)
    assert client.post(url).status_code == 403


@pytest.mark.parametrize("url", ["/attention/receipts/1/reprocess/", "/attention/sms/1/resend/"])
def test_actions_only_accept_post(staff_client, url):
    assert staff_client.get(url).status_code == 405


def test_actions_require_a_csrf_token(cashier):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(cashier)
    assert client.post("/attention/receipts/1/reprocess/").status_code == 403


def test_staff_see_the_dashboard(staff_client):
    response = staff_client.get("/")
    assert response.status_code == 200
    assert b"Dashboard" in response.content


def test_sign_out_is_a_post_and_ends_the_session(staff_client):
    response = staff_client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert staff_client.get("/").status_code == 302
