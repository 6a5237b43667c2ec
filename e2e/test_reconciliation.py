"""Reconciliation end to end: dropped confirmations recovered by each of M-Pesa's three records
(the Org-portal statement, Pull Transactions, Transaction Status), exactly once also when the
late callback then arrives; a forged confirmation flagged. Real processes, real HTTP."""

from __future__ import annotations

import json
from datetime import datetime

import httpx
import pytest

from c2b.models import CallbackReceipt, Payment
from c2b.services.shortcodes import shortcode_save
from core.eat import EAT
from members.models import Member, MemberMatch, MemberPhone
from reconciliation.models import ReconciliationItem, StatusCheck
from sms.models import OutboundSms

pytestmark = pytest.mark.e2e


def paybill(stack, number: str) -> None:
    shortcode_save(number=number, name="Reconciled paybill")
    stack.manage("register_urls", "--shortcode", number)


def drop_one(stack, number: str, account: str = "NS0700") -> tuple[dict, dict]:
    """One payment whose confirmation arrives and one whose confirmation M-Pesa drops."""
    kept = stack.pay(number, amount=300, account="NS0701")
    dropped = stack.pay(number, amount=450, account=account, faults={"drop": True})
    assert dropped["deliveries"] == [], dropped
    stack.settle()
    assert Payment.objects.filter(trans_id=kept["trans_id"]).exists()
    assert not Payment.objects.filter(trans_id=dropped["trans_id"]).exists()
    return kept, dropped


def late_callback_is_a_redelivery(stack, trans_id: str) -> None:
    """M-Pesa sends the dropped confirmation after all: still one payment, one SMS."""
    stack.emulator.post(f"/emulator/ledger/{trans_id}/confirm")
    stack.settle()
    assert Payment.objects.filter(trans_id=trans_id).count() == 1
    receipt = stack.wait_for(
        lambda: (
            CallbackReceipt.objects.filter(trans_id=trans_id).exclude(status="received").first()
        ),
        "the late callback captured",
    )
    assert receipt.status == CallbackReceipt.Status.DUPLICATE, receipt.error
    assert OutboundSms.objects.filter(payment__trans_id=trans_id).count() == 1


def test_a_dropped_confirmation_is_found_in_the_statement_and_backfilled_once(stack, tmp_path):
    number = "600701"
    member = Member.objects.create(number="NS0700", name="Akinyi Odhiambo")
    MemberPhone.objects.create(member=member, number="254708374149")
    paybill(stack, number)
    kept, dropped = drop_one(stack, number)

    statement = tmp_path / "statement.xlsx"
    reply = stack.emulator.http.get("/emulator/statement.xlsx", params={"shortcode": number})
    statement.write_bytes(reply.content)
    imported = stack.manage("import_statement", str(statement))
    assert "proven complete" in imported.stdout, imported.stdout
    report = tmp_path / "report.csv"
    ran = stack.manage("reconcile", "--shortcode", number, "--backfill", "--report", str(report))

    assert "backfilled" in ran.stdout and "matched" in ran.stdout, ran.stdout
    outcomes = dict(ReconciliationItem.objects.values_list("trans_id", "outcome"))
    assert outcomes == {kept["trans_id"]: "matched", dropped["trans_id"]: "backfilled"}
    payment = Payment.objects.get(trans_id=dropped["trans_id"])
    assert (payment.source, str(payment.amount), payment.bill_ref_number) == (
        "statement",
        "450.00",
        "NS0700",
    )
    assert MemberMatch.objects.get(payment=payment).member == member
    assert OutboundSms.objects.get(payment=payment).status == OutboundSms.Status.QUEUED
    assert dropped["trans_id"] in report.read_text()

    again = stack.manage("reconcile", "--shortcode", number, "--backfill")
    assert "backfilled" not in again.stdout
    late_callback_is_a_redelivery(stack, dropped["trans_id"])


def test_a_pull_sweep_recovers_a_dropped_confirmation(stack):
    number = "600702"
    paybill(stack, number)
    registered = stack.manage("pull_register", "--shortcode", number)
    assert "registered for Pull" in registered.stdout, registered.stdout
    _, dropped = drop_one(stack, number)

    swept = stack.manage("pull_transactions", "--shortcode", number, "--hours", "2")

    assert "1 stored now" in swept.stdout, swept.stdout + swept.stderr
    payment = Payment.objects.get(trans_id=dropped["trans_id"])
    assert (payment.source, str(payment.amount)) == ("pull", "450.00")
    again = stack.manage("pull_transactions", "--shortcode", number, "--hours", "2")
    assert "0 stored now" in again.stdout
    late_callback_is_a_redelivery(stack, dropped["trans_id"])


def test_transaction_status_recovers_a_dropped_confirmation(stack):
    number = "600703"
    paybill(stack, number)
    _, dropped = drop_one(stack, number)

    verified = stack.manage(
        "verify_payment", dropped["trans_id"], "--shortcode", number, "--wait", "20"
    )

    assert "Confirmed by M-Pesa" in verified.stdout, verified.stdout + verified.stderr
    check = StatusCheck.objects.get(trans_id=dropped["trans_id"])
    assert check.backfilled
    payment = Payment.objects.get(trans_id=dropped["trans_id"])
    assert (payment.source, str(payment.amount), payment.bill_ref_number) == (
        "status",
        "450.00",
        "",
    )
    late_callback_is_a_redelivery(stack, dropped["trans_id"])


def test_a_forged_confirmation_is_unconfirmed_and_not_found_by_m_pesa(stack, tmp_path):
    number = "600704"
    paybill(stack, number)
    stack.pay(number, amount=300, account="NS0701")
    forged_id = "TKF0RG3D01"
    body = {
        "TransactionType": "Pay Bill",
        "TransID": forged_id,
        "TransTime": datetime.now(EAT).strftime("%Y%m%d%H%M%S"),
        "TransAmount": "99000.00",
        "BusinessShortCode": number,
        "BillRefNumber": "NS0701",
        "MSISDN": "2547 ***** 149",
        "FirstName": "FORGER",
    }
    forged = httpx.post(stack.callback_url("confirmation"), content=json.dumps(body), timeout=10)
    assert forged.status_code == 200  # unsigned: believed until checked
    stack.settle()
    assert Payment.objects.filter(trans_id=forged_id).exists()

    statement = tmp_path / "statement.csv"
    statement.write_text(stack.emulator.get("/emulator/statement.csv", shortcode=number))
    stack.manage("import_statement", str(statement))
    stack.manage("reconcile", "--shortcode", number)
    item = ReconciliationItem.objects.get(trans_id=forged_id)
    assert item.outcome == "unconfirmed"
    assert Payment.objects.get(trans_id=forged_id).reconciled == "unconfirmed"

    verified = stack.manage("verify_payment", forged_id, "--wait", "20")
    assert "Not found by M-Pesa" in verified.stdout, verified.stdout + verified.stderr
    assert Payment.objects.filter(trans_id=forged_id).count() == 1  # kept, flagged
