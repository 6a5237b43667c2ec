"""The ledger and the Org-portal statement export."""

from __future__ import annotations

import csv
import io

from daraja_emulator.statement import HEADER
from daraja_emulator.tests.conftest import SHORTCODE, Daraja, Receiver


def statement_rows(daraja: Daraja, query: str = "") -> tuple[list[list[str]], list[list[str]]]:
    reply = daraja.control("GET", f"/statement.csv?shortcode={SHORTCODE}{query}")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(reply.text)))
    at = rows.index(HEADER)
    return rows[:at], rows[at + 1 :]


def test_ledger_lists_every_outcome_with_its_deliveries(daraja: Daraja, receiver: Receiver) -> None:
    daraja.configure(external_validation=True)
    daraja.register(receiver)
    daraja.pay()
    receiver.reply("/c2b/validation", body={"ResultCode": "C2B00012"})
    daraja.pay()
    ledger = daraja.control("GET", "/ledger").json()
    assert [tx["status"] for tx in ledger["transactions"]] == ["completed", "rejected"]
    assert ledger["transactions"][0]["deliveries"][1]["status_code"] == 200
    rejected = daraja.control("GET", "/ledger?status=rejected").json()["transactions"]
    assert len(rejected) == 1
    assert daraja.control("GET", "/ledger?shortcode=999999").json()["transactions"] == []


def test_statement_has_the_full_preamble_with_the_period_in_separate_cells(
    daraja: Daraja,
) -> None:
    daraja.configure(organization_name="NENO SACCO", opening_balance="1000")
    daraja.pay(Amount=20)
    preamble, rows = statement_rows(daraja, "&since=2026-01-01&until=2099-12-31")
    assert preamble[0] == ["Organization Short Code:", SHORTCODE]
    assert preamble[1] == ["Account:", "Utility Account"]
    assert preamble[2] == [
        "Time Period:",
        "From",
        "01-01-2026 00:00:00",
        "To",
        "31-12-2099 23:59:59",
    ]
    operator = preamble[3]
    assert operator[0::2] == ["Operator:", "Organization:", "Date of Report:"]
    assert operator[1] == "testapi" and operator[3] == "NENO SACCO"
    assert preamble[4] == [
        "Opening Balance:", "1,000.00", "Closing Balance:", "1,020.00",
        "Available Balance:", "1,020.00", "Total Paid In:", "20.00", "Total Withdrawn:", "0.00",
    ]  # fmt: skip
    assert preamble[5] == []
    assert len(rows) == 1


def test_statement_rows_look_like_the_portal_export(daraja: Daraja) -> None:
    daraja.configure(opening_balance="100000")
    tx = daraja.pay(
        Amount=1020, Msisdn="254712345287", payer={"first_name": "john", "last_name": "doe"}
    )
    _, rows = statement_rows(daraja)
    row = dict(zip(HEADER, rows[0], strict=True))
    assert row["Receipt No."] == tx["trans_id"]
    assert row["Paid In"] == "1,020.00"
    assert row["Withdrawn"] == ""
    assert row["Balance"] == "101,020.00"
    assert row["Transaction Status"] == "Completed"
    assert row["Details"] == "Pay Bill from 2547******287 - JOHN DOE Acc. M1001"
    assert row["Reason Type"] == "Pay Bill Online"
    assert row["Balance Confirmed"] == "true"
    assert row["Linked Transaction ID"] == ""
    assert row["Other Party Info"] == "2547******287 - JOHN DOE"
    assert row["A/C No."] == "M1001"
    assert row["Completion Time"][2] == "-" and len(row["Completion Time"]) == 19


def test_statement_holds_dropped_payments_and_leaves_out_rejected_ones(
    daraja: Daraja, receiver: Receiver
) -> None:
    daraja.configure(external_validation=True)
    daraja.register(receiver)
    dropped = daraja.pay(faults={"drop": True})
    receiver.reply("/c2b/validation", body={"ResultCode": "C2B00012"})
    daraja.pay()
    _, rows = statement_rows(daraja)
    assert [row[0] for row in rows] == [dropped["trans_id"]]


def test_till_payments_read_as_merchant_payments_without_an_account(daraja: Daraja) -> None:
    daraja.pay(CommandID="CustomerBuyGoodsOnline", Msisdn="254712345287")
    _, rows = statement_rows(daraja)
    row = dict(zip(HEADER, rows[0], strict=True))
    assert row["Details"].startswith("Merchant Payment from 2547******287 - ")
    assert (row["Reason Type"], row["A/C No."]) == ("Buy Goods Online", "")


def test_statement_lists_newest_first_and_filters_by_period(daraja: Daraja) -> None:
    old = daraja.control(
        "POST", "/ledger", {**payment(), "trans_time": "2026-01-05 09:30:00"}
    ).json()
    new = daraja.control("POST", "/ledger", {**payment(), "trans_time": "20260210083000"}).json()
    _, rows = statement_rows(daraja)
    assert [row[0] for row in rows] == [new["trans_id"], old["trans_id"]]
    assert rows[1][1] == "05-01-2026 09:30:00"
    assert [row[7] for row in rows] == ["20.00", "10.00"]  # balance in completion order
    _, january = statement_rows(daraja, "&since=2026-01-01&until=2026-01-31")
    assert [row[0] for row in january] == [old["trans_id"]]


def test_a_back_dated_entry_shifts_the_balances_after_it(daraja: Daraja) -> None:
    february = daraja.control(
        "POST", "/ledger", {**payment(), "trans_time": "2026-02-10 08:30:00"}
    ).json()
    daraja.control("POST", "/ledger", {**payment(), "Amount": 5, "trans_time": "2026-01-05"})
    _, rows = statement_rows(daraja)
    assert (rows[0][0], rows[0][7]) == (february["trans_id"], "15.00")
    assert daraja.control("GET", "/ledger").json()["balances"][SHORTCODE] == "15.00"


def test_ledger_insert_can_fix_the_receipt_number_once(daraja: Daraja) -> None:
    body = {**payment(), "trans_id": "TAB1234567"}
    assert daraja.control("POST", "/ledger", body).json()["trans_id"] == "TAB1234567"
    assert daraja.control("POST", "/ledger", body).status_code == 409


def payment() -> dict[str, object]:
    return {
        "ShortCode": SHORTCODE,
        "CommandID": "CustomerPayBillOnline",
        "Amount": 10,
        "Msisdn": "254708374149",
        "BillRefNumber": "M1001",
    }
