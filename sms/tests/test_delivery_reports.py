"""Africa's Talking delivery reports: token in the path, stored as received, applied to the SMS."""

import pytest

from sms.backends.memory import MemoryBackend
from sms.models import DeliveryReport, OutboundSms
from sms.services import sms_send_due

pytestmark = pytest.mark.django_db

URL = "/api/v1/sms/report-token/delivery-report"
Status = OutboundSms.Status


@pytest.fixture(autouse=True)
def token(settings):
    settings.SMS_DELIVERY_REPORT_TOKENS = ["report-token", "old-token"]


@pytest.fixture
def sent_sms(queued_sms):
    [sms] = queued_sms()
    sms_send_due(backend=MemoryBackend(), worker="w")
    sms.refresh_from_db()
    return sms


def report(client, sms_id, status, url=URL, **extra):
    return client.post(
        url,
        {"id": sms_id, "status": status, "phoneNumber": "+254712345678", "networkCode": "63902"}
        | extra,
    )


def test_success_report_marks_the_sms_delivered(client, sent_sms):
    response = report(client, sent_sms.provider_message_id, "Success")
    assert response.status_code == 200
    sent_sms.refresh_from_db()
    assert sent_sms.status == Status.DELIVERED
    assert sent_sms.delivered_at is not None
    stored = DeliveryReport.objects.get()
    assert stored.sms == sent_sms
    assert stored.network_code == "63902"
    assert stored.phone_masked == "2547*****678"
    assert stored.body["phoneNumber"] == "2547*****678"


@pytest.mark.parametrize("status", ["Failed", "Rejected"])
def test_failed_report_marks_the_sms_undelivered_with_the_reason(client, sent_sms, status):
    report(client, sent_sms.provider_message_id, status, failureReason="AbsentSubscriber")
    sent_sms.refresh_from_db()
    assert sent_sms.status == Status.UNDELIVERED
    assert sent_sms.reason == f"Not delivered: {status} AbsentSubscriber"


def test_interim_report_only_updates_the_provider_status(client, sent_sms):
    report(client, sent_sms.provider_message_id, "Buffered")
    sent_sms.refresh_from_db()
    assert (sent_sms.status, sent_sms.provider_status) == (Status.SENT, "Buffered")


def test_report_for_an_unknown_message_is_kept(client, db):
    assert report(client, "ATXid_unknown", "Success").status_code == 200
    assert DeliveryReport.objects.get().sms is None


def test_rotated_token_is_accepted(client, sent_sms):
    url = "/api/v1/sms/old-token/delivery-report/"
    assert report(client, sent_sms.provider_message_id, "Success", url=url).status_code == 200


def test_wrong_token_answers_404_and_stores_nothing(client, sent_sms):
    url = "/api/v1/sms/guess/delivery-report"
    assert report(client, sent_sms.provider_message_id, "Success", url=url).status_code == 404
    assert DeliveryReport.objects.count() == 0


def test_no_token_configured_means_no_endpoint(client, settings, sent_sms):
    settings.SMS_DELIVERY_REPORT_TOKENS = []
    assert report(client, sent_sms.provider_message_id, "Success").status_code == 404
    assert DeliveryReport.objects.count() == 0
    sent_sms.refresh_from_db()
    assert sent_sms.status == Status.SENT


def test_report_without_id_or_status_is_refused(client, db):
    assert client.post(URL, {"status": "Success"}).status_code == 400
    assert client.post(URL, {"id": "ATXid_1"}).status_code == 400
    assert DeliveryReport.objects.count() == 0


def test_get_is_not_allowed(client, db):
    assert client.get(URL).status_code == 405
