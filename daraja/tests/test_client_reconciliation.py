"""Pull Transactions and Transaction Status through the client, mocked at HTTP with real shapes.

Self-contained (its own fixtures and error replies), so it does not depend on where the
project's shared test helpers live."""

import json
import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from daraja.errors import DarajaError, InvalidRequest
from daraja.tests.payloads import gateway_error, load
from daraja.values import EAT

BASE = "https://daraja.test"
CALLBACK = "https://capture.example.co.ke/api/v1/pull/t/callback"
RESULT_URL = "https://capture.example.co.ke/api/v1/status/t/result"
TIMEOUT_URL = "https://capture.example.co.ke/api/v1/status/t/timeout"
CREDENTIAL = "aGlkZGVuLWNyZWRlbnRpYWwtdmFsdWU="

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


def sent(route, call=-1):
    return json.loads(route.calls[call].request.content)


def window():
    """The last two hours, ending on a whole second."""
    end = datetime.now(UTC).replace(microsecond=0)
    return end - timedelta(hours=2), end


def eat(moment):
    return moment.astimezone(EAT).strftime("%Y-%m-%d %H:%M:%S")


# --- Pull: register ------------------------------------------------------------------------


def test_pull_register_sends_exactly_the_documented_request(daraja, client):
    route = daraja.post("/pulltransactions/v1/register").mock(
        return_value=httpx.Response(200, json=load("pull_register_1000"))
    )
    registration = client.pull_register(
        shortcode="600984", nominated_number="254722000000", callback_url=CALLBACK
    )
    assert route.calls.last.request.headers["Authorization"] == "Bearer tok"
    assert sent(route) == {
        "ShortCode": "600984",
        "RequestType": "Pull",
        "NominatedNumber": "254722000000",
        "CallBackURL": CALLBACK,
    }
    assert registration.status == "1000" and not registration.already_registered


def test_pull_register_already_registered_is_success(daraja, client):
    daraja.post("/pulltransactions/v1/register").mock(
        return_value=httpx.Response(200, json=load("pull_register_1001"))
    )
    registration = client.pull_register(
        shortcode="600984", nominated_number="254722000000", callback_url=CALLBACK
    )
    assert registration.already_registered
    assert registration.description == "ShortCode already Registered"


@pytest.mark.parametrize("number", ["0722000000", "+254722000000", "25472200000", "", "abc"])
def test_pull_register_refuses_a_nominated_number_not_in_2547_form(daraja, client, number):
    route = daraja.post("/pulltransactions/v1/register")
    with pytest.raises(InvalidRequest, match="2547XXXXXXXX"):
        client.pull_register(shortcode="600984", nominated_number=number, callback_url=CALLBACK)
    assert not route.called


def test_pull_register_error_masks_the_number_it_refuses(client):
    with pytest.raises(InvalidRequest) as exc:
        client.pull_register(
            shortcode="600984", nominated_number="07220001234", callback_url=CALLBACK
        )
    assert "07220001234" not in str(exc.value) and "0722****234" in str(exc.value)


def test_pull_register_gateway_error_is_a_daraja_error(daraja, client):
    daraja.post("/pulltransactions/v1/register").mock(
        return_value=gateway_error(400, "400.002.02", "Bad Request - Invalid CallBackURL")
    )
    with pytest.raises(DarajaError, match="Invalid CallBackURL") as exc:
        client.pull_register(
            shortcode="600984", nominated_number="254722000000", callback_url=CALLBACK
        )
    assert exc.value.code == "400.002.02"


# --- Pull: query ---------------------------------------------------------------------------


def test_pull_query_sends_the_window_in_eat_and_the_offset_as_text(daraja, client):
    route = daraja.post("/pulltransactions/v1/query").mock(
        return_value=httpx.Response(200, json=load("pull_query_page"))
    )
    start, end = window()
    page = client.pull_query(shortcode="600984", start=start, end=end, offset=0)
    assert sent(route) == {
        "ShortCode": "600984",
        "StartDate": eat(start),
        "EndDate": eat(end),
        "OffSetValue": "0",
    }
    assert page.transaction_ids == ("TKR4B7XQ2M", "TKR4B7XQ3N")


def test_pull_query_1001_is_an_empty_page_not_an_error(daraja, client):
    daraja.post("/pulltransactions/v1/query").mock(
        return_value=httpx.Response(200, json=load("pull_query_1001"))
    )
    page = client.pull_query(shortcode="600984", start=window()[0], end=window()[1])
    assert page.no_records and page.records == ()
    assert page.response_message == "No records found or Organization Name not available"


def test_pull_query_refuses_a_bad_window_before_calling(daraja, client):
    route = daraja.post("/pulltransactions/v1/query")
    start, end = window()
    with pytest.raises(InvalidRequest, match="48 hours"):
        client.pull_query(shortcode="600984", start=end - timedelta(hours=49), end=end)
    with pytest.raises(InvalidRequest, match="no time zone"):
        client.pull_query(shortcode="600984", start=start.replace(tzinfo=None), end=end)
    assert not route.called


@pytest.mark.parametrize("offset", [-1, "0", 1.0, True])
def test_pull_query_refuses_an_offset_that_is_not_a_whole_number(client, offset):
    start, end = window()
    with pytest.raises(InvalidRequest, match="offset"):
        client.pull_query(shortcode="600984", start=start, end=end, offset=offset)


def test_pull_query_gets_a_fresh_token_once_when_daraja_refuses_it(daraja, client):
    tokens = daraja.get("/oauth/v1/generate").mock(
        side_effect=[
            httpx.Response(200, json={"access_token": "stale", "expires_in": "3599"}),
            httpx.Response(200, json={"access_token": "fresh", "expires_in": "3599"}),
        ]
    )
    route = daraja.post("/pulltransactions/v1/query").mock(
        side_effect=[
            gateway_error(401, "401.002.01", "Error Occurred - Invalid Access Token - stale"),
            httpx.Response(200, json=load("pull_query_page")),
        ]
    )
    start, end = window()
    assert client.pull_query(shortcode="600984", start=start, end=end).records
    assert tokens.call_count == 2
    assert route.calls[1].request.headers["Authorization"] == "Bearer fresh"


def test_pull_query_other_response_code_is_an_error(daraja, client):
    daraja.post("/pulltransactions/v1/query").mock(
        return_value=httpx.Response(
            200, json={"ResponseRefID": "x", "ResponseCode": "1002", "ResponseMessage": "Bad"}
        )
    )
    start, end = window()
    with pytest.raises(DarajaError, match="Bad") as exc:
        client.pull_query(shortcode="600984", start=start, end=end)
    assert exc.value.code == "1002"


def test_pull_query_html_page_with_http_200_is_an_error(daraja, client):
    daraja.post("/pulltransactions/v1/query").mock(
        return_value=httpx.Response(200, text="<html>Service unavailable</html>")
    )
    start, end = window()
    with pytest.raises(DarajaError, match="Service unavailable"):
        client.pull_query(shortcode="600984", start=start, end=end)


# --- Pull: sweep ---------------------------------------------------------------------------


def pull_reply(*ids):
    items = [
        {
            "transactionId": tid,
            "trxDate": "2026-11-27T11:30:15Z",
            "msisdn": 722000000,
            "sender": "JOHN OTIENO",
            "transactiontype": "c2b-pay-bill-debit",
            "billreference": "NS00123",
            "amount": "100.00",
            "organizationname": "NENO SACCO",
        }
        for tid in ids
    ]
    return httpx.Response(
        200,
        json={
            "ResponseRefID": "r",
            "ResponseCode": "1000",
            "ResponseMessage": "Success",
            "Response": [items],
        },
    )


def test_pull_sweep_follows_row_offsets_until_daraja_has_no_more(daraja, client):
    route = daraja.post("/pulltransactions/v1/query").mock(
        side_effect=[
            pull_reply("TA", "TB", "TC"),  # offset 0
            pull_reply("TB", "TC", "TD"),  # offset 1: overlaps, so offsets are rows
            pull_reply("TE"),  # offset 4
            httpx.Response(200, json=load("pull_query_1001")),  # offset 5
        ]
    )
    start, end = window()
    result = client.pull_sweep(shortcode="600984", start=start, end=end)
    assert [r.transaction_id for r in result.records] == ["TA", "TB", "TC", "TD", "TE"]
    assert [sent(route, i)["OffSetValue"] for i in range(4)] == ["0", "1", "4", "5"]
    assert result.complete and result.offset_mode == "row"
    assert {sent(route, i)["StartDate"] for i in range(4)} == {eat(start)}


def test_pull_sweep_of_a_shortcode_with_nothing_says_so(daraja, client):
    route = daraja.post("/pulltransactions/v1/query").mock(
        return_value=httpx.Response(200, json=load("pull_query_1001"))
    )
    start, end = window()
    result = client.pull_sweep(shortcode="600984", start=start, end=end)
    assert result.nothing_found and route.call_count == 1
    assert "Organization Name not available" in result.message


def test_pull_sweep_stops_at_its_cap(daraja, client):
    counter = iter(range(1000))
    daraja.post("/pulltransactions/v1/query").mock(
        side_effect=lambda request: pull_reply(f"T{next(counter)}", f"T{next(counter)}")
    )
    start, end = window()
    result = client.pull_sweep(shortcode="600984", start=start, end=end, max_pages=3)
    assert len(result.pages) == 3 and not result.complete


def test_pull_sweep_logs_counts_not_phone_numbers(daraja, client, caplog):
    daraja.post("/pulltransactions/v1/query").mock(
        side_effect=[pull_reply("TA"), httpx.Response(200, json=load("pull_query_1001"))]
    )
    start, end = window()
    with caplog.at_level(logging.DEBUG, logger="daraja"):
        client.pull_sweep(shortcode="600984", start=start, end=end)
    assert "1 records" in caplog.text and "722000000" not in caplog.text


# --- Transaction Status --------------------------------------------------------------------


def status(client, **changes):
    arguments = {
        "shortcode": "600984",
        "receipt": "TKR4B7XQ2M",
        "initiator": "nenoapi",
        "security_credential": CREDENTIAL,
        "result_url": RESULT_URL,
        "queue_timeout_url": TIMEOUT_URL,
        "remarks": "Reconciliation",
        "occasion": "sweep 2026-11-27",
    }
    arguments.update(changes)
    return client.transaction_status(**arguments)


def test_transaction_status_sends_exactly_the_documented_request(daraja, client):
    route = daraja.post("/mpesa/transactionstatus/v1/query").mock(
        return_value=httpx.Response(200, json=load("status_ack"))
    )
    ack = status(client)
    assert route.calls.last.request.headers["Authorization"] == "Bearer tok"
    assert sent(route) == {
        "Initiator": "nenoapi",
        "SecurityCredential": CREDENTIAL,
        "CommandID": "TransactionStatusQuery",
        "TransactionID": "TKR4B7XQ2M",
        "PartyA": "600984",
        "IdentifierType": "4",
        "ResultURL": RESULT_URL,
        "QueueTimeOutURL": TIMEOUT_URL,
        "Remarks": "Reconciliation",
        "Occasion": "sweep 2026-11-27",
    }
    assert ack.conversation_id == "AG_20210709_1234409f86436c583e3f"
    assert ack.originator_conversation_id == "1236-7134259-1"
    assert ack.description == "Accept the service request successfully."


def test_transaction_status_leaves_out_a_blank_occasion(daraja, client):
    route = daraja.post("/mpesa/transactionstatus/v1/query").mock(
        return_value=httpx.Response(200, json=load("status_ack"))
    )
    status(client, occasion="")
    assert "Occasion" not in sent(route)


@pytest.mark.parametrize(
    "blank", ["receipt", "initiator", "security_credential", "result_url", "remarks"]
)
def test_transaction_status_refuses_blank_required_fields_before_calling(daraja, client, blank):
    route = daraja.post("/mpesa/transactionstatus/v1/query")
    with pytest.raises(InvalidRequest, match=blank):
        status(client, **{blank: " "})
    assert not route.called


def test_a_product_not_enabled_answers_404_even_with_a_fresh_token(daraja, client):
    route = daraja.post("/mpesa/transactionstatus/v1/query").mock(
        return_value=gateway_error(404, "404.001.03", "Invalid Access Token")
    )
    with pytest.raises(DarajaError, match="not enabled on the Daraja app") as exc:
        status(client)
    assert route.call_count == 2  # refreshed once, then gave up
    assert exc.value.code == "404.001.03" and exc.value.http_status == 404


def test_an_error_code_with_http_200_is_still_an_error(daraja, client):
    daraja.post("/mpesa/transactionstatus/v1/query").mock(
        return_value=gateway_error(200, "500.001.1001", "Unable to lock subscriber")
    )
    with pytest.raises(DarajaError, match="Unable to lock subscriber") as exc:
        status(client)
    assert exc.value.code == "500.001.1001"


def test_a_bad_request_names_the_field(daraja, client):
    daraja.post("/mpesa/transactionstatus/v1/query").mock(
        return_value=gateway_error(400, "400.002.02", "Bad Request - Invalid PartyA")
    )
    with pytest.raises(DarajaError, match="Invalid PartyA"):
        status(client)


def test_a_non_zero_response_code_is_an_error(daraja, client):
    daraja.post("/mpesa/transactionstatus/v1/query").mock(
        return_value=httpx.Response(
            200, json={"ResponseCode": "1", "ResponseDescription": "Rejected"}
        )
    )
    with pytest.raises(DarajaError, match="Rejected"):
        status(client)


def test_the_credential_never_reaches_the_logs(daraja, client, caplog):
    daraja.get("/oauth/v1/generate").mock(
        return_value=httpx.Response(200, json={"access_token": "tok-secret", "expires_in": "3599"})
    )
    daraja.post("/mpesa/transactionstatus/v1/query").mock(
        side_effect=[
            gateway_error(401, "401.002.01", "Invalid Access Token"),
            httpx.Response(200, json=load("status_ack")),
        ]
    )
    with caplog.at_level(logging.DEBUG):
        status(client)
    assert caplog.text  # it did log the refresh and the accepted query
    assert CREDENTIAL not in caplog.text and "tok-secret" not in caplog.text
