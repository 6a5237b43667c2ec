"""Lines that are not customer payments: charges, sweeps, reversals and failed attempts, and
the balances and statement totals that must add up around them."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest

from daraja_emulator.statement import HEADER
from daraja_emulator.tests.conftest import SHORTCODE, Daraja, Receiver

CONFIRM = "/c2b/confirmation"


def statement(daraja: Daraja, **params: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The preamble's balances row as a dict, and the lines (newest first) keyed by column."""
    reply = daraja.control("GET", "/statement.csv?" + "&".join(
        f"{k}={v}" for k, v in ({"shortcode": SHORTCODE} | params).items()
    ))  # fmt: skip
    assert reply.status_code == 200, reply.text
    rows = list(csv.reader(io.StringIO(reply.text)))
    at = rows.index(HEADER)
    balances = next(row for row in rows[:at] if row and row[0] == "Opening Balance:")
    totals = dict(zip(balances[0::2], balances[1::2], strict=True))
    return totals, [dict(zip(HEADER, row, strict=True)) for row in rows[at + 1 :]]


def amount(text: str) -> Decimal:
    return Decimal(text.replace(",", "") or "0")


def assert_complete(totals: dict[str, str], lines: list[dict[str, str]]) -> None:
    """What a reconciler proves: the totals add up and every balance follows the one before."""
    opening, closing = amount(totals["Opening Balance:"]), amount(totals["Closing Balance:"])
    paid_in, withdrawn = amount(totals["Total Paid In:"]), amount(totals["Total Withdrawn:"])
    assert opening + paid_in - withdrawn == closing
    balance = opening
    completed = [line for line in lines if line["Transaction Status"] == "Completed"]
    for line in reversed(lines):
        if line["Transaction Status"] == "Completed":
            balance += amount(line["Paid In"]) - amount(line["Withdrawn"])
        assert amount(line["Balance"]) == balance, line
    assert balance == closing
    assert sum(amount(line["Paid In"]) for line in completed) == paid_in
    assert sum(amount(line["Withdrawn"]) for line in completed) == withdrawn


def ledger_insert(daraja: Daraja, **fields: Any) -> dict[str, Any]:
    body = {
        "ShortCode": SHORTCODE,
        "CommandID": "CustomerPayBillOnline",
        "Amount": 100,
        "Msisdn": "254712345311",
        "BillRefNumber": "NS0001",
    } | fields
    reply = daraja.control("POST", "/ledger", body)
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_each_payment_of_a_charged_shortcode_has_a_charge_line_sharing_its_receipt(
    daraja: Daraja,
) -> None:
    daraja.configure(opening_balance="1000", payment_charge="5.00")
    tx = ledger_insert(daraja, Amount=100)
    _, lines = statement(daraja)
    charge, payment = lines
    assert charge["Receipt No."] == payment["Receipt No."] == tx["trans_id"]
    assert (charge["Details"], charge["Reason Type"]) == ("Pay Bill Charge", "Pay Bill Charge")
    assert (charge["Paid In"], charge["Withdrawn"], charge["Balance"]) == ("", "5.00", "1,095.00")
    assert (charge["Other Party Info"], charge["A/C No."]) == ("", "")
    assert (payment["Paid In"], payment["Balance"]) == ("100.00", "1,100.00")
    assert tx["charge"] == "5.00"


def test_a_percentage_charge_is_rounded_to_the_cent(daraja: Daraja) -> None:
    daraja.configure(payment_charge="0.55%")
    ledger_insert(daraja, Amount=1020)
    _, lines = statement(daraja)
    assert lines[0]["Withdrawn"] == "5.61"


def test_uncharged_shortcodes_have_no_charge_lines(daraja: Daraja) -> None:
    ledger_insert(daraja)
    assert len(statement(daraja)[1]) == 1


def test_confirmations_carry_the_balance_of_the_payments_own_statement_line(
    daraja: Daraja, receiver: Receiver
) -> None:
    daraja.configure(opening_balance="1000.00", payment_charge="5")
    daraja.register(receiver)
    first = daraja.pay(Amount=100)
    daraja.control("POST", "/transfer", {"shortcode": SHORTCODE, "amount": "300"})
    second = daraja.pay(Amount=50)
    sent = [r.json["OrgAccountBalance"] for r in receiver.wait_for(CONFIRM, 2)]
    assert sent == ["1100.00", "845.00"]  # 1000 + 100, then - 5 charge - 300 swept + 50
    _, lines = statement(daraja)
    by_payment = {
        line["Receipt No."]: line["Balance"]
        for line in lines
        if line["Paid In"] and line["A/C No."]
    }
    assert by_payment == {first["trans_id"]: "1,100.00", second["trans_id"]: "845.00"}
    assert lines[0]["Balance"] == "840.00"  # the second payment's charge, newest first


def test_a_sweep_is_one_receipt_withdrawn_from_utility_and_paid_into_settlement(
    daraja: Daraja,
) -> None:
    daraja.configure(opening_balance="500", organization_name="NENO SACCO")
    ledger_insert(daraja, Amount=250)
    reply = daraja.control("POST", "/transfer", {"shortcode": SHORTCODE})
    assert reply.status_code == 200, reply.text
    sweep = reply.json()
    assert sweep["balances"] == {"utility": "0.00", "settlement": "750.00"}
    out, into = sweep["lines"]
    assert (out["account"], out["withdrawn"], into["account"], into["paid_in"]) == (
        "utility", "750.00", "settlement", "750.00",
    )  # fmt: skip
    transfer = "Utility Account to Organization Settlement Account"

    _, utility = statement(daraja)
    assert utility[0]["Receipt No."] == sweep["receipt"]
    assert (utility[0]["Details"], utility[0]["Withdrawn"]) == (transfer, "750.00")
    assert utility[0]["Other Party Info"] == f"{SHORTCODE} - NENO SACCO"
    assert utility[0]["Balance"] == "0.00"

    _, settlement = statement(daraja, account="settlement")
    assert [(line["Details"], line["Paid In"]) for line in settlement] == [(transfer, "750.00")]

    totals, both = statement(daraja, account="all")
    assert [line["Receipt No."] for line in both[:2]] == [sweep["receipt"]] * 2
    assert {line["Paid In"] or line["Withdrawn"] for line in both[:2]} == {"750.00"}
    # The organisation's combined balance: out of one account, then into the other.
    assert [line["Balance"] for line in both] == ["750.00", "0.00", "750.00"]
    assert_complete(totals, both)


def test_money_can_be_moved_back_into_the_utility_account(daraja: Daraja) -> None:
    daraja.configure(opening_balance="100")
    daraja.control("POST", "/transfer", {"shortcode": SHORTCODE, "amount": 60})
    back = daraja.control(
        "POST",
        "/transfer",
        {"shortcode": SHORTCODE, "from": "settlement", "to": "utility", "amount": "10.50"},
    ).json()
    assert back["balances"] == {"utility": "50.50", "settlement": "49.50"}
    _, lines = statement(daraja)
    assert lines[0]["Details"] == "Organization Settlement Account to Utility Account"
    assert lines[0]["Paid In"] == "10.50"


@pytest.mark.parametrize(
    "body,status",
    [
        ({"amount": "1000.01"}, 409),
        ({"amount": "-5"}, 400),
        ({"from": "utility", "to": "utility"}, 400),
        ({"to": "bank"}, 400),
        ({"amount": "ten"}, 400),
        ({"currency": "KES"}, 400),
    ],
)
def test_transfers_need_the_money_and_two_of_the_organisations_accounts(
    daraja: Daraja, body: dict[str, Any], status: int
) -> None:
    daraja.configure(opening_balance="1000")
    reply = daraja.control("POST", "/transfer", {"shortcode": SHORTCODE} | body)
    assert reply.status_code == status, reply.text


def test_a_reversal_is_a_withdrawn_line_linked_to_the_payment_it_reverses(
    daraja: Daraja, receiver: Receiver
) -> None:
    daraja.configure(opening_balance="1000")
    daraja.register(receiver)
    tx = daraja.pay(
        Amount=300, Msisdn="254712345311", payer={"first_name": "Jane", "last_name": "Doe"}
    )
    reply = daraja.control("POST", f"/ledger/{tx['trans_id']}/reverse")
    assert reply.status_code == 200, reply.text
    reversal = reply.json()["reversal"]
    assert reply.json()["transaction"]["reversed_by"] == reversal["receipt"] != tx["trans_id"]
    assert reply.json()["transaction"]["status"] == "completed"  # it did complete, once

    _, lines = statement(daraja)
    line = lines[0]
    assert line["Receipt No."] == reversal["receipt"]
    assert line["Linked Transaction ID"] == tx["trans_id"]
    assert (line["Paid In"], line["Withdrawn"], line["Balance"]) == ("", "300.00", "1,000.00")
    assert line["Details"] == f"Reversal of transaction {tx['trans_id']}"
    assert line["Reason Type"] == "Reversal"
    assert line["Other Party Info"] == "2547******311 - JANE DOE"
    assert line["A/C No."] == ""

    daraja.pay(Amount=10)
    sent = [r.json["OrgAccountBalance"] for r in receiver.wait_for(CONFIRM, 2)]
    assert sent == ["1300.00", "1010.00"]


def test_only_a_completed_payment_reverses_and_only_once(daraja: Daraja) -> None:
    tx = ledger_insert(daraja)
    assert daraja.control("POST", f"/ledger/{tx['trans_id']}/reverse").status_code == 200
    again = daraja.control("POST", f"/ledger/{tx['trans_id']}/reverse")
    assert again.status_code == 409 and "already reversed" in again.json()["errorMessage"]
    failed = ledger_insert(daraja, transaction_status="Failed")
    assert daraja.control("POST", f"/ledger/{failed['trans_id']}/reverse").status_code == 409
    assert daraja.control("POST", "/ledger/UKR0000001/reverse").status_code == 404


def test_a_reversal_needs_the_money_still_in_the_utility_account(daraja: Daraja) -> None:
    tx = ledger_insert(daraja, Amount=100)
    daraja.control("POST", "/transfer", {"shortcode": SHORTCODE})
    reply = daraja.control("POST", f"/ledger/{tx['trans_id']}/reverse")
    assert reply.status_code == 409


@pytest.mark.parametrize("status", ["Failed", "Cancelled", "Declined"])
def test_failed_attempts_are_listed_but_never_move_money(daraja: Daraja, status: str) -> None:
    daraja.configure(opening_balance="1000", payment_charge="5")
    attempt = ledger_insert(daraja, Amount=400, transaction_status=status)
    assert (attempt["status"], attempt["status_reason"]) == ("failed", status)
    assert attempt["charge"] == "0.00"
    totals, lines = statement(daraja)
    [line] = lines
    assert (line["Receipt No."], line["Transaction Status"]) == (attempt["trans_id"], status)
    assert (line["Paid In"], line["Balance"], line["Balance Confirmed"]) == (
        "400.00", "1,000.00", "false",
    )  # fmt: skip
    assert (totals["Total Paid In:"], totals["Closing Balance:"]) == ("0.00", "1,000.00")
    assert (
        daraja.control("GET", "/ledger?status=failed").json()["transactions"][0]["trans_id"]
        == (attempt["trans_id"])
    )


def test_a_failed_attempt_needs_a_status_the_portal_shows(daraja: Daraja) -> None:
    reply = daraja.control(
        "POST",
        "/ledger",
        {
            "ShortCode": SHORTCODE,
            "CommandID": "CustomerPayBillOnline",
            "Amount": 10,
            "Msisdn": "254712345311",
            "BillRefNumber": "NS0001",
            "transaction_status": "Pending",
        },
    )
    assert reply.status_code == 400


def test_the_totals_of_a_period_prove_it_complete(daraja: Daraja) -> None:
    daraja.configure(opening_balance="5000", payment_charge="1%")
    before = ledger_insert(daraja, Amount=700, trans_time="2026-03-31 23:59:59")
    first = ledger_insert(daraja, Amount=1200, trans_time="2026-04-01 08:00:00")
    ledger_insert(daraja, Amount=300, trans_time="2026-04-02 09:00:00", transaction_status="Failed")
    ledger_insert(daraja, Amount=450, trans_time="2026-04-03 10:00:00")
    daraja.control(
        "POST",
        "/transfer",
        {"shortcode": SHORTCODE, "amount": "2000", "trans_time": "2026-04-04 12:00:00"},
    )
    daraja.control(
        "POST", f"/ledger/{first['trans_id']}/reverse", {"trans_time": "2026-04-05 09:00:00"}
    )
    ledger_insert(daraja, Amount=99, trans_time="2026-05-01 00:00:00")

    totals, lines = statement(daraja, since="2026-04-01", until="2026-04-30")
    assert totals["Opening Balance:"] == "5,693.00"  # 5000 + 700 - 7.00 charge
    assert totals["Total Paid In:"] == "1,650.00"
    assert totals["Total Withdrawn:"] == "3,216.50"  # 12 + 4.50 charges, 2000 swept, 1200 back
    assert totals["Closing Balance:"] == totals["Available Balance:"] == "4,126.50"
    assert before["trans_id"] not in {line["Receipt No."] for line in lines}
    assert len(lines) == 7
    assert_complete(totals, lines)
    assert_complete(*statement(daraja))
    assert_complete(*statement(daraja, account="all"))


def test_lines_lists_every_account_line_oldest_first(daraja: Daraja) -> None:
    daraja.configure(payment_charge="2")
    tx = ledger_insert(daraja, Amount=100)
    daraja.control("POST", "/transfer", {"shortcode": SHORTCODE, "amount": 50})
    body = daraja.control("GET", f"/lines?shortcode={SHORTCODE}").json()
    assert [(line["kind"], line["account"]) for line in body["lines"]] == [
        ("payment", "utility"), ("charge", "utility"),
        ("transfer", "utility"), ("transfer", "settlement"),
    ]  # fmt: skip
    assert body["lines"][0]["receipt"] == tx["trans_id"]
    assert body["balances"] == {"utility": "48.00", "settlement": "50.00"}
    ledger = daraja.control("GET", "/ledger").json()
    assert ledger["accounts"][SHORTCODE] == body["balances"]
