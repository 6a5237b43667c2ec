"""The optional per-shortcode rule: the account must be an active member's number (C2B00012)."""

import json

import pytest

from c2b.models import CallbackReceipt, ValidationDecision
from members.models import Member

pytestmark = pytest.mark.django_db

ACCEPT = {"ResultCode": "0", "ResultDesc": "Accepted"}
REJECT_ACCOUNT = {"ResultCode": "C2B00012", "ResultDesc": "Rejected"}


def test_active_member_account_typed_loosely_is_accepted(
    mpesa, make_shortcode, payload, make_member
):
    make_shortcode("600984", require_active_member=True)
    make_member("NS00123")
    assert mpesa.validate(payload("validation_v2")).json() == ACCEPT


def test_account_that_is_no_member_is_rejected_c2b00012(mpesa, make_shortcode, payload):
    make_shortcode("600984", require_active_member=True)
    assert mpesa.validate(payload("validation_v2")).json() == REJECT_ACCOUNT
    assert ValidationDecision.objects.get().reason == (
        "Account 'NS 00123' is not an active member's number."
    )


@pytest.mark.parametrize("status", [Member.Status.DORMANT, Member.Status.SUSPENDED, "exited"])
def test_member_who_is_not_active_is_rejected_c2b00012(
    mpesa, make_shortcode, payload, make_member, status
):
    make_shortcode("600984", require_active_member=True)
    make_member("NS00123", status=status)
    assert mpesa.validate(payload("validation_v2")).json() == REJECT_ACCOUNT


def test_rule_is_off_unless_the_shortcode_asks_for_it(mpesa, make_shortcode, payload):
    make_shortcode("600984")
    assert mpesa.validate(payload("validation_v2")).json() == ACCEPT


def test_rule_never_applies_to_till_numbers_which_have_no_account(mpesa, make_shortcode, payload):
    make_shortcode("600984", kind="till", require_active_member=True)
    assert mpesa.validate(payload("validation_v2")).json() == ACCEPT


def test_confirmations_are_stored_even_for_non_members(mpesa, make_shortcode, payload):
    make_shortcode("600984", require_active_member=True)
    assert mpesa.confirm(payload("confirmation_v2_masked")).status_code == 200


def test_a_member_suspended_elsewhere_is_refused_from_the_next_payment(
    mpesa, make_shortcode, payload, make_member
):
    make_shortcode("600984", require_active_member=True)
    make_member("NS00123")
    assert mpesa.validate(payload("validation_v2", TransID="TKR0000001")).json() == ACCEPT

    # An import or another process: an UPDATE, no signal. Member status is never copied.
    Member.objects.filter(number="NS00123").update(status=Member.Status.SUSPENDED)

    response = mpesa.validate(payload("validation_v2", TransID="TKR0000002"))
    assert response.json() == REJECT_ACCOUNT


def test_an_account_that_normalises_to_nothing_is_no_member(mpesa, make_shortcode, payload):
    make_shortcode("600984", require_active_member=True)
    assert mpesa.validate(payload("validation_v2", BillRefNumber="   ")).json() == REJECT_ACCOUNT


def test_a_database_outage_while_a_rule_reads_keeps_the_raw_request_as_never_answered(
    mpesa, make_shortcode, payload
):
    from unittest import mock

    from django.db import OperationalError

    make_shortcode("600984", require_active_member=True)
    with mock.patch(
        "members.validation.member_is_active_for_account",
        side_effect=OperationalError("server closed the connection"),
    ):
        response = mpesa.validate(payload("validation_v2"))

    assert response.status_code == 503
    receipt = CallbackReceipt.objects.get()
    assert (receipt.kind, receipt.status) == ("validation", "received")
    assert bytes(receipt.body) == json.dumps(payload("validation_v2")).encode()
    assert not ValidationDecision.objects.exists()
