"""Pull Transactions: registration, the 48-hour window, nesting and paging."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from daraja_emulator.clock import EAT
from daraja_emulator.tests.conftest import SHORTCODE, Daraja, Receiver

FMT = "%Y-%m-%d %H:%M:%S"


def register(daraja: Daraja, receiver: Receiver, **overrides: Any) -> dict[str, Any]:
    body = {
        "ShortCode": SHORTCODE,
        "RequestType": "Pull",
        "NominatedNumber": "254722000000",
        "CallBackURL": receiver.url("/pull/callback"),
    } | overrides
    reply = daraja.post("/pulltransactions/v1/register", body)
    assert reply.status_code == 200, reply.text
    return reply.json()


def query(daraja: Daraja, hours_back: float = 47, offset: str = "0") -> dict[str, Any]:
    now = datetime.now(EAT)
    reply = daraja.post(
        "/pulltransactions/v1/query",
        {
            "ShortCode": SHORTCODE,
            "StartDate": (now - timedelta(hours=hours_back)).strftime(FMT),
            "EndDate": (now + timedelta(minutes=1)).strftime(FMT),
            "OffSetValue": offset,
        },
    )
    assert reply.status_code == 200, reply.text  # 1001 comes with 200 too
    return reply.json()


def insert(daraja: Daraja, at: datetime, amount: int = 10) -> dict[str, Any]:
    body = {
        "ShortCode": SHORTCODE,
        "CommandID": "CustomerPayBillOnline",
        "Amount": amount,
        "Msisdn": "254722000149",
        "BillRefNumber": "M1001",
        "trans_time": at.strftime("%Y%m%d%H%M%S"),
    }
    return daraja.control("POST", "/ledger", body).json()


def test_first_registration_is_1000_and_the_second_1001(daraja: Daraja, receiver: Receiver) -> None:
    first = register(daraja, receiver)
    assert (first["ResponseStatus"], first["ShortCode"]) == ("1000", SHORTCODE)
    assert first["ResponseRefID"] and first["ResponseDescription"]
    assert register(daraja, receiver)["ResponseStatus"] == "1001"


def test_nominated_number_must_be_in_2547_format(daraja: Daraja, receiver: Receiver) -> None:
    reply = daraja.post(
        "/pulltransactions/v1/register",
        {
            "ShortCode": SHORTCODE,
            "RequestType": "Pull",
            "NominatedNumber": "0722000000",
            "CallBackURL": receiver.url("/pull"),
        },
    )
    assert reply.status_code == 400


NOTHING = "No records found or Organization Name not available"


def test_unregistered_shortcode_answers_1001_with_http_200(daraja: Daraja) -> None:
    daraja.pay()
    body = query(daraja)
    assert (body["ResponseCode"], body["ResponseMessage"]) == ("1001", NOTHING)


def test_no_records_answers_1001_with_an_empty_nested_list(
    daraja: Daraja, receiver: Receiver
) -> None:
    register(daraja, receiver)
    body = query(daraja)
    assert (body["ResponseCode"], body["Response"]) == ("1001", [[]])


def test_not_registered_and_no_records_read_exactly_alike(
    daraja: Daraja, receiver: Receiver
) -> None:
    daraja.pay()
    unregistered = query(daraja)
    register(daraja, receiver)
    empty = query(daraja, offset="5")
    assert {k: v for k, v in unregistered.items() if k != "ResponseRefID"} == {
        k: v for k, v in empty.items() if k != "ResponseRefID"
    }


def test_only_completed_customer_payments_are_pulled(daraja: Daraja, receiver: Receiver) -> None:
    register(daraja, receiver)
    daraja.configure(payment_charge="5")
    now = datetime.now(EAT)
    kept = insert(daraja, now - timedelta(hours=2), amount=300)
    reversed_ = insert(daraja, now - timedelta(hours=1), amount=200)
    daraja.control("POST", f"/ledger/{reversed_['trans_id']}/reverse")
    daraja.control("POST", "/transfer", {"shortcode": SHORTCODE, "amount": 100})
    failed = {
        "ShortCode": SHORTCODE,
        "CommandID": "CustomerPayBillOnline",
        "Amount": 50,
        "Msisdn": "254722000149",
        "BillRefNumber": "M1001",
        "transaction_status": "Failed",
    }
    daraja.control("POST", "/ledger", failed)
    [items] = query(daraja)["Response"]
    # A reversed payment is still listed: it was paid; the reversal is another transaction.
    assert [(i["transactionId"], i["amount"]) for i in items] == [
        (kept["trans_id"], "300.00"),
        (reversed_["trans_id"], "200.00"),
    ]
    assert {i["transactiontype"] for i in items} == {"c2b-pay-bill-debit"}


def test_records_are_nested_in_a_list_of_lists(daraja: Daraja, receiver: Receiver) -> None:
    register(daraja, receiver)
    daraja.configure(organization_name="NENO SACCO")
    tx = daraja.pay(Amount=168, Msisdn="254722000149")
    body = query(daraja)
    assert body["ResponseCode"] == "1000"
    [[item]] = body["Response"]
    assert item == {
        "transactionId": tx["trans_id"],
        "trxDate": item["trxDate"],
        "msisdn": 722000149,
        "sender": tx["payer"]["first_name"] + " " + tx["payer"]["last_name"],
        "transactiontype": "c2b-pay-bill-debit",
        "billreference": "M1001",
        "amount": "168.00",
        "organizationname": "NENO SACCO",
    }
    assert item["trxDate"].endswith("Z")


def test_only_the_last_48_hours_are_available(daraja: Daraja, receiver: Receiver) -> None:
    register(daraja, receiver)
    now = datetime.now(EAT)
    recent = insert(daraja, now - timedelta(hours=47))
    insert(daraja, now - timedelta(hours=49))
    [[item]] = query(daraja, hours_back=72)["Response"]
    assert item["transactionId"] == recent["trans_id"]


def test_advancing_the_clock_ages_records_out_of_the_window(
    daraja: Daraja, receiver: Receiver
) -> None:
    register(daraja, receiver)
    daraja.pay()
    daraja.control("POST", "/clock", {"advance_seconds": 49 * 3600})
    daraja._token = None  # the old token expired with the jump too
    now = datetime.now(EAT) + timedelta(hours=49)
    reply = daraja.post(
        "/pulltransactions/v1/query",
        {
            "ShortCode": SHORTCODE,
            "StartDate": (now - timedelta(hours=72)).strftime(FMT),
            "EndDate": now.strftime(FMT),
            "OffSetValue": "0",
        },
    )
    assert reply.json()["ResponseCode"] == "1001"


def test_offset_pages_through_records(make_emulator: Any, receiver: Receiver) -> None:
    daraja = Daraja(make_emulator(pull_page_size=2))
    register(daraja, receiver)
    now = datetime.now(EAT)
    ids = [
        insert(daraja, now - timedelta(minutes=10 - i), amount=i + 1)["trans_id"] for i in range(5)
    ]
    pages = [query(daraja, offset=str(offset)) for offset in (0, 2, 4, 6)]
    seen = [item["transactionId"] for page in pages[:3] for item in page["Response"][0]]
    assert seen == ids
    assert pages[3]["ResponseCode"] == "1001"


@pytest.mark.parametrize("start", ["2026/01/01 00:00:00", "yesterday", ""])
def test_dates_must_be_in_the_documented_format(
    daraja: Daraja, receiver: Receiver, start: str
) -> None:
    register(daraja, receiver)
    reply = daraja.post(
        "/pulltransactions/v1/query",
        {
            "ShortCode": SHORTCODE,
            "StartDate": start,
            "EndDate": "2026-01-02 00:00:00",
            "OffSetValue": "0",
        },
    )
    assert reply.status_code == 400
    assert reply.json()["errorMessage"].startswith("Bad Request - Invalid StartDate")


def test_pull_callback_url_follows_the_register_url_rules(daraja: Daraja) -> None:
    reply = daraja.post(
        "/pulltransactions/v1/register",
        {
            "ShortCode": SHORTCODE,
            "RequestType": "Pull",
            "NominatedNumber": "254722000000",
            "CallBackURL": "https://pay.example.com/mpesa/pull",
        },
    )
    assert (reply.status_code, reply.json()["errorCode"]) == (400, "400.003.02")
