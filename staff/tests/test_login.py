"""Signing in, and what happens to someone guessing passwords."""

import pytest
from django.db import connection
from django.test import override_settings

from staff.tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(client, password, username="wanjiku", **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def test_staff_sign_in_and_land_on_the_dashboard(client, cashier):
    response = sign_in(client, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_sign_in_returns_to_the_page_asked_for(client, cashier):
    response = client.post(
        "/accounts/login/?next=/attention/",
        {"username": "wanjiku", "password": PASSWORD, "next": "/attention/"},
    )
    assert response["Location"] == "/attention/"


def test_a_wrong_password_is_refused_with_the_form_again(client, cashier):
    response = sign_in(client, "wrong")
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


@override_settings(STAFF_LOGIN_MAX_FAILURES=3, STAFF_LOGIN_LOCKOUT_MINUTES=15)
def test_repeated_failures_lock_the_username_even_for_the_right_password(client, cashier):
    for _ in range(3):
        assert sign_in(client, "guess").status_code == 200
    response = sign_in(client, PASSWORD)
    assert response.status_code == 429
    assert b"Too many failed sign-in attempts" in response.content
    assert b"Wait 15 minutes" in response.content
    assert "_auth_user_id" not in client.session


@override_settings(STAFF_LOGIN_MAX_FAILURES=3)
def test_the_lock_is_per_username_and_address(client, cashier, django_user_model):
    django_user_model.objects.create_user("akinyi", password=PASSWORD, is_staff=True)
    for _ in range(3):
        sign_in(client, "guess")
    # Another username from the same address, and the same username from elsewhere, still work.
    assert sign_in(client, PASSWORD, username="akinyi").status_code == 302
    client.logout()
    assert sign_in(client, PASSWORD, REMOTE_ADDR="10.9.8.7").status_code == 302


@override_settings(STAFF_LOGIN_MAX_FAILURES=3)
def test_the_username_is_counted_whatever_its_case(client, cashier):
    for name in ("wanjiku", "WANJIKU", "Wanjiku "):
        sign_in(client, "guess", username=name)
    assert sign_in(client, PASSWORD).status_code == 429


@override_settings(STAFF_LOGIN_MAX_FAILURES=3)
def test_a_successful_sign_in_clears_earlier_failures(client, cashier):
    sign_in(client, "guess")
    sign_in(client, "guess")
    assert sign_in(client, PASSWORD).status_code == 302
    client.logout()
    sign_in(client, "guess")
    sign_in(client, "guess")
    assert sign_in(client, PASSWORD).status_code == 302


@override_settings(STAFF_LOGIN_MAX_FAILURES=2)
def test_the_lock_ends_when_the_counter_expires(client, cashier):
    from django.core.cache import cache

    sign_in(client, "guess")
    sign_in(client, "guess")
    assert sign_in(client, PASSWORD).status_code == 429
    cache.clear()  # what the lockout timeout does
    assert sign_in(client, PASSWORD).status_code == 302


@override_settings(STAFF_LOGIN_MAX_FAILURES=2)
def test_the_admin_sign_in_is_throttled_too(client, cashier):
    for _ in range(2):
        client.post("/admin/login/", {"username": "wanjiku", "password": "guess"})
    response = client.post("/admin/login/", {"username": "wanjiku", "password": PASSWORD})
    assert b"Too many failed sign-in attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_the_sign_in_page_has_a_csrf_protected_form(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b'name="csrfmiddlewaretoken"' in response.content


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency is proven on PostgreSQL")
def test_guesses_arriving_together_get_no_more_password_checks_than_the_limit(cashier):
    import threading
    from unittest import mock

    from django.contrib.auth.backends import ModelBackend
    from django.db import connections
    from django.test import Client

    checks: list[str] = []
    real = ModelBackend.authenticate

    def counted(self, request, username=None, password=None, **kwargs):
        checks.append(password)
        return real(self, request, username=username, password=password, **kwargs)

    barrier = threading.Barrier(10)
    statuses: list[int] = []

    def guess() -> None:
        try:
            client = Client()
            barrier.wait(timeout=10)
            statuses.append(sign_in(client, "guess").status_code)
        finally:
            connections.close_all()

    with (
        override_settings(STAFF_LOGIN_MAX_FAILURES=5),
        mock.patch.object(ModelBackend, "authenticate", counted),
    ):
        threads = [threading.Thread(target=guess) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert len(checks) == 5
    assert sorted(statuses) == [200] * 5 + [429] * 5


@pytest.mark.parametrize(
    "url",
    ["/accounts/password_reset/", "/accounts/reset/x/y/", "/accounts/password_change/"],
)
def test_there_is_no_self_service_password_reset_or_open_mailer(client, url):
    assert client.get(url).status_code == 404
    assert client.post(url, {"email": "someone@example.com"}).status_code == 404


def test_signing_out_is_a_post_that_ends_the_session(client, cashier):
    sign_in(client, PASSWORD)
    assert client.post("/accounts/logout/").status_code == 302
    assert "_auth_user_id" not in client.session
