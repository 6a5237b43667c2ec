"""The Africa's Talking backend, through its SDK, with HTTP mocked at the transport (responses)."""

import json
from urllib.parse import parse_qs

import pytest
import requests
import responses
from django.core.exceptions import ImproperlyConfigured

from sms.backends import DeliveryState, SmsSendError, get_backend
from sms.backends.africastalking import AfricasTalkingBackend, ReportError, delivery_event
from sms.models import OutboundSms
from sms.services import sms_send_due

LIVE_URL = "https://api.africastalking.com/version1/messaging"
SANDBOX_URL = "https://api.sandbox.africastalking.com/version1/messaging"


def recipient(code=101, status="Success", **extra):
    return {
        "SMSMessageData": {
            "Message": "Sent to 1/1 Total Cost: KES 0.8000",
            "Recipients": [
                {
                    "statusCode": code,
                    "number": "+254712345678",
                    "status": status,
                    "cost": "KES 0.8000",
                    "messageId": "ATXid_4a5b6c",
                    **extra,
                }
            ],
        }
    }


@pytest.fixture
def at(settings):
    settings.SMS_BACKEND = "africastalking"
    settings.AFRICASTALKING_USERNAME = "neno-sacco"
    settings.AFRICASTALKING_API_KEY = "atsk_test_key"
    settings.AFRICASTALKING_SENDER_ID = "NENO_SACCO"
    with responses.RequestsMock() as mocked:
        yield mocked


def send(text="Dear John, received KES 10.00"):
    return get_backend().send(to="254712345678", text=text)


def test_send_posts_the_exact_form_with_the_api_key_header(at):
    at.post(LIVE_URL, json=recipient(), status=201)

    result = send()

    [call] = at.calls
    assert call.request.method == "POST"
    assert call.request.url == LIVE_URL
    assert call.request.headers["apiKey"] == "atsk_test_key"
    assert call.request.headers["Accept"] == "application/json"
    assert call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(call.request.body) == {
        "username": ["neno-sacco"],
        "to": ["+254712345678"],
        "message": ["Dear John, received KES 10.00"],
        "bulkSMSMode": ["1"],
        "from": ["NENO_SACCO"],
    }
    assert result.provider_message_id == "ATXid_4a5b6c"
    assert result.provider_status == "Success"
    assert result.cost == "KES 0.8000"


def test_sandbox_username_sends_to_the_sandbox_host_without_sender_id(at, settings):
    settings.AFRICASTALKING_USERNAME = "sandbox"
    settings.AFRICASTALKING_SENDER_ID = ""
    at.post(SANDBOX_URL, json=recipient(), status=201)
    send()
    body = parse_qs(at.calls[0].request.body)
    assert body["username"] == ["sandbox"]
    assert "from" not in body


def test_json_answer_with_a_charset_is_still_read(at):
    at.post(
        LIVE_URL,
        body=json.dumps(recipient()),
        status=201,
        content_type="application/json; charset=utf-8",
    )
    assert send().provider_message_id == "ATXid_4a5b6c"


@pytest.mark.parametrize(
    ("code", "status", "permanent"),
    [
        (401, "RiskHold", True),
        (402, "InvalidSenderId", True),
        (403, "InvalidPhoneNumber", True),
        (404, "UnsupportedNumberType", True),
        (405, "InsufficientBalance", False),
        (406, "UserInBlacklist", True),
        (407, "CouldNotRoute", True),
        (409, "DoNotDisturbRejection", True),
        (500, "InternalServerError", False),
        (501, "GatewayError", False),
        (502, "RejectedByGateway", False),
    ],
)
def test_recipient_status_codes_are_classified(at, code, status, permanent):
    at.post(LIVE_URL, json=recipient(code, status), status=201)
    with pytest.raises(SmsSendError) as caught:
        send()
    assert caught.value.permanent is permanent
    assert caught.value.ambiguous is False
    assert caught.value.reason == f"Africa's Talking status {code} {status}"


@pytest.mark.parametrize(
    ("http_status", "body", "permanent"),
    [
        (401, "The supplied authentication is invalid", True),
        (400, "Request is missing required form field 'to'", True),
        (500, "Internal Server Error", False),
        (503, "<html>Service Unavailable</html>", False),
    ],
)
def test_http_errors_are_classified_from_the_body(at, http_status, body, permanent):
    at.post(LIVE_URL, body=body, status=http_status, content_type="text/plain")
    with pytest.raises(SmsSendError) as caught:
        send()
    assert caught.value.permanent is permanent
    assert body in caught.value.reason


def test_answer_naming_no_recipient_is_permanent(at):
    at.post(LIVE_URL, json={"SMSMessageData": {"Message": "InvalidSenderId", "Recipients": []}})
    with pytest.raises(SmsSendError, match="sent to nobody: InvalidSenderId") as caught:
        send()
    assert caught.value.permanent


def test_unreadable_success_is_ambiguous(at):
    at.post(LIVE_URL, body="<html>ok</html>", status=200, content_type="text/html")
    with pytest.raises(SmsSendError) as caught:
        send()
    assert caught.value.ambiguous


@pytest.mark.parametrize(
    ("error", "permanent", "ambiguous"),
    [
        (requests.exceptions.ConnectionError("refused"), False, False),
        (requests.exceptions.ConnectTimeout("slow"), False, False),
        (requests.exceptions.ReadTimeout("no answer"), True, True),
    ],
)
def test_network_failures_are_temporary_unless_the_request_may_have_arrived(
    at, error, permanent, ambiguous
):
    at.post(LIVE_URL, body=error)
    with pytest.raises(SmsSendError) as caught:
        send()
    assert (caught.value.permanent, caught.value.ambiguous) == (permanent, ambiguous)


def test_the_sdk_refusing_a_number_is_permanent_and_makes_no_request(at):
    with pytest.raises(SmsSendError, match="Invalid phone number") as caught:
        get_backend().send(to="12", text="x")
    assert caught.value.permanent
    assert len(at.calls) == 0


def test_missing_credentials_name_the_variables_to_set(settings):
    settings.AFRICASTALKING_API_KEY = ""
    settings.AFRICASTALKING_USERNAME = "neno"
    with pytest.raises(ImproperlyConfigured, match="AFRICASTALKING_API_KEY"):
        AfricasTalkingBackend()


def test_unknown_backend_name_says_which_ones_exist(settings):
    settings.SMS_BACKEND = "carrier.pigeon"
    with pytest.raises(ImproperlyConfigured, match="console, memory, africastalking"):
        get_backend()


@pytest.mark.django_db
def test_dead_provider_changes_nothing_about_capture(at, mpesa, paybill, payload):
    at.post(LIVE_URL, body=requests.exceptions.ConnectionError("down"))

    response = mpesa.confirm(payload("confirmation_v2_masked", MSISDN="254712345678"))
    assert response.status_code == 200
    assert response.json() == {"ResultCode": 0, "ResultDesc": "Accepted"}

    sms_send_due(backend=get_backend(), worker="w")
    sms = OutboundSms.objects.get()
    assert sms.status == OutboundSms.Status.QUEUED
    assert sms.reason.startswith("Attempt 1 failed, retrying: Africa's Talking unreachable")
    assert sms.payment.trans_id == "TKR3XYZ9AB"


@pytest.mark.django_db
def test_worker_records_the_africastalking_message_id_for_delivery_reports(at, queued_sms):
    at.post(LIVE_URL, json=recipient(), status=201)
    [sms] = queued_sms()
    sms_send_due(backend=get_backend(), worker="w")
    sms.refresh_from_db()
    assert (sms.status, sms.provider_message_id, sms.backend) == (
        "sent",
        "ATXid_4a5b6c",
        "africastalking",
    )


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("Success", DeliveryState.DELIVERED),
        ("Failed", DeliveryState.UNDELIVERED),
        ("Rejected", DeliveryState.UNDELIVERED),
        ("Buffered", DeliveryState.PENDING),
        ("Sent", DeliveryState.PENDING),
    ],
)
def test_delivery_report_words_become_one_normalised_event(status, state):
    event = delivery_event(
        {
            "id": "ATXid_1",
            "status": status,
            "phoneNumber": "+254712345678",
            "networkCode": "63902",
            "failureReason": "AbsentSubscriber",
        }
    )
    assert event.state == state
    assert (event.provider_message_id, event.provider_status) == ("ATXid_1", status)
    assert (event.reason, event.network_code) == ("AbsentSubscriber", "63902")


@pytest.mark.parametrize(
    "form", [{"status": "Success"}, {"id": "ATXid_1"}, {"id": " ", "status": "x"}]
)
def test_a_form_without_message_id_or_status_is_no_delivery_report(form):
    with pytest.raises(ReportError, match="id and status are required"):
        delivery_event(form)
