"""Fault injection on confirmations, per request and per shortcode."""

from __future__ import annotations

import time

from daraja_emulator.tests.conftest import Daraja, Receiver

CONFIRM, VALIDATE = "/c2b/confirmation", "/c2b/validation"


def test_duplicate_delivers_the_same_confirmation_twice(daraja: Daraja, receiver: Receiver) -> None:
    daraja.register(receiver)
    tx = daraja.pay(faults={"duplicate": True})
    first, second = receiver.wait_for(CONFIRM, 2)
    assert first.json == second.json
    assert first.json["TransID"] == tx["trans_id"]
    assert [d["kind"] for d in tx["deliveries"]] == ["confirmation", "confirmation"]


def test_parallel_duplicate_delivers_both_copies_concurrently(
    daraja: Daraja, receiver: Receiver
) -> None:
    daraja.register(receiver)
    receiver.reply(CONFIRM, delay=0.3)
    started = time.monotonic()
    daraja.pay(faults={"duplicate": "parallel"})
    assert len(receiver.at(CONFIRM)) == 2
    assert time.monotonic() - started < 0.55  # two 0.3 s replies overlapped


def test_delay_holds_the_confirmation_back(daraja: Daraja, receiver: Receiver) -> None:
    daraja.register(receiver)
    reply = daraja.control(
        "POST",
        "/simulate",
        {
            "ShortCode": "600000",
            "CommandID": "CustomerPayBillOnline",
            "Amount": 10,
            "Msisdn": "254708374149",
            "BillRefNumber": "M1001",
            "faults": {"delay": 0.4},
        },
    )
    trans_id = reply.json()["TransID"]
    time.sleep(0.2)
    assert receiver.at(CONFIRM) == []
    entry = daraja.control("GET", f"/ledger/{trans_id}").json()
    assert entry["status"] == "completed"  # the money moved before the callback
    assert receiver.wait_for(CONFIRM)[0].json["TransID"] == trans_id


def test_dropped_confirmation_is_never_sent_but_the_payment_is_in_the_ledger(
    daraja: Daraja, receiver: Receiver
) -> None:
    daraja.register(receiver)
    tx = daraja.pay(faults={"drop": True})
    daraja.emulator.wait_idle()
    assert receiver.at(CONFIRM) == []
    assert tx["status"] == "completed"
    assert tx["deliveries"] == []
    assert "dropped" in " ".join(tx["notes"])


def test_extra_key_adds_an_unexpected_key_to_the_callbacks(
    daraja: Daraja, receiver: Receiver
) -> None:
    daraja.configure(external_validation=True)
    daraja.register(receiver)
    daraja.pay(faults={"extra_key": "LoyaltyPoints"})
    assert "LoyaltyPoints" in receiver.wait_for(VALIDATE)[0].json
    assert "LoyaltyPoints" in receiver.wait_for(CONFIRM)[0].json
    daraja.pay(faults={"extra_key": True})
    assert "UnexpectedKey" in receiver.wait_for(CONFIRM, 2)[1].json


def test_shortcode_fault_defaults_apply_and_requests_can_override_them(
    daraja: Daraja, receiver: Receiver
) -> None:
    daraja.configure(faults={"duplicate": True})
    daraja.register(receiver)
    daraja.pay()
    assert len(receiver.wait_for(CONFIRM, 2)) == 2
    daraja.pay(faults={"duplicate": False})
    assert len(receiver.at(CONFIRM)) == 3


def test_unknown_fault_names_are_refused(daraja: Daraja) -> None:
    reply = daraja.control(
        "POST",
        "/simulate",
        {
            "ShortCode": "600000",
            "CommandID": "CustomerPayBillOnline",
            "Amount": 10,
            "Msisdn": "254708374149",
            "BillRefNumber": "M1001",
            "faults": {"duplicates": True},
        },
    )
    assert reply.status_code == 400
    assert "duplicates" in reply.json()["errorMessage"]


def test_a_dropped_confirmation_can_be_sent_late(daraja: Daraja, receiver: Receiver) -> None:
    """``POST /emulator/ledger/<id>/confirm``: the callback M-Pesa sends after all."""
    daraja.register(receiver)
    tx = daraja.pay(faults={"drop": True})
    assert receiver.at(CONFIRM) == []

    late = daraja.control("POST", f"/ledger/{tx['trans_id']}/confirm", {})

    assert late.status_code == 200, late.text
    assert [d["kind"] for d in late.json()["deliveries"]] == ["confirmation"]
    [sent] = receiver.wait_for(CONFIRM)
    assert sent.json["TransID"] == tx["trans_id"]
    assert sent.json["OrgAccountBalance"] == tx["balance_after"]
    assert daraja.control("POST", "/ledger/XXXXXXXXXX/confirm", {}).status_code == 404
