"""The Daraja client, mocked at its one door (HTTP) with Daraja's real reply shapes."""

import base64
import json

import httpx
import pytest
import respx
from django.core.cache import cache

from daraja.client import DarajaClient
from daraja.errors import DarajaError
from factories import daraja_error

BASE = "https://daraja.test"
TOKEN_URL = f"{BASE}/oauth/v1/generate"
REGISTER_V2 = f"{BASE}/mpesa/c2b/v2/registerurl"
REGISTER_V1 = f"{BASE}/mpesa/c2b/v1/registerurl"
SUCCESS = {
    "OriginatorCoversationID": "6e86-45dd-91ac-fd5d4178ab523408729",
    "ResponseCode": "0",
    "ResponseDescription": "Success",
}

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


@pytest.fixture
def daraja():
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield mock


def token_reply(token="tok-1", expires_in="3599"):
    return httpx.Response(200, json={"access_token": token, "expires_in": expires_in})


def register(client, version="v2"):
    return client.register_urls(
        shortcode="600984",
        confirmation_url="https://capture.example.co.ke/api/v1/c2b/t/confirmation",
        validation_url="https://capture.example.co.ke/api/v1/c2b/t/validation",
        response_type="Completed",
        api_version=version,
    )


def test_token_request_uses_basic_auth_and_client_credentials(daraja, client):
    route = daraja.get("/oauth/v1/generate").mock(return_value=token_reply())
    assert client.access_token() == "tok-1"
    request = route.calls.last.request
    assert str(request.url) == f"{TOKEN_URL}?grant_type=client_credentials"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"key:secret").decode()


@pytest.mark.parametrize("expires_in", ["3599", 3599])
def test_token_is_cached_whether_expires_in_is_a_string_or_a_number(daraja, client, expires_in):
    route = daraja.get("/oauth/v1/generate").mock(return_value=token_reply(expires_in=expires_in))
    client.access_token()
    client.access_token()
    assert route.call_count == 1


def test_token_is_shared_through_the_cache_by_other_clients(daraja, client):
    route = daraja.get("/oauth/v1/generate").mock(return_value=token_reply())
    client.access_token()
    other = DarajaClient(base_url=BASE, consumer_key="key", consumer_secret="secret", cache=cache)
    assert other.access_token() == "tok-1"
    assert route.call_count == 1


def test_token_is_refreshed_before_it_expires(daraja, client):
    route = daraja.get("/oauth/v1/generate").mock(
        side_effect=[token_reply("old", "61"), token_reply("new")]
    )
    assert client.access_token() == "old"
    cache.delete(client._token_key)  # what the cache does 1 s after a 61 s token (60 s margin)
    assert client.access_token() == "new"
    assert route.call_count == 2


def test_bad_credentials_give_an_actionable_error(daraja, client):
    daraja.get("/oauth/v1/generate").mock(
        return_value=daraja_error(400, "400.008.01", "Invalid Authentication passed")
    )
    with pytest.raises(DarajaError) as exc:
        client.access_token()
    assert "DARAJA_CONSUMER_KEY" in str(exc.value)
    assert exc.value.code == "400.008.01"


def test_register_v2_sends_exactly_the_documented_request(daraja, client):
    daraja.get("/oauth/v1/generate").mock(return_value=token_reply())
    route = daraja.post("/mpesa/c2b/v2/registerurl").mock(
        return_value=httpx.Response(200, json=SUCCESS)
    )

    result = register(client)

    request = route.calls.last.request
    assert str(request.url) == REGISTER_V2
    assert request.headers["Authorization"] == "Bearer tok-1"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "ShortCode": "600984",
        "ResponseType": "Completed",
        "ConfirmationURL": "https://capture.example.co.ke/api/v1/c2b/t/confirmation",
        "ValidationURL": "https://capture.example.co.ke/api/v1/c2b/t/validation",
    }
    assert result.originator_conversation_id == SUCCESS["OriginatorCoversationID"]


def test_register_v1_uses_the_v1_path_and_accepts_the_old_success_reply(daraja, client):
    daraja.get("/oauth/v1/generate").mock(return_value=token_reply())
    route = daraja.post("/mpesa/c2b/v1/registerurl").mock(
        return_value=httpx.Response(
            200,
            json={
                "ConversationID": "",
                "OriginatorCoversationID": "",
                "ResponseDescription": "success",
            },
        )
    )
    assert register(client, "v1").description == "success"
    assert str(route.calls.last.request.url) == REGISTER_V1


def test_already_registered_tells_the_it_person_what_to_do(daraja, client):
    daraja.get("/oauth/v1/generate").mock(return_value=token_reply())
    daraja.post("/mpesa/c2b/v2/registerurl").mock(
        return_value=daraja_error(500, "500.003.1001", "Urls are already registered.")
    )
    with pytest.raises(DarajaError) as exc:
        register(client)
    assert "delete them in the M-Pesa Org portal" in str(exc.value)


def test_wrong_api_version_suggests_switching_it(daraja, client):
    daraja.get("/oauth/v1/generate").mock(return_value=token_reply())
    daraja.post("/mpesa/c2b/v1/registerurl").mock(
        return_value=daraja_error(401, "401.003.01", "Error: no apiproduct match found")
    )
    with pytest.raises(DarajaError) as exc:
        register(client, "v1")
    assert "API version" in str(exc.value)


def test_invalid_token_is_refreshed_once_and_the_call_retried(daraja, client):
    tokens = daraja.get("/oauth/v1/generate").mock(
        side_effect=[token_reply("stale"), token_reply("fresh")]
    )
    invalid = daraja_error(401, "404.001.03", "Invalid Access Token")
    route = daraja.post("/mpesa/c2b/v2/registerurl").mock(
        side_effect=[invalid, httpx.Response(200, json=SUCCESS)]
    )
    register(client)
    assert tokens.call_count == 2
    assert [c.request.headers["Authorization"] for c in route.calls] == [
        "Bearer stale",
        "Bearer fresh",
    ]


def test_invalid_token_twice_is_an_error_not_a_loop(daraja, client):
    daraja.get("/oauth/v1/generate").mock(return_value=token_reply())
    route = daraja.post("/mpesa/c2b/v2/registerurl").mock(
        return_value=daraja_error(401, "404.001.03", "Invalid Access Token")
    )
    with pytest.raises(DarajaError):
        register(client)
    assert route.call_count == 2


def test_unreachable_daraja_is_a_clear_error(daraja, client):
    daraja.get("/oauth/v1/generate").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(DarajaError, match="Could not reach Daraja"):
        client.access_token()


def test_timeout_is_a_clear_error(daraja, client):
    daraja.get("/oauth/v1/generate").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(DarajaError, match="did not answer in time"):
        client.access_token()


def test_non_json_error_page_is_reported(daraja, client):
    daraja.get("/oauth/v1/generate").mock(
        return_value=httpx.Response(502, text="<html>Bad gateway")
    )
    with pytest.raises(DarajaError, match="HTTP 502"):
        client.access_token()


def test_simulate_paybill_sends_bill_ref_number(daraja, client):
    daraja.get("/oauth/v1/generate").mock(return_value=token_reply())
    route = daraja.post("/mpesa/c2b/v1/simulate").mock(
        return_value=httpx.Response(
            200,
            json={
                "OriginatorCoversationID": "abc",
                "ResponseCode": "0",
                "ResponseDescription": "Accept the service request successfully.",
            },
        )
    )
    result = client.simulate(
        shortcode="600984",
        command_id="CustomerPayBillOnline",
        amount="100",
        msisdn="254708374149",
        bill_ref_number="NS0001",
        api_version="v1",
    )
    assert json.loads(route.calls.last.request.content) == {
        "ShortCode": "600984",
        "CommandID": "CustomerPayBillOnline",
        "Amount": "100",
        "Msisdn": "254708374149",
        "BillRefNumber": "NS0001",
    }
    assert result.originator_conversation_id == "abc"


def test_simulate_buy_goods_sends_no_bill_ref_number(daraja, client):
    daraja.get("/oauth/v1/generate").mock(return_value=token_reply())
    route = daraja.post("/mpesa/c2b/v2/simulate").mock(
        return_value=httpx.Response(200, json={"ResponseCode": "0", "ResponseDescription": "ok"})
    )
    client.simulate(
        shortcode="600638", command_id="CustomerBuyGoodsOnline", amount="5", msisdn="254708374149"
    )
    assert "BillRefNumber" not in json.loads(route.calls.last.request.content)


def test_missing_credentials_are_named():
    with pytest.raises(DarajaError, match="DARAJA_CONSUMER_KEY"):
        DarajaClient(base_url=BASE, consumer_key="", consumer_secret="", cache=cache)


def test_unknown_api_version_is_refused(client):
    with pytest.raises(DarajaError, match="v1 or v2"):
        register(client, "v3")
