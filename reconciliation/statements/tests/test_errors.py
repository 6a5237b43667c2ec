"""Bad input: a clear StatementError for what is no statement, a LineProblem with its row
number for a row that cannot be read (the rest still read), and nothing lost."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from reconciliation.statements import (
    LineProblem,
    StatementError,
    StatementLine,
    open_statement,
    statement_proof,
)
from reconciliation.statements.tests.workbooks import xls_bytes, xlsx_bytes

FIXTURES = Path(__file__).parent / "fixtures"
HEADER = (
    "Receipt No.,Completion Time,Initiation Time,Details,Transaction Status,Paid In,Withdrawn,"
    "Balance,Balance Confirmed,Reason Type,Other Party Info,Linked Transaction ID,A/C No.\n"
)
GOOD = (
    "SCV7K2M4QX,31-03-2026 17:42:10,31-03-2026 17:42:08,Pay Bill Online,Completed,"
    '"1,000.00",,"5,000.00",true,Pay Bill Online,2547******311 - PETER KAMAU,,NS0112\n'
)


def refused(data: bytes, filename: str = "") -> str:
    with pytest.raises(StatementError) as error:
        open_statement(data, filename=filename)
    return str(error.value)


def read(text: str) -> list[StatementLine | LineProblem]:
    return list(open_statement(text.encode()).rows())


# --- files that are no statement --------------------------------------------------------


def test_an_empty_file():
    assert refused(b"") == "the file is empty"


def test_a_csv_without_the_header_row_names_the_columns_looked_for():
    message = refused(b"member_number,name,phone\nNS0001,John Kamau,0712345678\n")
    assert message == (
        "no header row with Receipt No., Completion Time, Transaction Status, Paid In, "
        "Withdrawn in the first 1,000 rows: this does not look like an M-Pesa statement"
    )


def test_the_closest_row_is_named_with_what_it_lacks():
    message = refused(b"Organization Name:,NENO\nReceipt No.,Completion Time,Details,Paid In\n")
    assert message.endswith("(the closest, row 2, lacks Transaction Status, Withdrawn)")


def test_a_header_below_the_first_thousand_rows_is_not_looked_for():
    assert "first 1,000 rows" in refused(b"note\n" * 1000 + HEADER.encode() + GOOD.encode())


def test_a_pdf_statement():
    assert refused(b"%PDF-1.7\n...", "statement.pdf").startswith(
        "this is a PDF statement, which cannot be read: download the statement"
    )


def test_a_web_page_named_xls():
    message = refused(b"\xef\xbb\xbf  <html><table><tr><td>Receipt No.</td></tr></table>")
    assert "web page or XML" in message and "save it as XLSX or CSV" in message


def test_a_zip_that_is_no_workbook():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hello")
    assert refused(out.getvalue()).startswith("the file cannot be read as an Excel workbook")


def test_a_truncated_xlsx():
    data = (FIXTURES / "real_numbers_datetimes.xlsx").read_bytes()
    assert refused(data[: len(data) // 2]) == (
        "the file is damaged or not an Excel workbook (XLSX): download it again"
    )


def test_a_damaged_excel_97_file_says_to_save_it_as_xlsx_or_csv():
    data = (FIXTURES / "excel97_unmasked.xls").read_bytes()
    message = refused(data[:600])
    assert message.startswith("the file cannot be read as an Excel 97 workbook (.xls)")
    assert message.endswith("open it in Excel and save it as XLSX or CSV")


def test_a_workbook_without_a_header_row():
    assert refused(xlsx_bytes([["Members"], ["NS0001", "John"]])).startswith("no header row")
    assert refused(xls_bytes([["Members"], ["NS0001", "John"]])).startswith("no header row")


def test_a_csv_with_a_field_beyond_csv_limits():
    message = refused(b'"' + b"x" * 200_000 + b'"\n')
    assert message.startswith("line 1 of the file cannot be read as CSV (field larger than")


# --- where the statement is found ---------------------------------------------------------


def test_the_statement_may_be_on_a_later_sheet():
    rows = [line.split(",") for line in (HEADER + GOOD).splitlines()]
    statement = open_statement(xlsx_bytes(rows, sheets_before=2))
    assert (statement.header_row, len(list(statement.rows()))) == (1, 1)


def test_a_semicolon_separated_csv():
    text = HEADER + GOOD.replace('"1,000.00"', "1000.00").replace('"5,000.00"', "5000.00")
    [line] = read(text.replace(",", ";"))
    assert isinstance(line, StatementLine) and line.paid_in == Decimal("1000.00")


@pytest.mark.parametrize("encoding", ["utf-16", "cp1252", "utf-8-sig"])
def test_csv_in_the_encodings_excel_saves(encoding: str):
    text = HEADER + GOOD.replace("PETER KAMAU", "PETER KAMAÜ")
    [line] = open_statement(text.encode(encoding)).rows()
    assert isinstance(line, StatementLine) and line.payer_name == "PETER KAMAÜ"


def test_bytes_in_no_known_encoding_are_read_as_latin_1_and_lose_nothing():
    data = (HEADER + GOOD).encode().replace(b"PETER", b"PET\x81R")
    [line] = open_statement(data).rows()
    assert isinstance(line, StatementLine) and line.payer_name == "PET\x81R KAMAU"


# --- rows that cannot be read ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (GOOD.replace("SCV7K2M4QX", ""), "no Receipt No."),
        (GOOD.replace("SCV7K2M4QX", "SCV7-K2M4"),
         "Receipt No. 'SCV7-K2M4' is not a receipt number"),
        (GOOD.replace("31-03-2026 17:42:10", "31-02-2026 17:42:10"),
         "Completion Time '31-02-2026 17:42:10' is no such date and time"),
        (GOOD.replace("31-03-2026 17:42:10", ""), "no Completion Time"),
        (GOOD.replace("31-03-2026 17:42:08", "soon"),
         "Initiation Time 'soon' is not a date and time"),
        (GOOD.replace("Completed", ""), "no Transaction Status"),
        (GOOD.replace('"1,000.00"', "ten"), "Paid In 'ten' is not an amount"),
        (GOOD.replace('"1,000.00"', "-5.00"), "Paid In -5.00 is negative"),
        (GOOD.replace('"1,000.00",', '"1,000.00",1.001'),
         "Withdrawn '1.001' is not a whole number of cents"),
        (GOOD.replace('"5,000.00"', "lots"), "Balance 'lots' is not an amount"),
    ],
)  # fmt: skip
def test_a_row_that_cannot_be_read_is_reported_and_the_rest_still_read(bad: str, reason: str):
    items = read(HEADER + GOOD + bad + GOOD.replace("SCV7K2M4QX", "SCV7K2M4QY"))
    assert [type(item) for item in items] == [StatementLine, LineProblem, StatementLine]
    problem = items[1]
    assert isinstance(problem, LineProblem)
    assert (problem.row, problem.reason) == (3, reason)
    assert problem.raw[0] == bad.split(",")[0]


def test_every_reason_a_row_fails_is_given():
    bad = GOOD.replace("SCV7K2M4QX", "").replace('"1,000.00"', "ten")
    [problem] = read(HEADER + bad)
    assert isinstance(problem, LineProblem)
    assert problem.reason == "no Receipt No.; Paid In 'ten' is not an amount"


def test_blank_rows_and_a_repeated_header_are_passed_over_and_rows_keep_file_numbers():
    items = read("Short Code:,600984\n" + HEADER + GOOD + ",,,\n\n" + HEADER + GOOD)
    assert [item.row for item in items] == [3, 7]


def test_a_footer_is_reported_not_dropped():
    items = read(HEADER + GOOD + 'Total,,,,,"1,000.00"\n')
    problem = items[-1]
    assert isinstance(problem, LineProblem)
    assert (problem.row, problem.raw) == (3, ("Total", "", "", "", "", "1,000.00"))
    assert statement_proof(open_statement((HEADER + GOOD + "Total\n").encode())).problems == 1


def test_a_preamble_figure_that_cannot_be_read_is_a_discrepancy():
    text = "Opening Balance:,abc,Closing Balance:,5000.00\nTime Period:,sometime\n" + HEADER + GOOD
    statement = open_statement(text.encode())
    assert statement.preamble.problems == (
        "Opening Balance: 'abc' is not an amount",
        "Time Period: 'sometime' is not a period from one time to another",
    )
    assert statement.preamble.opening_balance is None
    proof = statement_proof(statement)
    assert not proof.complete
    assert proof.discrepancies[:2] == statement.preamble.problems


def test_a_period_bound_that_cannot_be_read():
    text = "Time Period:,From,01-13-2026,To,31-01-2026\n" + HEADER + GOOD
    preamble = open_statement(text.encode()).preamble
    assert preamble.problems == ("Time Period: '01-13-2026' is no such date and time",)
    assert preamble.period_start is None and preamble.period_end is not None


def test_an_xlsx_damaged_below_its_header_raises_while_reading_rows():
    rows = [line.split(",") for line in (HEADER + GOOD * 20_000).splitlines()]
    data = bytearray(xlsx_bytes(rows))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        sheet = archive.getinfo("xl/worksheets/sheet1.xml")
    local = sheet.header_offset
    name_length = int.from_bytes(data[local + 26 : local + 28], "little")
    extra_length = int.from_bytes(data[local + 28 : local + 30], "little")
    start = local + 30 + name_length + extra_length
    middle = start + sheet.compress_size * 3 // 4
    data[middle : middle + 256] = bytes(256)
    statement = open_statement(bytes(data))  # the header, at the top, is still readable
    with pytest.raises(StatementError, match=r"^the Excel workbook \(XLSX\) cannot be read: "):
        list(statement.rows())
