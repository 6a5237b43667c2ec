"""Simulate and the validation/confirmation callbacks: shapes, versions and validation rules."""

from __future__ import annotations

import hashlib
import re
import socket
from datetime import datetime
from typing import Any

import pytest

from daraja_emulator.clock import EAT
from daraja_emulator.tests.conftest import SHORTCODE, Daraja, Receiver

CONFIRM, VALIDATE = "/c2b/confirmation", "/c2b/validation"
CALLBACK_KEYS = [
    "TransactionType", "TransID", "TransTime", "TransAmount", "BusinessShortCode",
    "BillRefNumber", "InvoiceNumber", "OrgAccountBalance", "ThirdPartyTransID", "MSISDN",
]  # fmt: skip


def test_simulate_acknowledges_with_the_coversation_key(daraja: Daraja, receiver: Receiver) -> None:
    daraja.register(receiver)
    reply = daraja.simulate()
    assert reply.status_code == 200
    assert reply.json()["ResponseCode"] == "0"
    assert reply.json()["ResponseDescription"] == "Accept the service request successfully."
    assert "OriginatorCoversationID" in reply.json()


def test_confirmation_carries_a_realistic_transaction(daraja: Daraja, receiver: Receiver) -> None:
    daraja.register(receiver)
    daraja.simulate(Amount=1020, BillRefNumber="m 1001 ")
    body = receiver.wait_for(CONFIRM)[0].json
    assert list(body)[: len(CALLBACK_KEYS)] == CALLBACK_KEYS
    assert re.fullmatch(r"[A-Z][A-Z0-9]{9}", body["TransID"])
    assert body["TransactionType"] == "Pay Bill"
    assert body["TransAmount"] == "1020.00"
    assert body["BusinessShortCode"] == SHORTCODE
    assert body["BillRefNumber"] == "m 1001 "  # verbatim, as the customer typed it
    assert body["InvoiceNumber"] == ""
    assert body["OrgAccountBalance"] == "1020.00"
    assert body["ThirdPartyTransID"] == ""
    sent = datetime.strptime(body["TransTime"], "%Y%m%d%H%M%S").replace(tzinfo=EAT)
    assert abs((datetime.now(EAT) - sent).total_seconds()) < 60


def test_confirmation_balance_runs_across_payments(daraja: Daraja, receiver: Receiver) -> None:
    daraja.configure(opening_balance="1000.00")
    daraja.register(receiver)
    daraja.pay(Amount=10)
    daraja.pay(Amount=5)
    balances = [r.json["OrgAccountBalance"] for r in receiver.wait_for(CONFIRM, 2)]
    assert balances == ["1010.00", "1015.00"]


def test_v2_callbacks_carry_the_masked_msisdn(daraja: Daraja, receiver: Receiver) -> None:
    daraja.register(receiver)
    daraja.simulate(Msisdn="254712345149")
    assert receiver.wait_for(CONFIRM)[0].json["MSISDN"] == "2547 ***** 149"


def test_v1_callbacks_carry_the_sha256_of_the_msisdn(daraja: Daraja, receiver: Receiver) -> None:
    daraja.configure(api_version="v1")
    daraja.register(receiver, version="v1")
    daraja.simulate(version="v1", Msisdn=254712345149)
    expected = hashlib.sha256(b"254712345149").hexdigest()
    assert receiver.wait_for(CONFIRM)[0].json["MSISDN"] == expected


def test_buy_goods_callbacks_say_buy_goods_with_an_empty_account(
    daraja: Daraja, receiver: Receiver
) -> None:
    daraja.register(receiver)
    daraja.simulate(CommandID="CustomerBuyGoodsOnline", BillRefNumber=None)
    body = receiver.wait_for(CONFIRM)[0].json
    assert (body["TransactionType"], body["BillRefNumber"]) == ("Buy Goods", "")


def test_first_only_names_leave_out_middle_and_last_name_keys(
    daraja: Daraja, receiver: Receiver
) -> None:
    daraja.configure(names="first_only")
    daraja.register(receiver)
    daraja.simulate()
    body = receiver.wait_for(CONFIRM)[0].json
    assert body["FirstName"] == "JOHN"
    assert "MiddleName" not in body and "LastName" not in body


def test_full_names_carry_all_three_keys(daraja: Daraja, receiver: Receiver) -> None:
    daraja.configure(names="full")
    daraja.register(receiver)
    daraja.simulate()
    body = receiver.wait_for(CONFIRM)[0].json
    assert (body["FirstName"], body["MiddleName"], body["LastName"]) == ("JOHN", "J.", "DOE")


def test_mixed_names_produce_both_shapes(daraja: Daraja, receiver: Receiver) -> None:
    daraja.register(receiver)
    for _ in range(12):
        daraja.pay()
    shapes = {tuple(sorted(k for k in r.json if k.endswith("Name"))) for r in receiver.at(CONFIRM)}
    assert shapes == {("FirstName",), ("FirstName", "LastName", "MiddleName")}


def test_receipts_are_unique_across_many_payments(daraja: Daraja, receiver: Receiver) -> None:
    daraja.register(receiver)
    for _ in range(40):
        daraja.simulate()
    daraja.emulator.wait_idle()
    ids = [r.json["TransID"] for r in receiver.wait_for(CONFIRM, 40)]
    assert len(set(ids)) == 40


def test_simulate_without_registered_urls_is_an_error(daraja: Daraja) -> None:
    reply = daraja.simulate()
    assert reply.status_code == 400
    assert set(reply.json()) == {"requestId", "errorCode", "errorMessage"}


def test_simulate_against_a_production_shortcode_has_no_apiproduct(daraja: Daraja) -> None:
    daraja.configure(mode="production")
    reply = daraja.simulate()
    assert (reply.status_code, reply.json()["errorCode"]) == (401, "401.003.01")


def test_simulate_on_the_other_version_has_no_apiproduct(
    daraja: Daraja, receiver: Receiver
) -> None:
    daraja.register(receiver)
    assert daraja.simulate(version="v1").json()["errorCode"] == "401.003.01"


@pytest.mark.parametrize(
    "field,value",
    [
        ("Amount", "10.50"),
        ("Amount", 0),
        ("Amount", 250001),
        ("Msisdn", "0712345678"),
        ("Msisdn", "+254712345678"),
        ("CommandID", "CustomerPayBill"),
        ("BillRefNumber", "A" * 21),
    ],
)
def test_simulate_rejects_invalid_fields(
    daraja: Daraja, receiver: Receiver, field: str, value: Any
) -> None:
    daraja.register(receiver)
    reply = daraja.simulate(**{field: value})
    assert reply.status_code == 400
    assert reply.json()["errorMessage"].startswith(f"Bad Request - Invalid {field}")


def test_validation_is_not_called_unless_enabled(daraja: Daraja, receiver: Receiver) -> None:
    daraja.register(receiver)
    daraja.pay()
    assert receiver.at(VALIDATE) == []
    assert len(receiver.at(CONFIRM)) == 1


def test_accepted_validation_is_followed_by_the_confirmation(
    daraja: Daraja, receiver: Receiver
) -> None:
    daraja.configure(external_validation=True)
    daraja.register(receiver)
    tx = daraja.pay()
    validation = receiver.wait_for(VALIDATE)[0].json
    confirmation = receiver.wait_for(CONFIRM)[0].json
    assert validation["OrgAccountBalance"] == ""
    assert confirmation["OrgAccountBalance"] == "10.00"
    assert validation["TransID"] == confirmation["TransID"] == tx["trans_id"]
    assert [d["kind"] for d in tx["deliveries"]] == ["validation", "confirmation"]
    assert tx["status"] == "completed"


def test_numeric_zero_result_code_also_accepts(daraja: Daraja, receiver: Receiver) -> None:
    daraja.configure(external_validation=True)
    daraja.register(receiver)
    receiver.reply(VALIDATE, body={"ResultCode": 0, "ResultDesc": "Accepted"})
    assert daraja.pay()["status"] == "completed"


def test_rejected_validation_records_a_rejection_and_moves_no_money(
    daraja: Daraja, receiver: Receiver
) -> None:
    daraja.configure(external_validation=True)
    daraja.register(receiver)
    receiver.reply(VALIDATE, body={"ResultCode": "C2B00012", "ResultDesc": "Rejected"})
    tx = daraja.pay()
    assert tx["status"] == "rejected"
    assert "C2B00012" in tx["status_reason"]
    assert tx["balance_after"] is None
    assert receiver.at(CONFIRM) == []
    ledger = daraja.control("GET", f"/ledger?shortcode={SHORTCODE}").json()
    assert ledger["balances"][SHORTCODE] == "0.00"


def test_third_party_trans_id_from_validation_is_echoed_in_the_confirmation(
    daraja: Daraja, receiver: Receiver
) -> None:
    daraja.configure(external_validation=True)
    daraja.register(receiver)
    receiver.reply(VALIDATE, body={"ResultCode": "0", "ThirdPartyTransID": "our-ref-42"})
    daraja.pay()
    assert receiver.wait_for(CONFIRM)[0].json["ThirdPartyTransID"] == "our-ref-42"


def test_validation_timeout_with_completed_response_type_proceeds(
    daraja: Daraja, receiver: Receiver
) -> None:
    daraja.configure(external_validation=True)
    daraja.register(receiver, response_type="Completed")
    receiver.reply(VALIDATE, delay=1.0)  # the emulator waits 0.5 s in tests
    tx = daraja.pay()
    assert tx["status"] == "completed"
    assert tx["deliveries"][0]["error"].startswith("timeout")
    assert len(receiver.wait_for(CONFIRM)) == 1


def test_validation_timeout_with_cancelled_response_type_cancels(
    daraja: Daraja, receiver: Receiver
) -> None:
    daraja.configure(external_validation=True)
    daraja.register(receiver, response_type="Cancelled")
    receiver.reply(VALIDATE, delay=1.0)
    tx = daraja.pay()
    assert tx["status"] == "cancelled"
    assert receiver.at(CONFIRM) == []


@pytest.mark.parametrize(
    "reply",
    [
        {"raw": b"<html>oops</html>"},
        {"status": 500, "body": {"ResultCode": "0"}},
        {"body": {"status": "ok"}},
    ],
    ids=["not-json", "http-500", "no-result-code"],
)
def test_unusable_validation_answers_fall_back_to_the_response_type(
    daraja: Daraja, receiver: Receiver, reply: dict[str, Any]
) -> None:
    daraja.configure(external_validation=True)
    daraja.register(receiver, response_type="Cancelled")
    receiver.reply(VALIDATE, **reply)
    assert daraja.pay()["status"] == "cancelled"


def test_unreachable_validation_url_falls_back_to_the_response_type(daraja: Daraja) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    daraja.configure(external_validation=True)
    daraja.post(
        "/mpesa/c2b/v2/registerurl",
        {
            "ShortCode": SHORTCODE,
            "ResponseType": "Completed",
            "ConfirmationURL": f"{dead}/c2b/confirmation",
            "ValidationURL": f"{dead}/c2b/validation",
        },
    )
    tx = daraja.pay()
    assert tx["status"] == "completed"
    assert tx["deliveries"][0]["error"]
    assert tx["deliveries"][1]["kind"] == "confirmation"


def test_failed_confirmation_is_recorded_and_not_retried(
    daraja: Daraja, receiver: Receiver
) -> None:
    daraja.register(receiver)
    receiver.reply(CONFIRM, status=500, body={"error": "boom"})
    tx = daraja.pay()
    assert tx["status"] == "completed"  # the money moved regardless
    assert [(d["status_code"], d["response_body"]) for d in tx["deliveries"]] == [
        (500, '{"error": "boom"}')
    ]
    assert len(receiver.at(CONFIRM)) == 1
