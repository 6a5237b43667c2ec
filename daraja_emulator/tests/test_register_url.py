"""Register URL: Safaricom's URL rules, versions, and production's one-shot registration."""

from __future__ import annotations

from typing import Any

import pytest

from daraja_emulator.tests.conftest import SHORTCODE, Daraja, Receiver


def register_body(**overrides: Any) -> dict[str, Any]:
    return {
        "ShortCode": SHORTCODE,
        "ResponseType": "Completed",
        "ConfirmationURL": "https://pay.example.com/api/v1/c2b/tok/confirmation",
        "ValidationURL": "https://pay.example.com/api/v1/c2b/tok/validation",
    } | overrides


def test_registration_succeeds_with_the_misspelt_coversation_key(
    daraja: Daraja, receiver: Receiver
) -> None:
    reply = daraja.register(receiver)
    assert reply.status_code == 200
    body = reply.json()
    assert set(body) == {"OriginatorCoversationID", "ResponseCode", "ResponseDescription"}
    assert (body["ResponseCode"], body["ResponseDescription"]) == ("0", "Success")


@pytest.mark.parametrize(
    "word", ["mpesa", "M-PESA", "Safaricom", "exe", "EXEC", "cmd", "sql", "Query"]
)
def test_forbidden_words_anywhere_in_any_case_are_rejected(daraja: Daraja, word: str) -> None:
    url = f"https://pay.example.com/hooks/{word}/confirmation"
    reply = daraja.post("/mpesa/c2b/v2/registerurl", register_body(ConfirmationURL=url))
    assert reply.status_code == 400
    assert reply.json()["errorCode"] == "400.003.02"
    assert "ConfirmationURL" in reply.json()["errorMessage"]
    assert "forbidden word" in reply.json()["errorMessage"]


def test_forbidden_word_inside_another_word_or_the_host_is_still_rejected(daraja: Daraja) -> None:
    url = "https://executive-sacco.example.com/c2b/validation"
    reply = daraja.post("/mpesa/c2b/v2/registerurl", register_body(ValidationURL=url))
    assert reply.status_code == 400
    assert "ValidationURL" in reply.json()["errorMessage"]


@pytest.mark.parametrize(
    "host", ["abc.ngrok.io", "x.ngrok-free.app", "mockbin.org", "requestbin.net"]
)
def test_url_tester_hosts_are_rejected(daraja: Daraja, host: str) -> None:
    reply = daraja.post(
        "/mpesa/c2b/v2/registerurl", register_body(ConfirmationURL=f"https://{host}/c")
    )
    assert (reply.status_code, reply.json()["errorCode"]) == (400, "400.003.02")
    assert "tester" in reply.json()["errorMessage"]


def test_production_requires_https(daraja: Daraja) -> None:
    daraja.configure(mode="production")
    url = "http://pay.example.com/c2b/confirmation"
    reply = daraja.post("/mpesa/c2b/v2/registerurl", register_body(ConfirmationURL=url))
    assert reply.status_code == 400
    assert "https" in reply.json()["errorMessage"]


def test_sandbox_accepts_plain_http(daraja: Daraja) -> None:
    url = "http://pay.example.com/c2b/confirmation"
    reply = daraja.post("/mpesa/c2b/v2/registerurl", register_body(ConfirmationURL=url))
    assert reply.status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8000/c",
        "http://127.0.0.1:8000/c",
        "http://10.1.2.3/c",
        "http://192.168.1.5/c",
        "http://web:8000/c",
        "/relative/path",
        "ftp://pay.example.com/c",
    ],
)
def test_local_or_unreachable_urls_are_rejected_without_allow_localhost(
    make_emulator: Any, url: str
) -> None:
    daraja = Daraja(make_emulator(allow_localhost=False))
    reply = daraja.post("/mpesa/c2b/v2/registerurl", register_body(ValidationURL=url))
    assert (reply.status_code, reply.json()["errorCode"]) == (400, "400.003.02")


def test_allow_localhost_accepts_loopback_urls(daraja: Daraja, receiver: Receiver) -> None:
    assert daraja.register(receiver).status_code == 200


def test_second_registration_in_production_mode_says_already_registered(
    daraja: Daraja, receiver: Receiver
) -> None:
    daraja.configure(mode="production", api_version="v2")
    body = register_body()
    assert daraja.post("/mpesa/c2b/v2/registerurl", body).status_code == 200
    reply = daraja.post("/mpesa/c2b/v2/registerurl", body)
    assert reply.status_code == 500
    assert reply.json()["errorCode"] == "500.003.1001"
    assert reply.json()["errorMessage"] == "Urls are already registered."


def test_deleting_urls_through_the_control_api_allows_registering_again(daraja: Daraja) -> None:
    daraja.configure(mode="production")
    assert daraja.post("/mpesa/c2b/v2/registerurl", register_body()).status_code == 200
    assert daraja.control("DELETE", f"/shortcodes/{SHORTCODE}/urls").json() == {"deleted": True}
    assert daraja.post("/mpesa/c2b/v2/registerurl", register_body()).status_code == 200


def test_sandbox_registration_overwrites_the_previous_urls(
    daraja: Daraja, receiver: Receiver
) -> None:
    daraja.register(receiver)
    reply = daraja.post(
        "/mpesa/c2b/v2/registerurl",
        register_body(
            ConfirmationURL=receiver.url("/second/confirmation"),
            ValidationURL=receiver.url("/second/validation"),
        ),
    )
    assert reply.status_code == 200
    daraja.simulate()
    receiver.wait_for("/second/confirmation")
    assert receiver.at("/c2b/confirmation") == []


@pytest.mark.parametrize("response_type", ["completed", "CANCELLED", "Complete", "", None])
def test_response_type_must_be_exactly_completed_or_cancelled(
    daraja: Daraja, response_type: Any
) -> None:
    reply = daraja.post("/mpesa/c2b/v2/registerurl", register_body(ResponseType=response_type))
    assert reply.status_code == 400
    assert "ResponseType" in reply.json()["errorMessage"]


def test_shortcode_must_be_a_string(daraja: Daraja) -> None:
    reply = daraja.post("/mpesa/c2b/v2/registerurl", register_body(ShortCode=600000))
    assert reply.status_code == 400
    assert reply.json()["errorMessage"] == "Bad Request - Invalid ShortCode"


def test_the_version_the_app_is_not_entitled_to_says_no_apiproduct_match(daraja: Daraja) -> None:
    daraja.configure(api_version="v1")
    reply = daraja.post("/mpesa/c2b/v2/registerurl", register_body())
    assert reply.status_code == 401
    assert reply.json()["errorCode"] == "401.003.01"
    assert reply.json()["errorMessage"] == "Error: no apiproduct match found"
    assert daraja.post("/mpesa/c2b/v1/registerurl", register_body()).status_code == 200


def test_unknown_shortcode_is_auto_created_in_sandbox_mode_with_defaults(daraja: Daraja) -> None:
    assert daraja.post("/mpesa/c2b/v2/registerurl", register_body(ShortCode="123456")).is_success
    entry = daraja.control("GET", "/shortcodes/123456").json()
    assert (entry["mode"], entry["api_version"], entry["auto_created"]) == ("sandbox", "v2", True)


def test_unknown_shortcode_is_refused_when_auto_create_is_off(make_emulator: Any) -> None:
    daraja = Daraja(make_emulator(auto_create_shortcodes=False))
    reply = daraja.post("/mpesa/c2b/v2/registerurl", register_body())
    assert reply.status_code == 400
    assert reply.json()["errorMessage"].startswith("Bad Request - Invalid ShortCode")


def test_legacy_v1_reply_has_no_response_code_and_a_lower_case_success(daraja: Daraja) -> None:
    daraja.configure(api_version="v1", legacy_register_reply=True)
    reply = daraja.post("/mpesa/c2b/v1/registerurl", register_body())
    assert reply.status_code == 200
    assert "ResponseCode" not in reply.json()
    assert reply.json()["ResponseDescription"] == "success"
