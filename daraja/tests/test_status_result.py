"""Transaction Status results as M-Pesa posts them to our ResultURL and QueueTimeOutURL."""

import json
from datetime import datetime
from decimal import Decimal

import pytest

from daraja.errors import ResultParseError
from daraja.status import (
    parse_queue_timeout,
    parse_transaction_status_result,
    split_party,
)
from daraja.tests.payloads import load
from daraja.values import EAT


def parameters(body):
    return body["Result"]["ResultParameters"]["ResultParameter"]


def test_the_documented_success_result_is_read_by_key():
    result = parse_transaction_status_result(load("status_result_docs"))

    assert result.success and result.completed and not result.timed_out
    assert result.result_code == "0"
    assert result.result_type == "0"
    assert result.description == "The service request is processed successfully."
    assert result.receipt == "NLJ41HAY6Q"
    assert result.result_transaction_id == "MBN0000000"
    assert result.amount == Decimal("10.00")
    assert result.transaction_status == "Completed"
    assert result.initiated_at == datetime(2019, 12, 19, 10, 21, 15, tzinfo=EAT)
    assert result.finalised_at == datetime(2019, 12, 19, 10, 21, 15, tzinfo=EAT)
    assert result.debit_party == "254708374149 - John Doe"
    assert (result.debit_party_msisdn, result.debit_party_name) == ("254708374149", "John Doe")
    assert result.credit_party == "600984 - Neno SACCO"
    assert result.reason_type == "Pay Bill Online"
    assert result.debit_account_type == "Utility Account"
    assert result.conversation_id == "AG_20191219_00004e48cf7e3533f581"
    assert result.originator_conversation_id == "10571-7910404-1"
    assert result.parameters["TransactionReason"] is None
    assert result.parameters["ReceiptNo"] == "NLJ41HAY6Q"
    assert result.reference_data == {"Occasion": "reconciliation"}


def test_production_numbers_in_another_order_give_the_same_kind_of_result():
    result = parse_transaction_status_result(load("status_result_production"))

    assert result.receipt == "TKR4B7XQ2M"
    assert result.result_transaction_id == "SB60000000"  # a placeholder, not the payment
    assert result.amount == Decimal("1020.00")
    assert result.initiated_at == datetime(2026, 11, 27, 14, 30, 15, tzinfo=EAT)
    assert result.finalised_at == datetime(2026, 11, 27, 14, 30, 16, tzinfo=EAT)
    assert result.finalised_at.utcoffset().total_seconds() == 3 * 3600
    assert (result.debit_party_msisdn, result.debit_party_name) == ("2547******126", "JOHN OTIENO")
    assert result.reason_type == "Pay Utility with OD Online"
    assert result.debit_account_type == "MMF Account For Customer"
    assert result.reference_data["Occasion"] is None  # ReferenceItem as a list, a key alone


def test_a_failure_carries_no_parameters():
    result = parse_transaction_status_result(load("status_result_invalid_initiator"))

    assert not result.success and not result.completed
    assert result.result_code == "2001"
    assert result.description == "The initiator information is invalid."
    assert result.receipt == "" and result.amount is None and result.initiated_at is None
    assert result.parameters == {}
    assert result.conversation_id == "AG_20191219_00006c6fddb15123addf"


@pytest.mark.parametrize("code", [0, "0", " 0 ", Decimal("0"), 0.0])
def test_result_code_may_be_a_number_or_a_string(code):
    body = load("status_result_docs")
    body["Result"]["ResultCode"] = code
    assert parse_transaction_status_result(body).result_code == "0"


def test_a_string_failure_code_is_kept_as_sent():
    body = load("status_result_invalid_initiator")
    body["Result"]["ResultCode"] = "R000002"
    result = parse_transaction_status_result(body)
    assert result.result_code == "R000002" and not result.success


def test_a_single_result_parameter_object_is_read_like_a_list_of_one():
    body = load("status_result_docs")
    body["Result"]["ResultParameters"]["ResultParameter"] = {"Key": "ReceiptNo", "Value": "X1"}
    result = parse_transaction_status_result(body)
    assert result.receipt == "X1" and result.parameters == {"ReceiptNo": "X1"}


@pytest.mark.parametrize("amount", ["10.00", "10", 10, 10.0, Decimal("10.00")])
def test_amount_may_be_a_string_or_a_number(amount):
    body = load("status_result_docs")
    parameters(body)[10]["Value"] = amount
    assert parse_transaction_status_result(body).amount == Decimal("10.00")


def test_a_success_whose_times_and_amount_come_without_value_has_none_for_them():
    body = load("status_result_docs")
    for item in parameters(body):
        if item["Key"] in ("Amount", "InitiatedTime", "FinalisedTime"):
            del item["Value"]
    result = parse_transaction_status_result(body)
    assert (result.amount, result.initiated_at, result.finalised_at) == (None, None, None)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("Amount", "ten shillings"),
        ("Amount", "10.005"),
        ("Amount", True),
        ("Amount", "NaN"),
        ("InitiatedTime", "2019-12-19 10:21:15"),
        ("FinalisedTime", 20191332102115),
        ("FinalisedTime", 2019121910211.5),
    ],
)
def test_an_unreadable_amount_or_time_is_a_parse_error_naming_the_key(key, value):
    body = load("status_result_docs")
    next(item for item in parameters(body) if item["Key"] == key)["Value"] = value
    with pytest.raises(ResultParseError, match=key):
        parse_transaction_status_result(body)


def test_the_same_key_twice_with_different_values_is_refused():
    body = load("status_result_docs")
    parameters(body).append({"Key": "ReceiptNo", "Value": "OTHER00000"})
    with pytest.raises(ResultParseError, match="ReceiptNo"):
        parse_transaction_status_result(body)


def test_the_same_key_twice_with_the_same_value_is_fine():
    body = load("status_result_docs")
    parameters(body).append({"Key": "ReceiptNo", "Value": "NLJ41HAY6Q"})
    assert parse_transaction_status_result(body).receipt == "NLJ41HAY6Q"


def test_entries_without_a_key_are_skipped_but_kept_in_raw():
    body = load("status_result_docs")
    parameters(body).extend([{"Value": "orphan"}, "junk", {"Key": 7, "Value": 1}])
    result = parse_transaction_status_result(body)
    assert result.receipt == "NLJ41HAY6Q"
    assert "orphan" not in result.parameters.values()
    assert {"Value": "orphan"} in parameters(result.raw)


def test_conversation_ids_fall_back_to_the_parameters():
    body = load("status_result_docs")
    del body["Result"]["ConversationID"]
    del body["Result"]["OriginatorConversationID"]
    result = parse_transaction_status_result(body)
    assert result.conversation_id == "AG_20191219_00004e48cf7e3533f581"
    assert result.originator_conversation_id == "10571-7910404-1"


def test_json_text_and_bytes_are_accepted_and_amounts_never_pass_through_floats():
    text = json.dumps(load("status_result_docs")).replace('"10.00"', "0.10")
    assert parse_transaction_status_result(text).amount == Decimal("0.10")
    assert parse_transaction_status_result(text.encode()).amount == Decimal("0.10")


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "",
        "not json",
        b"\xff\xfe",
        {},
        {"Body": {"stkCallback": {"ResultCode": 0}}},
        {"Result": "0"},
        {"Result": {"ResultDesc": "no code"}},
        {"Result": {"ResultCode": None}},
        {"Result": {"ResultCode": ""}},
        {"Result": {"ResultCode": True}},
        {"Result": {"ResultCode": {"nested": 1}}},
        {"Result": {"ResultCode": 0, "ResultDesc": ["a", "list"]}},
        {"TransactionType": "Pay Bill", "TransID": "TKR4B7XQ2M"},
    ],
)
def test_bodies_that_are_not_results_are_a_parse_error(body):
    with pytest.raises(ResultParseError):
        parse_transaction_status_result(body)


def test_a_parse_error_does_not_echo_the_body():
    body = load("status_result_docs")
    parameters(body)[0]["Value"] = {"msisdn": "254712345126"}
    with pytest.raises(ResultParseError) as exc:
        parse_transaction_status_result(body)
    assert "254712345126" not in str(exc.value)
    assert "DebitPartyName" in str(exc.value)


def test_the_result_repr_leaves_out_phone_numbers():
    result = parse_transaction_status_result(load("status_result_docs"))
    assert "254708374149" not in repr(result)
    assert "NLJ41HAY6Q" in repr(result)


def test_a_queue_timeout_is_never_a_success():
    body = {
        "Result": {
            "ResultType": 1,
            "ResultCode": 0,  # whatever it says, the query expired unprocessed
            "ResultDesc": "The request has timed out in the queue.",
            "OriginatorConversationID": "1236-7134259-1",
            "ConversationID": "AG_20210709_1234409f86436c583e3f",
            "TransactionID": "SB60000000",
        }
    }
    result = parse_queue_timeout(body)
    assert result.timed_out and not result.success and not result.completed
    assert result.conversation_id == "AG_20210709_1234409f86436c583e3f"


def test_a_queue_timeout_that_is_not_a_result_is_a_parse_error():
    with pytest.raises(ResultParseError):
        parse_queue_timeout({"errorCode": "500.001.1001"})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("254722000000 - John Doe", ("254722000000", "John Doe")),
        ("2547******287 - JOHN DOE", ("2547******287", "JOHN DOE")),
        ("0722926212 - CYNTHIA OMONDI", ("0722926212", "CYNTHIA OMONDI")),
        ("600984 - NENO - SACCO", ("600984", "NENO - SACCO")),
        ("254722000000", ("254722000000", "")),
        ("JOHN DOE", ("", "JOHN DOE")),
        ("", ("", "")),
    ],
)
def test_split_party(value, expected):
    assert split_party(value) == expected
