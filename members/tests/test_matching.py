"""Every captured payment is linked to its member, or visibly unmatched, with the rule recorded."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from c2b.models import Payment
from capture.services import capture_pending
from core.phones import phone_hash
from members.models import MemberMatch
from members.selectors import (
    member_match_for_payment,
    payments_matched_q,
    payments_of_members_q,
)

pytestmark = pytest.mark.django_db

Rule = MemberMatch.Rule


def captured(mpesa, body) -> MemberMatch:
    assert mpesa.confirm(body).status_code == 200
    return MemberMatch.objects.get(payment__trans_id=body["TransID"])


def test_account_number_typed_with_spaces_and_lower_case_matches_the_member(
    mpesa, paybill, payload, make_member
):
    member = make_member("NS00123", phones=())
    match = captured(mpesa, payload("confirmation_v2_masked", BillRefNumber=" ns 00123 "))
    assert match.member == member
    assert match.rule == Rule.ACCOUNT
    assert match.account_normalised == "NS00123"


def test_masked_msisdn_whose_visible_digits_fit_the_members_phone_confirms_the_match(
    mpesa, paybill, payload, make_member
):
    make_member("NS00123", phones=("254799000001", "254712345126"))
    match = captured(mpesa, payload("confirmation_v2_masked"))
    assert match.rule == Rule.ACCOUNT_AND_MASKED


def test_masked_msisdn_that_fits_none_of_the_members_phones_still_matches_by_account_with_a_note(
    mpesa, paybill, payload, make_member
):
    make_member("NS00123", phones=("254799000001",))
    match = captured(mpesa, payload("confirmation_v2_masked"))
    assert match.rule == Rule.ACCOUNT
    assert "fits none" in match.note


def test_hashed_msisdn_of_the_members_phone_confirms_the_account_match(
    mpesa, paybill, payload, make_member
):
    make_member("NS00456", name="Mary Wanjiku", phones=("254711222333",))
    body = payload("confirmation_v1_hashed", MSISDN=phone_hash("254711222333"))
    assert captured(mpesa, body).rule == Rule.ACCOUNT_AND_PHONE


def test_full_msisdn_of_the_members_phone_confirms_the_account_match(
    mpesa, make_shortcode, payload, make_member
):
    make_shortcode("600638", kind="till")
    make_member("REF1", phones=("254708374149",))
    body = payload("confirmation_buy_goods_full_msisdn", BillRefNumber="ref1")
    assert captured(mpesa, body).rule == Rule.ACCOUNT_AND_PHONE


def test_hashed_msisdn_alone_matches_the_one_member_with_that_phone(
    mpesa, paybill, payload, make_member
):
    member = make_member("NS00999", phones=("254711222333",))
    body = payload("confirmation_v1_hashed", MSISDN=phone_hash("254711222333"))
    match = captured(mpesa, body)
    assert match.member == member
    assert match.rule == Rule.PHONE
    assert "'ns00456' is no member number" in match.note


def test_phone_shared_by_several_members_matches_nobody(mpesa, paybill, payload, make_member):
    make_member("NS1", phones=("254711222333",))
    make_member("NS2", phones=("254711222333",))
    body = payload("confirmation_v1_hashed", MSISDN=phone_hash("254711222333"))
    match = captured(mpesa, body)
    assert match.member is None
    assert match.rule == Rule.NONE
    assert "several members" in match.note


def test_account_wins_over_a_phone_belonging_to_another_member(
    mpesa, paybill, payload, make_member
):
    account_holder = make_member("NS00456", phones=())
    make_member("NS00999", phones=("254711222333",))
    body = payload("confirmation_v1_hashed", MSISDN=phone_hash("254711222333"))
    match = captured(mpesa, body)
    assert match.member == account_holder
    assert match.rule == Rule.ACCOUNT


def test_unknown_account_and_masked_msisdn_is_unmatched_and_says_why(
    mpesa, paybill, payload, make_member
):
    make_member("NS00001")
    match = captured(mpesa, payload("confirmation_v2_masked"))
    assert match.member is None
    assert match.rule == Rule.NONE
    assert match.note == "No member number 'NS00123'."


def test_empty_account_is_unmatched(mpesa, make_shortcode, payload):
    make_shortcode("600638", kind="till")
    match = captured(mpesa, payload("confirmation_buy_goods_full_msisdn"))
    assert match.member is None
    assert match.note == "No account number given."


def test_duplicate_delivery_writes_no_second_match(mpesa, paybill, payload, make_member):
    make_member("NS00123")
    mpesa.confirm(payload("confirmation_v2_masked"))
    mpesa.confirm(payload("confirmation_v2_masked"))
    assert MemberMatch.objects.count() == 1


def test_matching_and_sms_cost_the_same_queries_for_one_payment_as_for_twenty(
    mpesa, paybill, payload, make_member
):
    def queries_to_capture(count: int, start: int) -> int:
        for i in range(start, start + count):
            make_member(f"NS{i:05d}", phones=(f"2547112{i:05d}",))
            body = payload(
                "confirmation_v1_hashed",
                TransID=f"TKR{i:07d}",
                BillRefNumber=f"NS{i:05d}" if i % 2 else "nobody",
                MSISDN=phone_hash(f"2547112{i:05d}"),
            )
            assert mpesa.post("confirmation", body).status_code == 200
        with CaptureQueriesContext(connection) as queries:
            assert capture_pending(limit=100).processed == count
        return len(queries)

    assert queries_to_capture(2, start=1) == queries_to_capture(20, start=100)


def test_staff_can_filter_payments_by_matched_and_search_by_member_number_or_name(
    mpesa, paybill, payload, make_member
):
    make_member("NS00123", name="John Otieno")
    mpesa.confirm(payload("confirmation_v2_masked"))
    mpesa.confirm(payload("confirmation_v2_masked", TransID="TKR3XYZ9AC", BillRefNumber="X1"))

    matched = Payment.objects.filter(payments_matched_q())
    unmatched = Payment.objects.filter(~payments_matched_q())
    assert [p.trans_id for p in matched] == ["TKR3XYZ9AB"]
    assert [p.trans_id for p in unmatched] == ["TKR3XYZ9AC"]
    by_number = Payment.objects.filter(payments_of_members_q("ns 00123"))
    by_name = Payment.objects.filter(payments_of_members_q("otieno"))
    assert [p.trans_id for p in by_number] == ["TKR3XYZ9AB"]
    assert [p.trans_id for p in by_name] == ["TKR3XYZ9AB"]
    assert payments_of_members_q("nobody") is None
    payment = Payment.objects.get(trans_id="TKR3XYZ9AB")
    assert member_match_for_payment(payment_id=payment.pk).is_matched


def test_payments_captured_before_matching_existed_count_as_unmatched(make_payment):
    payment = make_payment()
    assert Payment.objects.filter(~payments_matched_q()).count() == 1
    assert member_match_for_payment(payment_id=payment.pk) is None
