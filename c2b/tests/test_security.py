"""Token, source-address allowlist and trusted proxies."""

import pytest
from django.test import override_settings

from c2b.models import CallbackReceipt

pytestmark = pytest.mark.django_db

SAFARICOM = "196.201.214.200"
BEHIND_PROXY = {"C2B_ALLOWED_IPS": [SAFARICOM], "C2B_TRUSTED_PROXIES": ["127.0.0.1"]}


@override_settings(C2B_ALLOWED_IPS=[SAFARICOM, "10.9.0.0/16"])
def test_callback_from_an_allowed_address_is_accepted(mpesa, paybill, payload):
    response = mpesa.confirm(payload("confirmation_v2_masked"), REMOTE_ADDR=SAFARICOM)
    assert response.status_code == 200
    assert (
        mpesa.confirm(payload("confirmation_v1_hashed"), REMOTE_ADDR="10.9.3.4").status_code == 200
    )


@override_settings(C2B_ALLOWED_IPS=[SAFARICOM])
def test_callback_from_another_address_is_a_404_and_writes_nothing(mpesa, paybill, payload):
    response = mpesa.confirm(payload("confirmation_v2_masked"), REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 404
    assert CallbackReceipt.objects.count() == 0


@override_settings(C2B_ALLOWED_IPS=[SAFARICOM])
def test_a_refused_address_cannot_tell_a_right_token_from_a_wrong_one(mpesa, paybill, payload):
    body = payload("confirmation_v2_masked")
    right = mpesa.post("confirmation", body, REMOTE_ADDR="203.0.113.9")
    wrong = mpesa.post("confirmation", body, token="x" * 36, REMOTE_ADDR="203.0.113.9")

    assert (right.status_code, right.content) == (wrong.status_code, wrong.content)
    assert dict(right.headers) == dict(wrong.headers)
    assert CallbackReceipt.objects.count() == 0


@override_settings(**BEHIND_PROXY)
def test_the_address_our_proxy_set_is_believed(mpesa, paybill, payload):
    response = mpesa.confirm(
        payload("confirmation_v2_masked"), REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP=SAFARICOM
    )
    assert response.status_code == 200
    assert CallbackReceipt.objects.get().source_ip == SAFARICOM


@override_settings(**BEHIND_PROXY)
def test_forwarded_headers_are_ignored_when_the_peer_is_not_a_trusted_proxy(
    mpesa, paybill, payload
):
    response = mpesa.confirm(
        payload("confirmation_v2_masked"),
        REMOTE_ADDR="203.0.113.9",
        HTTP_X_REAL_IP=SAFARICOM,
        HTTP_X_FORWARDED_FOR=SAFARICOM,
    )
    assert response.status_code == 404
    assert CallbackReceipt.objects.count() == 0


@override_settings(**BEHIND_PROXY)
@pytest.mark.parametrize(
    "header",
    [
        f"203.0.113.9, {SAFARICOM}",  # a client's X_Real_IP twin, merged in by the web server
        f"{SAFARICOM}, 203.0.113.9",
        "",  # the proxy did not set it
        "not-an-address",
    ],
)
def test_anything_but_one_address_from_our_proxy_is_refused(mpesa, paybill, payload, header):
    response = mpesa.confirm(
        payload("confirmation_v2_masked"),
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_REAL_IP=header,
        HTTP_X_FORWARDED_FOR=SAFARICOM,
    )
    assert response.status_code == 404
    assert CallbackReceipt.objects.count() == 0


@override_settings(**BEHIND_PROXY, C2B_CLIENT_ADDRESS_HEADER="CF-Connecting-IP")
def test_the_address_header_is_configurable(mpesa, paybill, payload):
    response = mpesa.confirm(
        payload("confirmation_v2_masked"),
        REMOTE_ADDR="127.0.0.1",
        HTTP_CF_CONNECTING_IP=SAFARICOM,
        HTTP_X_REAL_IP="203.0.113.9",
    )
    assert response.status_code == 200


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
