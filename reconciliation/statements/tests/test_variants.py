"""Every variant of the Org-portal export seen so far reads into the same lines.

One fixture per variant, real-shaped (see the package's description for the list).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from reconciliation.statements import (
    LineKind,
    LineProblem,
    Statement,
    StatementLine,
    open_statement,
    statement_proof,
)
from reconciliation.statements.cells import EAT

FIXTURES = Path(__file__).parent / "fixtures"
FULL_COLUMNS = (
    "Receipt No.", "Completion Time", "Initiation Time", "Details", "Transaction Status",
    "Paid In", "Withdrawn", "Balance", "Balance Confirmed", "Reason Type", "Other Party Info",
    "Linked Transaction ID", "A/C No.",
)  # fmt: skip


def fixture(name: str) -> Statement:
    return open_statement((FIXTURES / name).read_bytes(), filename=name)


def lines(statement: Statement) -> list[StatementLine]:
    read = list(statement.rows())
    assert not [item for item in read if isinstance(item, LineProblem)]
    return read  # type: ignore[return-value]


def eat(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=EAT)


def test_the_classic_export_has_its_period_in_separate_cells():
    statement = fixture("classic_separate_period.csv")
    assert (statement.format, statement.header_row, statement.columns) == ("csv", 7, FULL_COLUMNS)
    preamble = statement.preamble
    assert (preamble.organisation, preamble.shortcode, preamble.account) == (
        "NENO SACCO SOCIETY LTD", "600984", "Utility Account",
    )  # fmt: skip
    assert (preamble.period_start, preamble.period_end) == (
        eat(2026, 3, 27), eat(2026, 3, 31, 23, 59, 59),
    )  # fmt: skip
    assert preamble.labels["Report Time"] == "01-04-2026 09:12:44"
    first = lines(statement)[0]
    assert first == StatementLine(
        row=8,
        receipt="SCV7K2M4QX",
        completed_at=eat(2026, 3, 31, 17, 42, 10),
        initiated_at=eat(2026, 3, 31, 17, 42, 8),
        details="Pay Bill Online from 2547******311 - PETER KAMAU Acc. NS0112",
        status="Completed",
        completed=True,
        paid_in=Decimal("15000.00"),
        withdrawn=Decimal("0.00"),
        balance=Decimal("103980.50"),
        balance_confirmed=True,
        reason_type="Pay Bill Online",
        other_party="2547******311 - PETER KAMAU",
        payer_msisdn="2547******311",
        payer_name="PETER KAMAU",
        linked_receipt="",
        account="NS0112",
        currency="",
        kind=LineKind.PAYMENT,
        kind_reason="customer payment: 'Pay Bill Online'",
        raw=first.raw,
    )
    assert first.raw[:2] == ("SCV7K2M4QX", "31-03-2026 17:42:10")
    assert first.raw[5] == "15,000.00"


def test_lines_that_are_not_completed_are_kept_and_marked():
    statuses = [(line.receipt, line.status, line.completed) for line in
                lines(fixture("classic_separate_period.csv")) if not line.completed]  # fmt: skip
    assert statuses == [("SCV7K1P8ZD", "Failed", False), ("SCU6J7H3LM", "Cancelled", False)]


def test_accounts_are_kept_as_typed():
    accounts = [line.account for line in lines(fixture("classic_separate_period.csv"))]
    assert accounts == ["NS0112", "ns 0045", "NS0207", "NS0078LOAN", "NS0001", "NS0150"]


def test_the_period_can_be_one_from_to_cell_as_the_emulator_writes_it():
    statement = fixture("classic_one_cell_period.csv")
    assert (statement.preamble.period_start, statement.preamble.period_end) == (
        eat(2026, 4, 9), eat(2026, 4, 10, 23, 59, 59),
    )  # fmt: skip
    read = lines(statement)
    assert [(line.receipt, line.paid_in, line.kind) for line in read] == [
        ("SD12FG7HJK", Decimal("1500.00"), LineKind.PAYMENT),
        ("SD11AB3CDE", Decimal("750.00"), LineKind.PAYMENT),
        ("SD10XY9ZQW", Decimal("10000.00"), LineKind.PAYMENT),
    ]
    assert read[1].account == "NS0290DEP"


def test_the_fuller_preamble_states_totals_and_the_statement_adds_up():
    statement = fixture("full_preamble_totals.csv")
    preamble = statement.preamble
    assert preamble.shortcode == "600984"
    assert preamble.organisation == "NENO SACCO SOCIETY LTD"
    assert preamble.labels["Operator"] == "jkariuki"
    assert (preamble.opening_balance, preamble.closing_balance, preamble.available_balance) == (
        Decimal("58340.25"), Decimal("95358.25"), Decimal("94858.25"),
    )  # fmt: skip
    assert (preamble.total_paid_in, preamble.total_withdrawn) == (
        Decimal("80300.00"), Decimal("43282.00"),
    )  # fmt: skip
    proof = statement_proof(statement)
    assert proof.complete, proof.discrepancies
    assert (proof.paid_in, proof.withdrawn, proof.order) == (
        Decimal("80300.00"), Decimal("43282.00"), "newest first",
    )  # fmt: skip
    assert "Total Paid In" in proof.checked and "running Balance (newest first)" in proof.checked


def test_every_kind_of_line_is_classified_with_its_reason():
    read = lines(fixture("full_preamble_totals.csv"))
    kinds = {(line.receipt, line.kind) for line in read}
    assert ("SE97QW1ERT", LineKind.TRANSFER) in kinds  # the sweep's two lines share a receipt
    assert [line.kind for line in read if line.receipt == "SE97QW1ERT"] == [LineKind.TRANSFER] * 2
    reversal = next(line for line in read if line.kind is LineKind.REVERSAL)
    assert (reversal.linked_receipt, reversal.withdrawn) == ("SE88ZX4CVB", Decimal("2000.00"))
    assert reversal.kind_reason == "reversal of SE88ZX4CVB: 'Reversal'"
    schemes = next(line for line in read if line.account == "Schemes")
    assert schemes.kind is LineKind.OTHER
    assert "Schemes" in schemes.kind_reason
    charges = [line for line in read if line.kind is LineKind.CHARGE]
    payments = [line for line in read if line.kind is LineKind.PAYMENT]
    assert {line.receipt for line in charges} <= {line.receipt for line in payments}
    assert len(charges) == 6


@pytest.mark.parametrize(
    ("receipt", "described", "payer_msisdn", "payer_name", "account"),
    [
        ("SE95PO3IUY", "FSI to Pay Bill", "", "EQUITY BANK", "NS0412"),
        ("SE94MN5BVC", "Business Pay Bill via API", "", "KCB BANK KENYA", "NS0007"),
        ("SE93LK7JHF", "Merchant Pay Utility Received", "2547******821", "ANN MUTHONI", "NS0099"),
        ("SE91HG6TRE", "Small Business Pay Bill", "2547******338", "HASSAN ALI", "NS0310"),
        ("SE89RE4WQA", "Pay Bill Online", "2547******709", "BRIAN OCHIENG", "NS0181"),
        ("SE88ZX4CVB", "Pay Bill", "2547******552", "DAVID MWANGI", "NS9999"),
    ],
)
def test_each_way_a_customer_pays_is_a_payment(
    receipt: str, described: str, payer_msisdn: str, payer_name: str, account: str
):
    line = next(
        line for line in lines(fixture("full_preamble_totals.csv"))
        if line.receipt == receipt and line.kind is LineKind.PAYMENT
    )  # fmt: skip
    assert line.kind_reason == f"customer payment: {described!r}"
    assert (line.payer_msisdn, line.payer_name, line.account) == (payer_msisdn, payer_name, account)


def test_a_currency_column_and_negative_withdrawals():
    statement = fixture("currency_negative_withdrawn.csv")
    assert statement.columns == (*FULL_COLUMNS, "Currency")
    assert statement.preamble.total_withdrawn == Decimal("20023.00")  # written -20023.00
    read = lines(statement)
    assert {line.currency for line in read} == {"KES"}
    assert [line.withdrawn for line in read if line.withdrawn] == [
        Decimal("23.00"), Decimal("20000.00"),
    ]  # fmt: skip
    assert read[0].raw[6] == "-23.00"
    assert read[0].completed_at == eat(2026, 5, 3, 14, 2, 11)  # YYYY-MM-DD times
    assert statement_proof(statement).complete


def test_the_newer_download_has_no_preamble_and_the_payer_only_in_details():
    statement = fixture("newer_no_preamble.csv")
    assert statement.header_row == 1
    assert statement.columns == (
        "Receipt No.", "Completion Time", "Details", "Transaction Status", "Paid In",
        "Withdrawn", "Balance",
    )  # fmt: skip
    assert statement.header[4] == "Paid In (KSHs)"
    read = lines(statement)
    first = read[0]
    assert (first.payer_msisdn, first.payer_name, first.account, first.other_party) == (
        "2547****376", "JANE **** DOE", "NS0207", "2547****376 - JANE **** DOE",
    )  # fmt: skip
    assert (first.initiated_at, first.currency) == (None, "KES")
    assert read[2].account == "ns0305"
    assert read[1].kind is LineKind.CHARGE


def test_a_statement_without_a_stated_period_covers_its_first_to_its_last_line():
    proof = statement_proof(fixture("newer_no_preamble.csv"))
    assert (proof.period_start, proof.period_end, proof.period_stated) == (
        eat(2026, 6, 11, 7, 2, 19), eat(2026, 6, 12, 20, 14, 33), False,
    )  # fmt: skip
    assert not proof.complete and not proof.discrepancies
    assert proof.notes == (
        "the preamble states neither both totals nor the opening and closing balances: "
        "nothing proves that no line is missing",
    )


def test_day_month_slash_times_and_lines_oldest_first():
    statement = fixture("day_month_slash_oldest_first.csv")
    read = lines(statement)
    assert [line.completed_at for line in read] == [
        eat(2026, 7, 1, 8, 1, 5), eat(2026, 7, 2, 11, 15, 42), eat(2026, 7, 2, 18, 30),
    ]  # fmt: skip
    assert statement.preamble.period_end == eat(2026, 7, 2, 23, 59, 59)  # a date alone
    proof = statement_proof(statement)
    assert (proof.complete, proof.order) == (True, "oldest first")


def test_xlsx_with_real_numbers_and_date_times_reads_like_its_csv():
    statement = fixture("real_numbers_datetimes.xlsx")
    assert statement.format == "xlsx"
    assert statement.preamble.shortcode == "600984"  # a number cell
    assert statement.preamble.period_start == eat(2026, 4, 22)  # a date-time cell
    from_csv = lines(fixture("full_preamble_totals.csv"))
    from_xlsx = lines(statement)
    assert [_facts(line) for line in from_xlsx] == [_facts(line) for line in from_csv]
    assert statement_proof(statement).complete


def test_the_old_excel_97_export_with_full_phone_numbers():
    statement = fixture("excel97_unmasked.xls")
    assert statement.format == "xls"
    read = lines(statement)
    assert read[0].completed_at == eat(2019, 8, 2, 16, 40, 12)
    assert (read[0].payer_msisdn, read[0].payer_name) == ("254722926212", "CYNTHIA OMONDI")
    assert read[2].payer_msisdn == "0733444555"
    assert read[2].paid_in == Decimal("7500.50")
    assert read[2].account == "12345678"  # a number cell, written back without ".0"


def _facts(line: StatementLine) -> tuple[object, ...]:
    """A line without its raw cells, which differ between text and typed formats."""
    return tuple(getattr(line, name) for name in StatementLine.__slots__ if name != "raw")
