"""Transaction Status: the acknowledgement and the asynchronous result on ResultURL."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from daraja_emulator.tests.conftest import SHORTCODE, Daraja, Receiver

RESULT = "/status/result"


def query_body(receiver: Receiver, **overrides: Any) -> dict[str, Any]:
    return {
        "Initiator": "testapi",
        "SecurityCredential": base64.b64encode(b"opaque rsa bytes").decode(),
        "CommandID": "TransactionStatusQuery",
        "TransactionID": "UKR0000000",
        "PartyA": SHORTCODE,
        "IdentifierType": "4",
        "ResultURL": receiver.url(RESULT),
        "QueueTimeOutURL": receiver.url("/status/timeout"),
        "Remarks": "reconcile",
        "Occasion": "",
    } | overrides


def parameters(result: dict[str, Any]) -> dict[str, Any]:
    return {
        p["Key"]: p.get("Value", "<absent>") for p in result["ResultParameters"]["ResultParameter"]
    }


def test_query_is_acknowledged_then_the_result_arrives(daraja: Daraja, receiver: Receiver) -> None:
    tx = daraja.pay(Amount=10, payer={"first_name": "John", "last_name": "Doe"})
    reply = daraja.post(
        "/mpesa/transactionstatus/v1/query", query_body(receiver, TransactionID=tx["trans_id"])
    )
    assert reply.status_code == 200
    ack = reply.json()
    assert ack["ResponseCode"] == "0"
    assert ack["ResponseDescription"] == "Accept the service request successfully."
    assert ack["ConversationID"].startswith("AG_")
    result = receiver.wait_for(RESULT)[0].json["Result"]
    assert (result["ResultType"], result["ResultCode"]) == (0, 0)
    assert result["OriginatorConversationID"] == ack["OriginatorConversationID"]
    assert result["ConversationID"] == ack["ConversationID"]
    params = parameters(result)
    assert params["ReceiptNo"] == tx["trans_id"]
    assert params["Amount"] == 10.0 and isinstance(params["Amount"], float)
    assert params["TransactionStatus"] == "Completed"
    assert isinstance(params["InitiatedTime"], int) and len(str(params["InitiatedTime"])) == 14
    assert isinstance(params["FinalisedTime"], int)
    assert params["DebitPartyName"] == "2547******149 - JOHN DOE"
    assert params["CreditPartyName"].startswith(f"{SHORTCODE} - ")
    assert params["ReasonType"] == "Pay Bill Online"
    assert params["DebitAccountType"] == "<absent>"  # a key without a Value, as Daraja sends
    assert result["ReferenceData"] == {"ReferenceItem": {"Key": "Occasion"}}


def test_occasion_is_echoed_in_reference_data(daraja: Daraja, receiver: Receiver) -> None:
    tx = daraja.pay()
    daraja.post(
        "/mpesa/transactionstatus/v1/query",
        query_body(receiver, TransactionID=tx["trans_id"], Occasion="nightly"),
    )
    item = receiver.wait_for(RESULT)[0].json["Result"]["ReferenceData"]["ReferenceItem"]
    assert item == {"Key": "Occasion", "Value": "nightly"}


def test_unknown_initiator_gets_result_code_2001(daraja: Daraja, receiver: Receiver) -> None:
    tx = daraja.pay()
    daraja.post(
        "/mpesa/transactionstatus/v1/query",
        query_body(receiver, TransactionID=tx["trans_id"], Initiator="someone"),
    )
    result = receiver.wait_for(RESULT)[0].json["Result"]
    assert result["ResultCode"] == 2001
    assert result["ResultDesc"] == "The initiator information is invalid."
    assert "ResultParameters" not in result


def test_configured_initiator_name_is_the_one_accepted(daraja: Daraja, receiver: Receiver) -> None:
    daraja.configure(initiator="nenoapi")
    tx = daraja.pay()
    daraja.post(
        "/mpesa/transactionstatus/v1/query",
        query_body(receiver, TransactionID=tx["trans_id"], Initiator="nenoapi"),
    )
    assert receiver.wait_for(RESULT)[0].json["Result"]["ResultCode"] == 0


def test_unknown_receipt_gets_a_non_zero_string_result_code(
    daraja: Daraja, receiver: Receiver
) -> None:
    daraja.post("/mpesa/transactionstatus/v1/query", query_body(receiver))
    result = receiver.wait_for(RESULT)[0].json["Result"]
    assert isinstance(result["ResultCode"], str) and result["ResultCode"] != "0"
    assert result["ReferenceData"]["ReferenceItem"]["Key"] == "QueueTimeoutURL"


def test_rejected_payment_is_not_found_by_status(daraja: Daraja, receiver: Receiver) -> None:
    daraja.configure(external_validation=True)
    daraja.register(receiver)
    receiver.reply("/c2b/validation", body={"ResultCode": "C2B00012"})
    tx = daraja.pay()
    daraja.post(
        "/mpesa/transactionstatus/v1/query", query_body(receiver, TransactionID=tx["trans_id"])
    )
    assert receiver.wait_for(RESULT)[0].json["Result"]["ResultCode"] != 0


@pytest.mark.parametrize(
    "field,value",
    [
        ("SecurityCredential", "not base64 at all!"),
        ("SecurityCredential", ""),
        ("CommandID", "TransactionStatus"),
        ("IdentifierType", 4),
        ("ResultURL", "not-a-url"),
        ("Remarks", ""),
    ],
)
def test_malformed_queries_are_refused(
    daraja: Daraja, receiver: Receiver, field: str, value: Any
) -> None:
    reply = daraja.post("/mpesa/transactionstatus/v1/query", query_body(receiver, **{field: value}))
    assert reply.status_code == 400
    assert reply.json()["errorMessage"].startswith(f"Bad Request - Invalid {field}")


def test_local_result_urls_need_allow_localhost(make_emulator: Any, receiver: Receiver) -> None:
    daraja = Daraja(make_emulator(allow_localhost=False))
    reply = daraja.post("/mpesa/transactionstatus/v1/query", query_body(receiver))
    assert reply.status_code == 400
    assert reply.json()["errorMessage"].startswith("Bad Request - Invalid ResultURL")
