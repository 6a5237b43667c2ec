"""After an outage, staff send failed receipts again: resend_sms or the admin action."""

import io

import pytest
from django.core.management import CommandError, call_command

from members.models import MemberPhone
from sms.backends import SmsSendError
from sms.backends.memory import MemoryBackend
from sms.models import OutboundSms
from sms.services import sms_send_due

pytestmark = pytest.mark.django_db

Status = OutboundSms.Status


@pytest.fixture
def failed_sms(queued_sms, memory_backend):
    messages = queued_sms(2)
    memory_backend.failures.extend(SmsSendError("provider down", permanent=True) for _ in range(2))
    sms_send_due(backend=MemoryBackend(), worker="w")
    assert set(OutboundSms.objects.values_list("status", flat=True)) == {Status.FAILED}
    return messages


def test_resend_failed_queues_them_again_and_the_worker_sends_them(failed_sms, memory_backend):
    out = io.StringIO()
    call_command("resend_sms", "--failed", stdout=out)
    assert "2 SMS queued again" in out.getvalue()
    sms = OutboundSms.objects.first()
    assert (sms.status, sms.attempts) == (Status.QUEUED, 0)
    assert sms.reason == "Resent by staff; before: provider down"

    sms_send_due(backend=MemoryBackend(), worker="w")
    assert len(memory_backend.outbox) == 2


def test_resend_by_id_touches_only_that_message(failed_sms):
    call_command("resend_sms", "--id", str(failed_sms[0].pk), stdout=io.StringIO())
    statuses = dict(OutboundSms.objects.values_list("pk", "status"))
    assert statuses == {failed_sms[0].pk: Status.QUEUED, failed_sms[1].pk: Status.FAILED}


def test_sent_messages_are_never_resent(queued_sms):
    queued_sms()
    sms_send_due(backend=MemoryBackend(), worker="w")
    call_command("resend_sms", "--failed", "--undelivered", "--skipped", stdout=io.StringIO())
    assert OutboundSms.objects.get().status == Status.SENT


def test_resend_skipped_uses_a_phone_the_member_has_gained_since(
    mpesa, paybill, payload, make_member
):
    member = make_member("NS00123", phones=())
    mpesa.confirm(payload("confirmation_v2_masked"))
    assert OutboundSms.objects.get().status == Status.SKIPPED

    call_command("resend_sms", "--skipped", stdout=io.StringIO())
    assert OutboundSms.objects.get().status == Status.SKIPPED  # still no phone

    MemberPhone.objects.create(member=member, number="0712345126")
    call_command("resend_sms", "--skipped", stdout=io.StringIO())
    sms = OutboundSms.objects.get()
    assert (sms.status, sms.recipient) == (Status.QUEUED, "254712345126")


def test_resend_without_saying_which_is_refused():
    with pytest.raises(CommandError, match="--failed"):
        call_command("resend_sms")


def test_admin_action_resends_selected_messages(admin_client, failed_sms):
    response = admin_client.post(
        "/admin/sms/outboundsms/",
        {"action": "resend", "_selected_action": [failed_sms[0].pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "1 SMS queued again." in response.content.decode()
    assert OutboundSms.objects.get(pk=failed_sms[0].pk).status == Status.QUEUED


def test_admin_lists_sms_status_and_reason_with_masked_recipients(admin_client, failed_sms):
    page = admin_client.get("/admin/sms/outboundsms/").content.decode()
    assert "provider down" in page
    assert "2547*****678" in page
    assert "254712345678" not in page
    detail = admin_client.get(f"/admin/sms/outboundsms/{failed_sms[0].pk}/change/")
    assert detail.status_code == 200
    assert "254712345678" not in detail.content.decode()


def test_member_and_match_admin_pages_load(admin_client, mpesa, paybill, payload, make_member):
    member = make_member("NS00123")
    mpesa.confirm(payload("confirmation_v2_masked"))
    for url in (
        "/admin/members/member/",
        f"/admin/members/member/{member.pk}/change/",
        "/admin/members/membermatch/",
        "/admin/members/membermatch/?member__isempty=1",
    ):
        assert admin_client.get(url).status_code == 200, url


def test_staff_can_match_an_unmatched_payment_by_hand_in_the_admin(
    admin_client, mpesa, paybill, payload, make_member
):
    from members.models import MemberMatch

    mpesa.confirm(payload("confirmation_v2_masked", BillRefNumber="typo"))
    match = MemberMatch.objects.get()
    member = make_member("NS00123")
    response = admin_client.post(
        f"/admin/members/membermatch/{match.pk}/change/", {"member": member.pk}
    )
    assert response.status_code == 302
    match.refresh_from_db()
    assert (match.member, match.rule, match.note) == (member, "manual", "Set by admin.")
