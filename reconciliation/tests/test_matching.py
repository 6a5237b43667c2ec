"""Reconciliation: one outcome per receipt, backfill through the one recording path."""

import csv
import io
from datetime import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from c2b.models import CallbackReceipt, Payment
from core.eat import EAT
from factories import load_payload, statement_csv
from members.models import MemberMatch
from reconciliation.importing import statement_import
from reconciliation.matching import reconciliation_run
from reconciliation.models import ReconciliationItem
from sms.models import OutboundSms

pytestmark = pytest.mark.django_db

Outcome = ReconciliationItem.Outcome


def line(receipt, at="2026-11-27 09:00:00", amount="1500.00", **more):
    return {"receipt": receipt, "at": at, "amount": amount, **more}


def eat(text):
    return datetime.fromisoformat(text).replace(tzinfo=EAT)


def imported(*lines, **options):
    return statement_import(data=statement_csv(list(lines), **options), filename="s.csv")


def outcomes(run):
    return dict(run.items.values_list("trans_id", "outcome"))


def test_every_receipt_gets_exactly_one_outcome(paybill, make_payment, make_member):
    make_member("NS00123")
    make_payment(trans_id="TKMATCH001", at="2026-11-27 09:00:00")
    make_payment(trans_id="TKAMOUNT01", at="2026-11-27 09:10:00", amount="999.00")
    make_payment(trans_id="TKACCOUNT1", at="2026-11-27 09:20:00", bill_ref_number="NS 00999")
    make_payment(trans_id="TKFORGED01", at="2026-11-27 09:30:00")
    make_payment(trans_id="TKREVERSE1", at="2026-11-27 09:40:00")
    make_payment(trans_id="TKOUTSIDE1", at="2026-11-28 09:00:00")  # no statement covers it
    imported(
        line("TKMATCH001"),
        line("TKAMOUNT01", at="2026-11-27 09:10:00"),
        line("TKACCOUNT1", at="2026-11-27 09:20:00"),
        line("TKREVERSE1", at="2026-11-27 09:40:00"),
        line("TKLOST0001", at="2026-11-27 09:50:00"),
        line("TKREV00001", at="2026-11-27 10:00:00", kind="reversal", linked="TKREVERSE1"),
        line("TKMATCH001", amount="15.00", kind="charge"),
        line("TKFAILED01", at="2026-11-27 11:00:00", status="Failed"),
    )

    run = reconciliation_run()

    assert outcomes(run) == {
        "TKMATCH001": Outcome.MATCHED,
        "TKAMOUNT01": Outcome.MISMATCH,
        "TKACCOUNT1": Outcome.MISMATCH,
        "TKFORGED01": Outcome.UNCONFIRMED,
        "TKREVERSE1": Outcome.REVERSED,
        "TKLOST0001": Outcome.MISSING,
    }
    notes = dict(run.items.values_list("trans_id", "note"))
    assert "Amount: statement 1,500.00, ledger 999.00" in notes["TKAMOUNT01"]
    assert "Account: statement 'NS00123', ledger 'NS 00999'" in notes["TKACCOUNT1"]
    assert "Reversed by TKREV00001" in notes["TKREVERSE1"]
    assert run.counts == {
        "matched": 1,
        "mismatch": 2,
        "unconfirmed": 1,
        "reversed": 1,
        "missing": 1,
    }
    assert run.amounts["missing"] == "1500.00"
    assert run.status == run.Status.FINISHED


def test_findings_are_written_on_the_payments_and_nothing_is_deleted(paybill, make_payment):
    make_payment(trans_id="TKFORGED01", at="2026-11-27 09:30:00")
    make_payment(trans_id="TKMATCH001", at="2026-11-27 09:00:00", reconciled="mismatch")
    imported(line("TKMATCH001"))

    reconciliation_run()

    findings = dict(Payment.objects.values_list("trans_id", "reconciled"))
    assert findings == {"TKFORGED01": "unconfirmed", "TKMATCH001": ""}  # an agreement clears


def test_a_payment_no_covering_statement_spans_gets_no_verdict(paybill, make_payment):
    make_payment(trans_id="TKLATER001", at="2026-11-28 08:00:00")
    imported(line("TKA0000001"))
    run = reconciliation_run(backfill=True)
    assert "TKLATER001" not in outcomes(run)
    assert Payment.objects.get(trans_id="TKLATER001").reconciled == ""


def test_a_forced_statement_never_makes_a_payment_unconfirmed(paybill, make_payment):
    make_payment(trans_id="TKFORGED01", at="2026-11-27 09:30:00")
    text = statement_csv([line("TKA0000001")]).decode().replace("1,500.00", "1,400.00", 1)
    statement_import(data=text.encode(), filename="edited.csv", force=True)
    assert "TKFORGED01" not in outcomes(reconciliation_run())


def test_backfill_stores_the_missing_payment_like_a_callback_would(paybill, make_member):
    member = make_member("NS00777", phones=("254712345126",))
    imported(line("TKLOST0001", account="NS00777", payer="2547******126 - JOHN OTIENO"))

    run = reconciliation_run(backfill=True)

    assert outcomes(run) == {"TKLOST0001": Outcome.BACKFILLED}
    payment = Payment.objects.get()
    assert (payment.source, payment.amount, payment.bill_ref_number) == (
        "statement",
        Decimal("1500.00"),
        "NS00777",
    )
    assert payment.trans_time == eat("2026-11-27 09:00:00")
    assert (payment.first_name, payment.last_name) == ("JOHN", "OTIENO")
    assert payment.reconciled == ""
    assert MemberMatch.objects.get(payment=payment).member == member
    sms = OutboundSms.objects.get(payment=payment)
    assert (sms.status, sms.recipient) == (OutboundSms.Status.QUEUED, "254712345126")


def test_receipts_for_backfilled_payments_can_be_turned_off(paybill, settings):
    settings.RECONCILE_SMS_RECEIPTS = False
    imported(line("TKLOST0001", payer="254712345678 - JOHN OTIENO"))
    reconciliation_run(backfill=True)
    sms = OutboundSms.objects.get()
    assert sms.status == OutboundSms.Status.SKIPPED
    assert "receipts for backfilled payments are off" in sms.reason


def test_running_again_stores_nothing_twice(paybill):
    imported(line("TKLOST0001"))
    reconciliation_run(backfill=True)
    second = reconciliation_run(backfill=True)
    assert outcomes(second) == {"TKLOST0001": Outcome.MATCHED}
    assert Payment.objects.count() == 1
    assert OutboundSms.objects.count() == 1


def test_the_late_callback_of_a_backfilled_payment_is_a_redelivery_that_completes_it(
    paybill, mpesa
):
    imported(line("TKR3XYZ9AB", at="2026-11-27 14:30:15", account="NS 00123", payer="JOHN OTIENO"))
    reconciliation_run(backfill=True)
    body = load_payload("confirmation_v2_masked", InvoiceNumber="INV-7", LastName="OTIENO")

    assert mpesa.confirm(body).status_code == 200

    payment = Payment.objects.get()
    assert payment.source == "statement"
    assert payment.invoice_number == "INV-7"
    assert "InvoiceNumber" in payment.amended and "callback" in payment.amended
    receipt = CallbackReceipt.objects.get()
    assert (receipt.status, receipt.payment) == (CallbackReceipt.Status.DUPLICATE, payment)
    assert OutboundSms.objects.count() == 1


def test_a_late_callback_with_another_amount_is_a_conflict_and_changes_nothing(paybill, mpesa):
    imported(line("TKR3XYZ9AB", at="2026-11-27 14:30:15", account="NS 00123"))
    reconciliation_run(backfill=True)
    mpesa.confirm(load_payload("confirmation_v2_masked", TransAmount="15.00"))
    receipt = CallbackReceipt.objects.get()
    assert receipt.status == CallbackReceipt.Status.CONFLICT
    assert "TransAmount" in receipt.error
    assert Payment.objects.get().amount == Decimal("1500.00")


def test_since_and_until_bound_the_comparison(paybill, make_payment):
    make_payment(trans_id="TKFORGED01", at="2026-11-27 18:00:00")
    imported(line("TKLOST0001", at="2026-11-27 09:00:00"))
    run = reconciliation_run(since=eat("2026-11-27 12:00:00"), until=eat("2026-11-27 23:59:59"))
    assert outcomes(run) == {"TKFORGED01": Outcome.UNCONFIRMED}


def test_the_command_prints_the_summary_and_writes_a_formula_safe_report(
    paybill, make_payment, tmp_path
):
    make_payment(trans_id="TKFORGED01", at="2026-11-27 09:30:00", bill_ref_number="=HYPERLINK()")
    imported(line("TKLOST0001"))
    report = tmp_path / "report.csv"
    out = io.StringIO()

    call_command("reconcile", "--report", str(report), stdout=out)

    text = out.getvalue()
    assert "missing" in text and "1,500.00" in text and "unconfirmed" in text
    rows = list(csv.reader(report.open()))
    assert rows[0][:9] == [
        "Outcome",
        "TransID",
        "BusinessShortCode",
        "TransTime",
        "StatementAmount",
        "LedgerAmount",
        "StatementAccount",
        "LedgerAccount",
        "Note",
    ]
    by_id = {row[1]: row for row in rows[1:]}
    assert by_id["TKLOST0001"][:6] == [
        "missing",
        "TKLOST0001",
        "600984",
        "2026-11-27T09:00:00+03:00",
        "1500.00",
        "",
    ]
    assert by_id["TKFORGED01"][7] == "'=HYPERLINK()"


def test_the_command_with_nothing_imported_says_so_and_succeeds(db):
    out = io.StringIO()
    call_command("reconcile", stdout=out)
    assert "No imported statement covers that" in out.getvalue()
