"""Transaction Status: the acknowledgement and the asynchronous result on ResultURL."""

from __future__ import annotations

import base64
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from daraja_emulator.tests.conftest import SHORTCODE, Daraja, Receiver

RESULT = "/status/result"
TIMEOUT = "/status/timeout"


def query_body(
    receiver: Receiver, daraja: Daraja | None = None, **overrides: Any
) -> dict[str, Any]:
    """A query as the app sends it; with ``daraja`` the credential is really encrypted."""
    credential = (
        daraja.security_credential()
        if daraja is not None
        else base64.b64encode(b"opaque rsa bytes").decode()
    )
    return {
        "Initiator": "testapi",
        "SecurityCredential": credential,
        "CommandID": "TransactionStatusQuery",
        "TransactionID": "UKR0000000",
        "PartyA": SHORTCODE,
        "IdentifierType": "4",
        "ResultURL": receiver.url(RESULT),
        "QueueTimeOutURL": receiver.url(TIMEOUT),
        "Remarks": "reconcile",
        "Occasion": "",
    } | overrides


def parameters(result: dict[str, Any]) -> dict[str, Any]:
    return {
        p["Key"]: p.get("Value", "<absent>") for p in result["ResultParameters"]["ResultParameter"]
    }


def reference_items(result: dict[str, Any]) -> list[dict[str, Any]]:
    item = result["ReferenceData"]["ReferenceItem"]
    return item if isinstance(item, list) else [item]


def status_of(
    daraja: Daraja, receiver: Receiver, count: int = 1, **overrides: Any
) -> list[dict[str, Any]]:
    """Send ``count`` queries and return their results (in arrival order)."""
    before = len(receiver.at(RESULT))
    for _ in range(count):
        reply = daraja.post(
            "/mpesa/transactionstatus/v1/query", query_body(receiver, daraja, **overrides)
        )
        assert reply.status_code == 200, reply.text
    return [r.json["Result"] for r in receiver.wait_for(RESULT, before + count)[before:]]


def test_query_is_acknowledged_then_the_result_arrives(daraja: Daraja, receiver: Receiver) -> None:
    daraja.configure(status_value_types="numbers")
    tx = daraja.pay(Amount=10, payer={"first_name": "John", "last_name": "Doe"})
    reply = daraja.post(
        "/mpesa/transactionstatus/v1/query",
        query_body(receiver, daraja, TransactionID=tx["trans_id"]),
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
    assert reference_items(result) == [{"Key": "Occasion"}]


def test_the_results_transaction_id_is_a_placeholder_and_the_receipt_is_receipt_no(
    daraja: Daraja, receiver: Receiver
) -> None:
    tx = daraja.pay()
    [result] = status_of(daraja, receiver, TransactionID=tx["trans_id"])
    assert re.fullmatch(r"[A-Z][A-Z][1-9A-V]0000000", result["TransactionID"])
    assert result["TransactionID"] != tx["trans_id"] == parameters(result)["ReceiptNo"]


def test_result_parameters_come_in_a_different_order_each_time(
    daraja: Daraja, receiver: Receiver
) -> None:
    tx = daraja.pay()
    results = status_of(daraja, receiver, 6, TransactionID=tx["trans_id"])
    orders = {tuple(p["Key"] for p in r["ResultParameters"]["ResultParameter"]) for r in results}
    assert len(orders) > 1
    assert {frozenset(order) for order in orders} == {frozenset(parameters(results[0]))}


def test_values_are_sometimes_strings_and_sometimes_numbers_by_default(
    daraja: Daraja, receiver: Receiver
) -> None:
    tx = daraja.pay(Amount=250)
    results = status_of(daraja, receiver, 12, TransactionID=tx["trans_id"])
    amounts = [parameters(r)["Amount"] for r in results]
    assert {type(a) for a in amounts} == {str, float}
    assert {Decimal(str(a)) for a in amounts} == {Decimal("250")}
    assert {type(r["ResultCode"]) for r in results} == {str, int}
    assert {str(r["ResultCode"]) for r in results} == {"0"}
    assert {type(r["ReferenceData"]["ReferenceItem"]) for r in results} == {dict, list}


def test_strings_setting_writes_values_as_the_documentation_does(
    daraja: Daraja, receiver: Receiver
) -> None:
    daraja.configure(status_value_types="strings")
    tx = daraja.pay(Amount=10, trans_time="20260127101010")
    [result] = status_of(daraja, receiver, TransactionID=tx["trans_id"], Occasion="nightly")
    params = parameters(result)
    assert (result["ResultCode"], params["Amount"]) == ("0", "10.00")
    assert params["InitiatedTime"] == "20260127101010"
    assert reference_items(result) == [{"Key": "Occasion", "Value": "nightly"}]


def test_occasion_is_echoed_in_reference_data(daraja: Daraja, receiver: Receiver) -> None:
    tx = daraja.pay()
    [result] = status_of(daraja, receiver, TransactionID=tx["trans_id"], Occasion="nightly")
    assert reference_items(result) == [{"Key": "Occasion", "Value": "nightly"}]


def test_unknown_initiator_gets_result_code_2001(daraja: Daraja, receiver: Receiver) -> None:
    daraja.configure(status_value_types="numbers")
    tx = daraja.pay()
    [result] = status_of(daraja, receiver, TransactionID=tx["trans_id"], Initiator="someone")
    assert result["ResultCode"] == 2001
    assert result["ResultDesc"] == "The initiator information is invalid."
    assert "ResultParameters" not in result


def test_configured_initiator_name_is_the_one_accepted(daraja: Daraja, receiver: Receiver) -> None:
    daraja.configure(initiator="nenoapi")
    tx = daraja.pay()
    [result] = status_of(daraja, receiver, TransactionID=tx["trans_id"], Initiator="nenoapi")
    assert str(result["ResultCode"]) == "0"


def test_a_credential_of_another_password_gets_2001(daraja: Daraja, receiver: Receiver) -> None:
    tx = daraja.pay()
    wrong = daraja.security_credential("Safaricom123!")
    [result] = status_of(daraja, receiver, TransactionID=tx["trans_id"], SecurityCredential=wrong)
    assert str(result["ResultCode"]) == "2001" and "ResultParameters" not in result


def test_a_credential_made_with_another_certificate_gets_2001(
    daraja: Daraja, receiver: Receiver
) -> None:
    tx = daraja.pay()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    foreign = base64.b64encode(
        key.public_key().encrypt(b"Safaricom999!*!", padding.PKCS1v15())
    ).decode()
    [result] = status_of(daraja, receiver, TransactionID=tx["trans_id"], SecurityCredential=foreign)
    assert str(result["ResultCode"]) == "2001"


def test_oaep_padding_is_not_what_daraja_decrypts(daraja: Daraja, receiver: Receiver) -> None:
    tx = daraja.pay()
    certificate = x509.load_pem_x509_certificate(daraja.control("GET", "/certificate.pem").content)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    credential = base64.b64encode(
        certificate.public_key().encrypt(b"Safaricom999!*!", oaep)
    ).decode()
    [result] = status_of(
        daraja, receiver, TransactionID=tx["trans_id"], SecurityCredential=credential
    )
    assert str(result["ResultCode"]) == "2001"


def test_any_base64_passes_when_the_shortcode_is_not_strict(
    daraja: Daraja, receiver: Receiver
) -> None:
    daraja.configure(strict_security_credential=False)
    tx = daraja.pay()
    body = query_body(receiver, TransactionID=tx["trans_id"])  # "opaque rsa bytes"
    assert daraja.post("/mpesa/transactionstatus/v1/query", body).status_code == 200
    assert str(receiver.wait_for(RESULT)[0].json["Result"]["ResultCode"]) == "0"


def test_strict_shortcodes_refuse_base64_that_is_no_credential(
    daraja: Daraja, receiver: Receiver
) -> None:
    tx = daraja.pay()
    body = query_body(receiver, TransactionID=tx["trans_id"])
    daraja.post("/mpesa/transactionstatus/v1/query", body)
    assert str(receiver.wait_for(RESULT)[0].json["Result"]["ResultCode"]) == "2001"


def test_each_shortcode_has_its_own_initiator_password(daraja: Daraja, receiver: Receiver) -> None:
    daraja.configure(initiator_password="Neno#2026")
    tx = daraja.pay()
    [default] = status_of(daraja, receiver, TransactionID=tx["trans_id"])
    [own] = status_of(
        daraja,
        receiver,
        TransactionID=tx["trans_id"],
        SecurityCredential=daraja.security_credential("Neno#2026"),
    )
    assert (str(default["ResultCode"]), str(own["ResultCode"])) == ("2001", "0")


def test_the_certificate_is_a_pem_x509_certificate_of_a_2048_bit_rsa_key(
    daraja: Daraja,
) -> None:
    reply = daraja.control("GET", "/certificate.pem")
    assert reply.status_code == 200
    assert reply.content.startswith(b"-----BEGIN CERTIFICATE-----")
    certificate = x509.load_pem_x509_certificate(reply.content)
    assert certificate.public_key().key_size == 2048
    assert daraja.control("GET", "/certificate.pem").content == reply.content


def test_a_key_dir_keeps_the_same_certificate_across_restarts(
    make_emulator: Any, tmp_path: Path
) -> None:
    first = Daraja(make_emulator(key_dir=str(tmp_path / "keys")))
    pem = first.control("GET", "/certificate.pem").content
    key_file = tmp_path / "keys" / "daraja-emulator-key.pem"
    assert key_file.stat().st_mode & 0o777 == 0o600
    second = Daraja(make_emulator(key_dir=str(tmp_path / "keys")))
    assert second.control("GET", "/certificate.pem").content == pem


def test_queue_timeout_setting_posts_a_timeout_to_queue_timeout_url_instead(
    daraja: Daraja, receiver: Receiver
) -> None:
    daraja.configure(status_queue_timeout=True, status_value_types="numbers")
    tx = daraja.pay()
    reply = daraja.post(
        "/mpesa/transactionstatus/v1/query",
        query_body(receiver, daraja, TransactionID=tx["trans_id"]),
    )
    result = receiver.wait_for(TIMEOUT)[0].json["Result"]
    assert result["ConversationID"] == reply.json()["ConversationID"]
    assert (result["ResultType"], result["ResultCode"]) == (1, 1)
    assert "ResultParameters" not in result
    assert receiver.at(RESULT) == []
    assert daraja.emulator.wait_idle()
    deliveries = daraja.control("GET", "/deliveries").json()["deliveries"]
    assert [d["kind"] for d in deliveries] == ["transaction_status_timeout"]


def test_unknown_receipt_gets_a_non_zero_string_result_code(
    daraja: Daraja, receiver: Receiver
) -> None:
    [result] = status_of(daraja, receiver)
    assert result["ResultCode"] == "R000002"
    assert "ResultParameters" not in result
    assert reference_items(result)[0]["Key"] == "QueueTimeoutURL"


def test_a_reversed_payment_is_still_found_completed(daraja: Daraja, receiver: Receiver) -> None:
    tx = daraja.pay()
    daraja.control("POST", f"/ledger/{tx['trans_id']}/reverse")
    [result] = status_of(daraja, receiver, TransactionID=tx["trans_id"])
    assert parameters(result)["TransactionStatus"] == "Completed"


def test_a_failed_attempt_is_not_found_by_status(daraja: Daraja, receiver: Receiver) -> None:
    attempt = daraja.control(
        "POST",
        "/ledger",
        {
            "ShortCode": SHORTCODE,
            "CommandID": "CustomerPayBillOnline",
            "Amount": 10,
            "Msisdn": "254708374149",
            "BillRefNumber": "M1001",
            "transaction_status": "Declined",
        },
    ).json()
    [result] = status_of(daraja, receiver, TransactionID=attempt["trans_id"])
    assert result["ResultCode"] == "R000002"


def test_rejected_payment_is_not_found_by_status(daraja: Daraja, receiver: Receiver) -> None:
    daraja.configure(external_validation=True)
    daraja.register(receiver)
    receiver.reply("/c2b/validation", body={"ResultCode": "C2B00012"})
    tx = daraja.pay()
    [result] = status_of(daraja, receiver, TransactionID=tx["trans_id"])
    assert result["ResultCode"] == "R000002"


def test_an_expired_token_is_http_404_on_status_too(daraja: Daraja, receiver: Receiver) -> None:
    daraja.token()
    daraja.emulator.state.clock.advance(3601)
    reply = daraja.post("/mpesa/transactionstatus/v1/query", query_body(receiver))
    assert (reply.status_code, reply.json()["errorCode"]) == (404, "404.001.03")


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
