from datetime import UTC, datetime
from decimal import Decimal

import pytest

from c2b.payloads import PayloadError, extract_trans_id, parse_c2b
from factories import load_payload


def test_masked_v2_confirmation_is_parsed_into_typed_fields():
    p = parse_c2b(load_payload("confirmation_v2_masked"))
    assert p.trans_id == "TKR3XYZ9AB"
    assert p.amount == Decimal("1500.00")
    assert p.trans_time == datetime(2026, 11, 27, 11, 30, 15, tzinfo=UTC)  # 14:30:15 EAT
    assert p.business_short_code == "600984"
    assert p.bill_ref_number == "NS 00123"
    assert p.org_account_balance == Decimal("49197.00")
    assert p.msisdn == "2547 ***** 126"
    assert (p.first_name, p.middle_name, p.last_name) == ("JOHN", "", "")


def test_numeric_amount_and_shortcode_and_hashed_msisdn_are_accepted():
    p = parse_c2b(load_payload("confirmation_v1_hashed"))
    assert p.amount == Decimal("250.00")
    assert p.business_short_code == "6009841"
    assert len(p.msisdn) == 64
    assert p.org_account_balance is None


def test_text_is_kept_exactly_as_the_customer_typed_it():
    p = parse_c2b(
        load_payload("confirmation_v2_masked", BillRefNumber=" ns 00123 ", FirstName="JOHN ")
    )
    assert p.bill_ref_number == " ns 00123 "
    assert p.first_name == "JOHN "


def test_unknown_keys_are_kept_as_extra():
    p = parse_c2b(load_payload("confirmation_v1_hashed"))
    assert p.extra == {"SomethingNew": {"Tier": "Gold"}}


def test_fractional_number_amount_is_exact_decimal():
    import json

    data = json.loads(
        '{"TransID":"AB12CD34EF","TransAmount":10.1,"BusinessShortCode":"600984",'
        '"TransTime":"20261127101010"}',
        parse_float=Decimal,
    )
    assert parse_c2b(data).amount == Decimal("10.10")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"TransID": None}, "TransID is missing"),
        ({"TransID": "AB-12"}, "not an M-Pesa receipt"),
        ({"TransAmount": None}, "TransAmount is missing"),
        ({"TransAmount": "ten"}, "not a number"),
        ({"TransAmount": "0.00"}, "must be positive"),
        ({"TransAmount": "-5.00"}, "must be positive"),
        ({"TransAmount": "10.005"}, "more than two decimal places"),
        ({"TransAmount": "NaN"}, "not a number"),
        ({"TransAmount": True}, "must be a number"),
        ({"TransTime": None}, "TransTime"),
        ({"TransTime": "2026-11-27 14:30"}, "YYYYMMDDHHmmss"),
        ({"TransTime": "20261332143015"}, "not a real date"),
        ({"BusinessShortCode": "12"}, "5 to 7 digit"),
        ({"BusinessShortCode": None}, "5 to 7 digit"),
        ({"FirstName": {"x": 1}}, "FirstName must be text"),
        ({"BillRefNumber": "A" * 101}, "longer than 100"),
    ],
)
def test_unreadable_confirmation_fields_are_refused_with_a_reason(changes, reason):
    with pytest.raises(PayloadError) as exc:
        parse_c2b(load_payload("confirmation_v2_masked", **changes))
    assert reason in exc.value.reason


def test_validation_may_omit_trans_time():
    p = parse_c2b(load_payload("validation_v2", TransTime=None), require_time=False)
    assert p.trans_time is None


def test_trans_id_is_extracted_best_effort_from_any_body():
    assert extract_trans_id(b'{"TransID": "TKR3XYZ9AB"}') == "TKR3XYZ9AB"
    assert extract_trans_id(b"not json") == ""
    assert extract_trans_id(b'["a"]') == ""
    assert extract_trans_id(b'{"TransID": "<script>"}') == ""
