"""The attention page: what could not be processed, conflicts, failed SMS, unmatched payments;
and the actions taken from it."""

import pytest

from c2b.models import CallbackReceipt, Payment, Shortcode
from factories import load_payload
from sms.models import OutboundSms

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_confirmation(mpesa, db) -> CallbackReceipt:
    """A confirmation for shortcode 600984 before anyone added that shortcode."""
    mpesa.confirm(load_payload("confirmation_v2_masked"))
    return CallbackReceipt.objects.get(status="failed")


def test_it_lists_failed_callbacks_with_their_reason_and_a_reprocess_button(
    staff_client, failed_confirmation
):
    response = staff_client.get("/attention/")
    body = response.content.decode()
    assert response.context["items"].failed_count == 1
    assert "Unknown shortcode 600984" in body
    assert f"/attention/receipts/{failed_confirmation.pk}/reprocess/" in body


def test_reprocessing_after_the_fix_stores_the_payment(staff_client, failed_confirmation):
    Shortcode.objects.create(number="600984")
    response = staff_client.post(
        f"/attention/receipts/{failed_confirmation.pk}/reprocess/", follow=True
    )
    assert response.redirect_chain[-1][0] == "/attention/"
    assert "reprocessed: processed" in response.content.decode()
    assert Payment.objects.filter(trans_id="TKR3XYZ9AB").exists()
    assert response.context["items"].failed_count == 0


def test_reprocessing_that_still_fails_says_why(staff_client, failed_confirmation):
    response = staff_client.post(
        f"/attention/receipts/{failed_confirmation.pk}/reprocess/", follow=True
    )
    body = response.content.decode()
    assert "Still failing: Unknown shortcode 600984" in body
    failed_confirmation.refresh_from_db()
    assert failed_confirmation.attempts == 2


def test_reprocess_returns_to_the_page_it_came_from_but_only_a_local_one(
    staff_client, failed_confirmation
):
    url = f"/attention/receipts/{failed_confirmation.pk}/reprocess/"
    response = staff_client.post(url, {"next": "/transactions/TKR3XYZ9AB/"})
    assert response["Location"] == "/transactions/TKR3XYZ9AB/"
    for hostile in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        assert staff_client.post(url, {"next": hostile})["Location"] == "/attention/"


def test_a_validation_request_is_never_reprocessed(staff_client, mpesa, paybill):
    mpesa.validate(b"{not json")
    receipt = CallbackReceipt.objects.get(kind="validation")
    response = staff_client.post(f"/attention/receipts/{receipt.pk}/reprocess/", follow=True)
    assert "M-Pesa already had our answer" in response.content.decode()
    receipt.refresh_from_db()
    assert receipt.attempts == 1


def test_a_processed_callback_is_not_reprocessed(staff_client, mpesa, paybill):
    mpesa.confirm(load_payload("confirmation_v2_masked"))
    receipt = CallbackReceipt.objects.get()
    response = staff_client.post(f"/attention/receipts/{receipt.pk}/reprocess/", follow=True)
    assert "only failed or unprocessed callbacks are reprocessed" in response.content.decode()


def test_reprocessing_an_unknown_callback_is_404(staff_client, db):
    assert staff_client.post("/attention/receipts/999999/reprocess/").status_code == 404
    assert not CallbackReceipt.objects.exists()
    assert not Payment.objects.exists()


def test_it_lists_conflicting_redeliveries_with_what_differs(staff_client, mpesa, paybill):
    mpesa.confirm(load_payload("confirmation_v2_masked"))
    mpesa.confirm(load_payload("confirmation_v2_masked", TransAmount="15000.00"))
    response = staff_client.get("/attention/")
    assert response.context["items"].conflict_count == 1
    assert "TransAmount (stored 1500.00, received 15000.00)" in response.content.decode()


@pytest.fixture
def failed_sms(mpesa, paybill) -> OutboundSms:
    mpesa.confirm(load_payload("confirmation_v2_masked", MSISDN="254712345678"))
    sms = OutboundSms.objects.get()
    sms.status, sms.reason = OutboundSms.Status.FAILED, "Provider unreachable after 8 attempts"
    sms.save()
    return sms


def test_it_lists_failed_sms_with_a_resend_button(staff_client, failed_sms):
    response = staff_client.get("/attention/")
    body = response.content.decode()
    assert response.context["items"].sms_failed_count == 1
    assert "Provider unreachable after 8 attempts" in body
    assert f"/attention/sms/{failed_sms.pk}/resend/" in body
    assert "254712345678" not in body  # the phone is masked


def test_resend_queues_the_sms_again(staff_client, failed_sms):
    response = staff_client.post(f"/attention/sms/{failed_sms.pk}/resend/", follow=True)
    assert "queued again" in response.content.decode()
    failed_sms.refresh_from_db()
    assert failed_sms.status == OutboundSms.Status.QUEUED


def test_resend_refuses_a_message_that_did_not_fail(staff_client, failed_sms):
    failed_sms.status = OutboundSms.Status.DELIVERED
    failed_sms.save()
    response = staff_client.post(f"/attention/sms/{failed_sms.pk}/resend/", follow=True)
    assert "only failed, undelivered or skipped messages" in response.content.decode()
    failed_sms.refresh_from_db()
    assert failed_sms.status == OutboundSms.Status.DELIVERED


def test_resend_of_an_unknown_sms_says_so(staff_client, db):
    response = staff_client.post("/attention/sms/999999/resend/", follow=True)
    assert "There is no SMS #999999" in response.content.decode()


def test_it_lists_payments_no_member_matched(staff_client, mpesa, paybill):
    mpesa.confirm(load_payload("confirmation_v2_masked"))
    response = staff_client.get("/attention/")
    assert response.context["items"].unmatched_count == 1
    assert [p.trans_id for p in response.context["items"].unmatched] == ["TKR3XYZ9AB"]


def test_an_empty_attention_page_says_all_is_well(staff_client, db):
    body = staff_client.get("/attention/").content.decode()
    assert "No failed SMS." in body
    assert "Every payment is matched." in body


def test_the_list_filters_matched_unmatched_and_needs_attention(staff_client, mpesa, paybill):
    from members.models import Member

    Member.objects.create(number="NS00123", name="Jane Wanjiku")
    mpesa.confirm(load_payload("confirmation_v2_masked"))  # matched by account
    mpesa.confirm(load_payload("confirmation_v2_masked", TransID="TKUNMATCH1", BillRefNumber="?"))

    def ids(**params):
        response = staff_client.get("/transactions/", params)
        return [p.trans_id for p in response.context["page"].rows]

    assert ids(member="matched") == ["TKR3XYZ9AB"]
    assert ids(member="unmatched") == ["TKUNMATCH1"]
    assert ids(attention="1") == ["TKUNMATCH1"]
    assert ids(q="Jane Wanjiku") == ["TKR3XYZ9AB"]  # member name
    assert ids(q="ns00123") == ["TKR3XYZ9AB"]  # member number, normalised


def test_only_the_newest_unmatched_payments_are_listed_with_a_link_to_all(
    staff_client, make_payment
):
    for _ in range(25):
        make_payment()
    response = staff_client.get("/attention/")
    assert response.context["items"].unmatched_count == 25
    assert len(response.context["items"].unmatched) == 20
    assert "/transactions/?member=unmatched" in response.content.decode()


def test_needs_attention_on_the_list_includes_conflicts_and_failed_sms(
    staff_client, mpesa, paybill
):
    from members.models import Member

    Member.objects.create(number="NS00123", name="Jane Wanjiku")
    mpesa.confirm(load_payload("confirmation_v2_masked", TransID="TKFINE0001"))
    mpesa.confirm(load_payload("confirmation_v2_masked", TransID="TKCONFLIC1"))
    mpesa.confirm(load_payload("confirmation_v2_masked", TransID="TKCONFLIC1", TransAmount="9.00"))
    mpesa.confirm(load_payload("confirmation_v2_masked", TransID="TKSMSFAIL1"))
    OutboundSms.objects.filter(payment__trans_id="TKSMSFAIL1").update(status="failed")
    response = staff_client.get("/transactions/", {"attention": "1"})
    assert sorted(p.trans_id for p in response.context["page"].rows) == [
        "TKCONFLIC1",
        "TKSMSFAIL1",
    ]


def test_a_validation_never_answered_is_listed_for_staff(staff_client, mpesa, paybill):
    from datetime import timedelta

    from django.utils import timezone

    from c2b.services.callbacks import callback_receipt_store

    receipt = callback_receipt_store(
        kind="validation", body=b'{"TransID": "TKR3XYZ9AB"}', headers={}, source_ip=None
    )
    CallbackReceipt.objects.filter(pk=receipt.pk).update(
        received_at=timezone.now() - timedelta(minutes=5)
    )
    body = staff_client.get("/attention/").content.decode()
    assert f"#{receipt.pk} validation" in body
    assert "Never answered" in body


def test_a_lower_case_receipt_number_finds_its_payment(staff_client, mpesa, paybill):
    mpesa.confirm(load_payload("confirmation_v2_masked", TransID="clow0000001"))
    response = staff_client.get("/transactions/clow0000001/")
    assert response.status_code == 200
    assert "CLOW0000001" in response.content.decode()
