"""A busy stretch of real-shaped traffic: members imported with the operator's command, then a
seeded emulator scenario with duplicates, drops, delays, extra keys, messy and unknown accounts.
Every payment M-Pesa completed and delivered is stored exactly once, matched and receipted."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest

from c2b.models import CallbackReceipt, Payment, ValidationDecision
from c2b.services.shortcodes import shortcode_save
from members.models import MemberMatch
from sms.models import OutboundSms

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MEMBERS = [
    ("NS0501", "Wanjiru Njeri Kamau", "254711500501"),
    ("NS0502", "Otieno Ochieng", "254722500502"),
    ("NS0503", "Achieng Atieno Odera", "254733500503"),
    ("NS0504", "Kiprop Kipchumba", "254744500504"),
    ("NS0505", "Mutua Musyoka Kioko", "254755500505"),
]


def test_scenario_every_delivered_payment_is_stored_once(stack, tmp_path):
    number = "600501"
    members_csv = tmp_path / "members.csv"
    with members_csv.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["member_number", "name", "phone", "status"])
        writer.writerows([(n, name, phone, "active") for n, name, phone in MEMBERS])
    stack.manage("import_members", str(members_csv), "--no-progress")

    stack.emulator.shortcode(number, external_validation=True)
    shortcode_save(number=number, name="Busy paybill", require_active_member=True)
    stack.manage("register_urls", "--shortcode", number)

    started = stack.emulator.post(
        "/emulator/scenario",
        {
            "shortcode": number,
            "payments": 30,
            "members": [
                {"member_number": n, "name": name, "phone": phone} for n, name, phone in MEMBERS
            ],
            "seed": 2026,
            "pace": 30,
            "duplicate_rate": 0.2,
            "drop_rate": 0.15,
            "delay_rate": 0.1,
            "delay_seconds": 0.5,
            "extra_key_rate": 0.1,
            "invalid_account_rate": 0.15,
            "messy_account_rate": 0.2,
        },
    )
    progress = stack.wait_for(
        lambda: (
            (p := stack.emulator.get(f"/emulator/scenario/{started['id']}"))["status"] != "running"
            and p
        ),
        "the scenario to finish",
    )
    assert progress["status"] == "finished", progress
    stack.settle()

    ledger = stack.emulator.transactions(number)
    assert len(ledger) == 30, ledger
    by_status = {s: [t for t in ledger if t["status"] == s] for s in ("completed", "rejected")}
    assert len(by_status["completed"]) + len(by_status["rejected"]) == 30, ledger
    delivered = {t["trans_id"]: t for t in by_status["completed"] if not t["faults"]["drop"]}
    dropped = {t["trans_id"] for t in by_status["completed"] if t["faults"]["drop"]}
    rejected = {t["trans_id"] for t in by_status["rejected"]}
    # The seed makes the mix the same every run; make sure the interesting cases are in it.
    assert rejected and dropped, progress
    assert any(t["faults"]["duplicate"] for t in delivered.values()), progress
    assert progress["messy_accounts"] and progress["faults_injected"]["extra_key"], progress

    payments = {p.trans_id: p for p in Payment.objects.all()}
    assert set(payments) == set(delivered), (
        f"missing {set(delivered) - set(payments)}, unexpected {set(payments) - set(delivered)}"
    )
    for trans_id, tx in delivered.items():
        assert payments[trans_id].amount == Decimal(tx["amount"]), tx
        # Exactly as the customer typed it, stray spaces and lower case included.
        assert payments[trans_id].bill_ref_number == tx["bill_ref_number"], tx
        assert bool(payments[trans_id].extra) == bool(tx["faults"]["extra_key"]), tx
    assert sum(p.amount for p in payments.values()) == sum(
        Decimal(t["amount"]) for t in delivered.values()
    )

    decisions = ValidationDecision.objects.all()
    assert {d.trans_id for d in decisions if not d.accepted} == rejected
    assert {d.result_code for d in decisions if not d.accepted} == {"C2B00012"}
    assert {d.trans_id for d in decisions if d.accepted} == set(delivered) | dropped

    duplicates = sum(1 for t in delivered.values() if t["faults"]["duplicate"])
    confirmations = CallbackReceipt.objects.filter(kind="confirmation")
    assert confirmations.filter(status=CallbackReceipt.Status.DUPLICATE).count() == duplicates
    assert confirmations.filter(status=CallbackReceipt.Status.PROCESSED).count() == len(delivered)
    assert confirmations.count() == len(delivered) + duplicates  # nothing failed or conflicting

    # Every accepted account was an active member's number (some typed messily): all matched.
    assert MemberMatch.objects.filter(member__isnull=True).count() == 0
    assert MemberMatch.objects.count() == len(delivered)
    assert OutboundSms.objects.filter(status=OutboundSms.Status.QUEUED).count() == len(delivered)
    stack.manage("sms_worker", "--once")
    assert OutboundSms.objects.filter(status=OutboundSms.Status.SENT).count() == len(delivered)
