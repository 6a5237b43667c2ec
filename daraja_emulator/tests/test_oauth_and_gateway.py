"""OAuth and the gateway checks every API shares."""

from __future__ import annotations

import httpx
import pytest

from daraja_emulator.tests.conftest import KEY, SECRET, SHORTCODE, Daraja


def generate(daraja: Daraja, **kwargs: object) -> httpx.Response:
    params = kwargs.pop("params", {"grant_type": "client_credentials"})
    return daraja.http.get("/oauth/v1/generate", params=params, **kwargs)  # type: ignore[arg-type]


def test_token_reply_sends_expires_in_as_a_string_one_second_short(daraja: Daraja) -> None:
    reply = generate(daraja, auth=(KEY, SECRET))
    assert reply.status_code == 200
    body = reply.json()
    assert body["expires_in"] == "3599"
    assert len(body["access_token"]) == 28


def test_configured_lifetime_shows_in_expires_in(make_emulator) -> None:  # type: ignore[no-untyped-def]
    daraja = Daraja(make_emulator(token_lifetime=60))
    assert generate(daraja, auth=(KEY, SECRET)).json()["expires_in"] == "59"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"auth": (KEY, "wrong")},
        {"auth": ("wrong", SECRET)},
        {},
        {"headers": {"Authorization": "Bearer abc"}},
        {"headers": {"Authorization": "Basic not-base64!!"}},
    ],
    ids=["bad-secret", "bad-key", "missing", "wrong-scheme", "garbage"],
)
def test_bad_or_missing_credentials_are_400_invalid_authentication(
    daraja: Daraja, kwargs: dict[str, object]
) -> None:
    reply = generate(daraja, **kwargs)
    assert reply.status_code == 400
    body = reply.json()
    assert body["errorCode"] == "400.008.01"
    assert body["errorMessage"] == "Invalid Authentication passed"
    assert body["requestId"]


def test_wrong_grant_type_is_400_invalid_grant_type(daraja: Daraja) -> None:
    reply = generate(daraja, auth=(KEY, SECRET), params={"grant_type": "password"})
    assert reply.status_code == 400
    assert reply.json()["errorCode"] == "400.008.02"
    assert reply.json()["errorMessage"] == "Invalid grant type passed"


def test_missing_bearer_is_http_404_invalid_access_token(daraja: Daraja) -> None:
    reply = daraja.http.post("/mpesa/c2b/v2/registerurl", json={"ShortCode": SHORTCODE})
    assert reply.status_code == 404
    assert reply.json()["errorCode"] == "404.001.03"
    assert reply.json()["errorMessage"] == "Invalid Access Token"


def test_unknown_bearer_is_http_404_invalid_access_token(daraja: Daraja) -> None:
    reply = daraja.http.post(
        "/mpesa/c2b/v2/simulate", json={}, headers={"Authorization": "Bearer made-up"}
    )
    assert (reply.status_code, reply.json()["errorCode"]) == (404, "404.001.03")


def test_token_expires_after_the_configured_lifetime(daraja: Daraja) -> None:
    daraja.token()
    daraja.emulator.state.clock.advance(3599)
    assert daraja.post("/pulltransactions/v1/query", {}).status_code == 400  # still valid
    daraja.emulator.state.clock.advance(2)
    assert daraja.post("/pulltransactions/v1/query", {}).status_code == 404


def test_issuing_a_new_token_invalidates_the_previous_one(daraja: Daraja) -> None:
    old = daraja.token()
    generate(daraja, auth=(KEY, SECRET))
    reply = daraja.http.post(
        "/pulltransactions/v1/query", json={}, headers={"Authorization": f"Bearer {old}"}
    )
    assert reply.status_code == 404


def test_concurrent_tokens_option_keeps_the_previous_token_valid(make_emulator) -> None:  # type: ignore[no-untyped-def]
    daraja = Daraja(make_emulator(single_active_token=False))
    old = daraja.token()
    generate(daraja, auth=(KEY, SECRET))
    reply = daraja.http.post(
        "/pulltransactions/v1/query", json={}, headers={"Authorization": f"Bearer {old}"}
    )
    assert reply.status_code == 400  # past the gateway, failing on the empty body


def test_post_without_json_content_type_is_bad_request(daraja: Daraja) -> None:
    reply = daraja.http.post(
        "/mpesa/c2b/v2/registerurl",
        content=b'{"ShortCode": "600000"}',
        headers={"Authorization": f"Bearer {daraja.token()}", "Content-Type": "text/plain"},
    )
    assert reply.status_code == 400
    assert reply.json()["errorCode"] == "400.002.02"
    assert reply.json()["errorMessage"].startswith("Bad Request - Invalid")


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b""])
def test_malformed_json_body_is_bad_request(daraja: Daraja, raw: bytes) -> None:
    reply = daraja.http.post(
        "/mpesa/c2b/v2/registerurl",
        content=raw,
        headers={
            "Authorization": f"Bearer {daraja.token()}",
            "Content-Type": "application/json",
        },
    )
    assert (reply.status_code, reply.json()["errorCode"]) == (400, "400.002.02")


def test_unknown_resource_answers_with_the_error_envelope(daraja: Daraja) -> None:
    reply = daraja.http.get("/mpesa/nothing/here")
    assert reply.status_code == 404
    assert set(reply.json()) == {"requestId", "errorCode", "errorMessage"}


def test_missing_field_names_the_field(daraja: Daraja) -> None:
    reply = daraja.post("/mpesa/c2b/v2/registerurl", {"ResponseType": "Completed"})
    assert reply.status_code == 400
    assert reply.json()["errorMessage"] == "Bad Request - Invalid ShortCode"


def test_credentials_are_checked_before_the_grant_type(daraja: Daraja) -> None:
    reply = generate(daraja, auth=(KEY, "wrong"), params={"grant_type": "password"})
    assert reply.json()["errorCode"] == "400.008.01"
