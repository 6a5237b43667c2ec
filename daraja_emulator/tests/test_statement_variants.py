"""The download's variants (query parameters) and the Excel file."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

import pytest
from openpyxl import load_workbook

from daraja_emulator.statement import HEADER, NEW_HEADER, XLSX_CONTENT_TYPE
from daraja_emulator.tests.conftest import SHORTCODE, Daraja


@pytest.fixture
def paid(daraja: Daraja) -> dict[str, Any]:
    """A charged payment of 1,020 by JANE WANJIRU DOE, then a sweep of 500."""
    daraja.configure(opening_balance="100000", payment_charge="10", organization_name="NENO SACCO")
    tx = daraja.control(
        "POST",
        "/ledger",
        {
            "ShortCode": SHORTCODE,
            "CommandID": "CustomerPayBillOnline",
            "Amount": 1020,
            "Msisdn": "254712345376",
            "BillRefNumber": "shop 01",
            "payer": {"first_name": "Jane", "middle_name": "Wanjiru", "last_name": "Doe"},
            "trans_time": "2026-04-02 09:05:07",
        },
    ).json()
    daraja.control(
        "POST",
        "/transfer",
        {"shortcode": SHORTCODE, "amount": 500, "trans_time": "2026-04-02 10:00:00"},
    )
    return tx


def download(daraja: Daraja, suffix: str = "csv", **params: str) -> Any:
    query = "&".join(f"{k}={v}" for k, v in ({"shortcode": SHORTCODE} | params).items())
    reply = daraja.control("GET", f"/statement.{suffix}?{query}")
    assert reply.status_code == 200, reply.text
    return reply


def csv_rows(daraja: Daraja, **params: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(download(daraja, **params).text)))


def lines(rows: list[list[str]], header: list[str]) -> list[dict[str, str]]:
    at = rows.index(header)
    return [dict(zip(header, row, strict=True)) for row in rows[at + 1 :]]


def test_the_classic_download_is_the_default(daraja: Daraja, paid: dict[str, Any]) -> None:
    rows = csv_rows(daraja)
    assert rows[0] == ["Organization Short Code:", SHORTCODE]
    sweep, charge, payment = lines(rows, HEADER)
    assert payment["Details"] == "Pay Bill from 2547******376 - JANE DOE Acc. shop 01"
    assert payment["Completion Time"] == "02-04-2026 09:05:07"
    assert payment["Paid In"] == "1,020.00"
    assert (charge["Withdrawn"], sweep["Withdrawn"]) == ("10.00", "500.00")


def test_currency_variant_adds_a_fourteenth_column(daraja: Daraja, paid: dict[str, Any]) -> None:
    rows = csv_rows(daraja, currency="true")
    found = lines(rows, [*HEADER, "Currency"])
    assert {line["Currency"] for line in found} == {"KES"}


def test_negative_variant_writes_withdrawals_with_a_minus_sign(
    daraja: Daraja, paid: dict[str, Any]
) -> None:
    rows = csv_rows(daraja, withdrawn="negative")
    sweep, charge, payment = lines(rows, HEADER)
    assert (sweep["Withdrawn"], charge["Withdrawn"], payment["Withdrawn"]) == (
        "-500.00", "-10.00", "",
    )  # fmt: skip
    balances = next(row for row in rows if row and row[0] == "Opening Balance:")
    assert balances[-2:] == ["Total Withdrawn:", "-510.00"]


def test_the_newer_download_has_no_preamble_and_names_the_payer_only_in_details(
    daraja: Daraja, paid: dict[str, Any]
) -> None:
    rows = csv_rows(daraja, layout="new")
    assert rows[0] == NEW_HEADER
    sweep, charge, payment = lines(rows, NEW_HEADER)
    assert payment == {
        "Receipt No": paid["trans_id"],
        "Completion Time": "02-04-2026 09:05:07",
        "Details": "Pay Bill from 2547****376 - JANE DOE Acc. shop 01",
        "Transaction Status": "Completed",
        "Paid In (KSHs)": "1,020.00",
        "Withdrawn (KSHs)": "",
        "Balance (KSHs)": "101,020.00",
    }
    assert charge["Details"] == "Pay Bill Charge"
    assert sweep["Details"] == "Utility Account to Organization Settlement Account"


def test_names_can_be_masked_as_some_downloads_do(daraja: Daraja, paid: dict[str, Any]) -> None:
    payment = lines(csv_rows(daraja, layout="new", mask_names="true"), NEW_HEADER)[-1]
    assert payment["Details"] == "Pay Bill from 2547****376 - JANE **** DOE Acc. shop 01"
    classic = lines(csv_rows(daraja, mask_names="true"), HEADER)[-1]
    assert classic["Other Party Info"] == "2547******376 - JANE **** DOE"


def test_times_can_be_written_year_first_and_amounts_without_separators(
    daraja: Daraja, paid: dict[str, Any]
) -> None:
    rows = csv_rows(daraja, time_format="ymd", thousands="false")
    payment = lines(rows, HEADER)[-1]
    assert payment["Completion Time"] == "2026-04-02 09:05:07"
    assert (payment["Paid In"], payment["Balance"]) == ("1020.00", "101020.00")
    period = next(row for row in rows if row and row[0] == "Time Period:")
    assert period[1:4] == ["From", "2026-04-02 09:05:07", "To"]


def test_the_short_preamble_keeps_the_period_in_one_cell(
    daraja: Daraja, paid: dict[str, Any]
) -> None:
    rows = csv_rows(daraja, preamble="short", since="2026-04-01", until="2026-04-30")
    assert rows[0] == ["Organization Name:", "NENO SACCO"]
    assert ["Time Period:", "From 01-04-2026 00:00:00 To 30-04-2026 23:59:59"] in rows
    assert len(lines(rows, HEADER)) == 3


@pytest.mark.parametrize(
    "params",
    [
        {"layout": "modern"},
        {"currency": "maybe"},
        {"withdrawn": "minus"},
        {"account": "mmf"},
        {"format": "csv"},
        {"since": "yesterday"},
    ],
)
def test_unknown_variants_are_refused_by_name(daraja: Daraja, params: dict[str, str]) -> None:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    reply = daraja.control("GET", f"/statement.csv?shortcode={SHORTCODE}&{query}")
    assert reply.status_code == 400
    assert next(iter(params)) in reply.json()["errorMessage"]


def test_xlsx_holds_numbers_and_date_times_where_a_real_export_would(
    daraja: Daraja, paid: dict[str, Any]
) -> None:
    reply = download(daraja, "xlsx", since="2026-04-01", until="2026-04-30")
    assert reply.headers["content-type"] == XLSX_CONTENT_TYPE
    sheet = load_workbook(io.BytesIO(reply.content)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][:2] == ["Organization Short Code:", SHORTCODE]  # text, not a number
    assert rows[2][:5] == [
        "Time Period:", "From", datetime(2026, 4, 1), "To", datetime(2026, 4, 30, 23, 59, 59),
    ]  # fmt: skip
    balances = rows[4]
    assert balances[1] == 100000 and balances[9] == 510
    header_at = next(i for i, row in enumerate(rows) if row[0] == "Receipt No.")
    assert rows[header_at] == HEADER
    payment = dict(zip(HEADER, rows[-1], strict=True))
    assert payment["Receipt No."] == paid["trans_id"]
    assert payment["Completion Time"] == datetime(2026, 4, 2, 9, 5, 7)  # EAT wall time
    assert payment["Paid In"] == 1020 and payment["Balance"] == 101020
    assert payment["Withdrawn"] is None
    assert payment["A/C No."] == "shop 01"
    cell = sheet.cell(row=len(rows), column=2)
    assert cell.number_format == "dd-mm-yyyy hh:mm:ss"
    assert sheet.cell(row=len(rows), column=6).number_format == "#,##0.00"


def test_xlsx_text_cells_hold_what_the_csv_holds(daraja: Daraja, paid: dict[str, Any]) -> None:
    params = {"since": "2026-04-01", "until": "2026-04-30", "layout": "new"}
    text = [
        [cell or "" for cell in row]
        for row in load_workbook(
            io.BytesIO(download(daraja, "xlsx", cells="text", **params).content)
        ).active.iter_rows(values_only=True)
    ]
    assert text == csv_rows(daraja, **params)
