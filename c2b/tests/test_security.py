"""Token, source-address allowlist and trusted proxies."""

import pytest
from django.test import override_settings

from c2b.models import CallbackReceipt

pytestmark = pytest.mark.django_db

SAFARICOM = "196.201.214.200"


@override_settings(C2B_ALLOWED_IPS=[SAFARICOM, "10.9.0.0/16"])
def test_callback_from_an_allowed_address_is_accepted(mpesa, paybill, payload):
    response = mpesa.confirm(payload("confirmation_v2_masked"), REMOTE_ADDR=SAFARICOM)
    assert response.status_code == 200
    assert (
        mpesa.confirm(payload("confirmation_v1_hashed"), REMOTE_ADDR="10.9.3.4").status_code == 200
    )


@override_settings(C2B_ALLOWED_IPS=[SAFARICOM])
def test_callback_from_another_address_gets_403_and_writes_nothing(mpesa, paybill, payload):
    response = mpesa.confirm(payload("confirmation_v2_masked"), REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 403
    assert CallbackReceipt.objects.count() == 0


@override_settings(C2B_ALLOWED_IPS=[SAFARICOM])
def test_forwarded_for_is_ignored_when_the_peer_is_not_a_trusted_proxy(mpesa, paybill, payload):
    response = mpesa.confirm(
        payload("confirmation_v2_masked"),
        REMOTE_ADDR="203.0.113.9",
        HTTP_X_FORWARDED_FOR=SAFARICOM,
    )
    assert response.status_code == 403
    assert CallbackReceipt.objects.count() == 0


@override_settings(C2B_ALLOWED_IPS=[SAFARICOM], C2B_TRUSTED_PROXIES=["127.0.0.1"])
def test_address_appended_by_our_proxy_is_believed(mpesa, paybill, payload):
    response = mpesa.confirm(
        payload("confirmation_v2_masked"), REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=SAFARICOM
    )
    assert response.status_code == 200
    assert CallbackReceipt.objects.get().source_ip == SAFARICOM


@override_settings(C2B_ALLOWED_IPS=[SAFARICOM], C2B_TRUSTED_PROXIES=["127.0.0.1"])
def test_forged_left_most_forwarded_address_is_not_believed(mpesa, paybill, payload):
    response = mpesa.confirm(
        payload("confirmation_v2_masked"),
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR=f"{SAFARICOM}, 203.0.113.9",
    )
    assert response.status_code == 403
    assert CallbackReceipt.objects.count() == 0


@override_settings(C2B_ALLOWED_IPS=[SAFARICOM])
def test_wrong_token_is_404_before_the_address_check(mpesa, paybill, payload):
    response = mpesa.post(
        "confirmation", payload("confirmation_v2_masked"), token="nope", REMOTE_ADDR="203.0.113.9"
    )
    assert response.status_code == 404
    assert CallbackReceipt.objects.count() == 0


@override_settings(C2B_ALLOWED_IPS=["*"])
def test_star_turns_the_address_check_off(mpesa, paybill, payload):
    response = mpesa.confirm(payload("confirmation_v2_masked"), REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200
