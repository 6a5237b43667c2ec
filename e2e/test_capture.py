"""A payment made at the emulator ends up stored once, matched to its member, with one SMS."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal

import pytest

from c2b.models import CallbackReceipt, Payment, ValidationDecision
from c2b.services.shortcodes import shortcode_save
from core.eat import EAT
from members.models import Member, MemberMatch, MemberPhone
from sms.models import OutboundSms

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

Status = CallbackReceipt.Status


def add_member(number: str, name: str, phone: str) -> Member:
    member = Member.objects.create(number=number, name=name)
    MemberPhone.objects.create(member=member, number=phone)
    return member


def payment_of(stack, trans_id: str) -> Payment:
    return stack.wait_for(
        lambda: Payment.objects.filter(trans_id=trans_id).first(), f"payment {trans_id} stored"
    )


@pytest.mark.parametrize("api_version", ["v2", "v1"])
def test_registered_payment_is_stored_matched_and_receipted(stack, api_version):
    """The operator's path: shortcode add, register_urls, simulate_c2b, sms_worker --once."""
    number = {"v2": "600101", "v1": "600102"}[api_version]
    phone = "254712300149"
    member = add_member("NS0101", "Jane Wanjiku Kamau", phone)
    # The emulator's shortcode: entitled to this API version, with external validation enabled.
    stack.emulator.shortcode(number, api_version=api_version, external_validation=True)
    stack.manage(
        "shortcode",
        "add",
        number,
        "--name",
        "E2E paybill",
        "--kind",
        "paybill",
        "--api-version",
        api_version,
        "--max-amount",
        "150000",
    )

    registered = stack.manage("register_urls", "--shortcode", number)
    assert f"{number}: registered ({api_version}" in registered.stdout
    registration = stack.emulator.get(f"/emulator/shortcodes/{number}")["registration"]
    assert registration["confirmation_url"] == stack.callback_url("confirmation"), registration
    assert registration["validation_url"] == stack.callback_url("validation"), registration
    assert registration["api_version"] == api_version, registration

    # The customer types the member number badly; matching normalises it.
    stack.manage(
        "simulate_c2b", "--shortcode", number, "--amount", "1250", "--msisdn", phone,
        "--account", "ns 0101",
    )  # fmt: skip
    ledger = stack.wait_for(
        lambda: [t for t in stack.emulator.transactions(number) if t["finished"]],
        "the emulator to finish the simulated payment",
    )
    assert len(ledger) == 1, ledger
    tx = ledger[0]
    assert tx["status"] == "completed", tx
    payment = payment_of(stack, tx["trans_id"])

    assert payment.amount == Decimal("1250.00")
    assert payment.shortcode.number == number
    assert payment.business_short_code == number
    assert payment.bill_ref_number == "ns 0101"  # as typed
    assert payment.transaction_type == "Pay Bill"
    assert payment.org_account_balance == Decimal(tx["balance_after"])
    assert payment.msisdn == tx["msisdn_in_callbacks"]
    # TransTime is Kenyan local time; stored as the same instant.
    eat = datetime.strptime(tx["trans_time"], "%Y%m%d%H%M%S").replace(tzinfo=EAT)
    assert payment.trans_time == eat
    names = tx["names_in_callbacks"]
    assert (payment.first_name, payment.middle_name, payment.last_name) == (
        names["FirstName"],
        names.get("MiddleName", ""),
        names.get("LastName", ""),
    )
    assert payment.validation is not None and payment.validation.accepted
    receipts = CallbackReceipt.objects.filter(trans_id=tx["trans_id"])
    assert sorted(receipts.values_list("kind", "status")) == [
        ("confirmation", Status.PROCESSED),
        ("validation", Status.PROCESSED),
    ]
    assert receipts.get(kind="confirmation").payment_id == payment.pk

    match = MemberMatch.objects.get(payment=payment)
    assert match.member_id == member.pk
    # v2 sends a masked MSISDN that fits the member's phone; v1 a SHA-256 of it.
    assert match.rule == {"v2": "account+masked", "v1": "account+phone"}[api_version]

    sms = OutboundSms.objects.get(payment=payment)
    assert sms.status == OutboundSms.Status.QUEUED, sms.reason
    assert sms.recipient == phone
    assert tx["trans_id"] in sms.text

    worker = stack.manage("sms_worker", "--once")
    assert f"SMS to +{phone}" in worker.stdout, worker.stdout + worker.stderr
    assert tx["trans_id"] in worker.stdout
    sms.refresh_from_db()
    assert sms.status == OutboundSms.Status.SENT
    assert sms.backend == "console"
    assert sms.sent_at is not None


@pytest.mark.parametrize("duplicate", [True, "parallel"])
def test_duplicate_delivery_stores_one_payment_and_one_sms(stack, duplicate):
    number = "600111" if duplicate is True else "600112"
    phone = "254712300287"
    add_member("NS0287", "Otieno Odhiambo", phone)
    shortcode_save(number=number, name="Duplicates")
    stack.manage("register_urls", "--shortcode", number)

    tx = stack.pay(
        number, amount=700, msisdn=phone, account="NS0287", faults={"duplicate": duplicate}
    )
    confirmations = [d for d in tx["deliveries"] if d["kind"] == "confirmation"]
    assert len(confirmations) == 2, tx
    assert all(d["status_code"] == 200 for d in confirmations), confirmations

    trans_id = tx["trans_id"]
    assert Payment.objects.filter(trans_id=trans_id).count() == 1
    receipts = CallbackReceipt.objects.filter(trans_id=trans_id, kind="confirmation")
    assert sorted(receipts.values_list("status", flat=True)) == [Status.DUPLICATE, Status.PROCESSED]
    payment = Payment.objects.get(trans_id=trans_id)
    assert {r.payment_id for r in receipts} == {payment.pk}
    assert OutboundSms.objects.filter(payment__trans_id=trans_id).count() == 1
    assert OutboundSms.objects.count() == 1

    stack.manage("sms_worker", "--once")
    assert OutboundSms.objects.get().status == OutboundSms.Status.SENT


def test_dropped_confirmation_is_only_in_safaricoms_records(stack):
    """M-Pesa completed it but never called us: the ledger and the statement have it, we don't.
    (Reconciliation against the statement is what finds it.)"""
    number = "600121"
    shortcode_save(number=number, name="Dropped")
    stack.manage("register_urls", "--shortcode", number)
    kept = stack.pay(number, amount=300, account="KEPT")
    dropped = stack.pay(number, amount=450, account="LOST", faults={"drop": True})

    assert dropped["status"] == "completed", dropped
    assert dropped["deliveries"] == [], dropped
    assert stack.emulator.ledger(dropped["trans_id"])["status"] == "completed"
    payment_of(stack, kept["trans_id"])  # the other payment did arrive
    stack.settle()  # nothing is on its way: the emulator is idle and capture has caught up
    assert not Payment.objects.filter(trans_id=dropped["trans_id"]).exists()
    assert not CallbackReceipt.objects.filter(trans_id=dropped["trans_id"]).exists()

    statement = stack.emulator.get("/emulator/statement.csv", shortcode=number)
    rows = list(csv.reader(io.StringIO(statement)))
    header = rows.index(next(r for r in rows if r and r[0] == "Receipt No."))
    lines = {r[0]: dict(zip(rows[header], r, strict=True)) for r in rows[header + 1 :] if r}
    assert set(lines) == {kept["trans_id"], dropped["trans_id"]}, statement
    assert lines[dropped["trans_id"]]["Paid In"] == "450.00"
    assert lines[dropped["trans_id"]]["A/C No."] == "LOST"
    assert lines[dropped["trans_id"]]["Transaction Status"] == "Completed"


def test_unexpected_extra_key_is_stored_and_kept(stack):
    number = "600131"
    stack.emulator.shortcode(number, external_validation=True)
    shortcode_save(number=number, name="Extra keys")
    stack.manage("register_urls", "--shortcode", number)

    tx = stack.pay(number, amount=150, faults={"extra_key": "LoyaltyPoints"})
    assert tx["status"] == "completed", tx
    sent = next(d for d in tx["deliveries"] if d["kind"] == "confirmation")["payload"]
    assert "LoyaltyPoints" in sent, sent

    payment = Payment.objects.get(trans_id=tx["trans_id"])
    assert payment.amount == Decimal("150.00")
    assert payment.extra == {"LoyaltyPoints": sent["LoyaltyPoints"]}
    decision = ValidationDecision.objects.get(trans_id=tx["trans_id"])
    assert decision.accepted
    assert CallbackReceipt.objects.get(trans_id=tx["trans_id"], kind="confirmation").status == (
        Status.PROCESSED
    )
