"""CSV and XLSX exports of the filtered set: the export_transactions columns, nothing runnable."""

import csv
import io

import pytest
from openpyxl import load_workbook

from c2b.exports import EXPORT_HEADER

pytestmark = pytest.mark.django_db

HOSTILE = {
    "bill_ref_number": '=HYPERLINK("http://evil","x")',
    "first_name": "+SUM(A1)",
    "middle_name": "-2+3",
    "last_name": "@cmd",
}


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text)))


def test_csv_streams_the_filtered_set_with_the_export_columns(staff_client, make_payment, till):
    make_payment(at="2026-11-27 14:30:15", trans_id="TKR3XYZ9AB")
    make_payment(at="2026-11-20 09:00:00", trans_id="TKOLDER001")
    make_payment(at="2026-11-27 15:00:00", trans_id="TKTILL0001", shortcode=till)
    response = staff_client.get(
        "/transactions/export.csv", {"since": "2026-11-25", "shortcode": "600984"}
    )
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="neno-payments-')
    rows = csv_rows(response)
    assert rows[0] == EXPORT_HEADER
    assert rows[1] == [
        "TKR3XYZ9AB",
        "Pay Bill",
        "2026-11-27T14:30:15+03:00",
        "1500.00",
        "600984",
        "NS 00123",
        "",
        "49197.00",
        "",
        "2547 ***** 126",
        "JOHN",
        "",
        "",
        "callback",
        "",
    ]
    assert len(rows) == 2


def test_csv_applies_the_search_too(staff_client, make_payment):
    make_payment(trans_id="TKWANTED01", bill_ref_number="NS 00777")
    make_payment(trans_id="TKOTHER001")
    rows = csv_rows(staff_client.get("/transactions/export.csv", {"q": "NS 00777"}))
    assert [row[0] for row in rows[1:]] == ["TKWANTED01"]


def test_csv_neutralises_cells_a_spreadsheet_would_run(staff_client, make_payment):
    make_payment(**HOSTILE)
    row = csv_rows(staff_client.get("/transactions/export.csv"))[1]
    assert row[5] == "'" + HOSTILE["bill_ref_number"]
    assert row[10] == "'+SUM(A1)"
    assert row[11] == "'-2+3"
    assert row[12] == "'@cmd"


def test_csv_of_an_empty_set_is_just_the_header(staff_client, db):
    assert csv_rows(staff_client.get("/transactions/export.csv")) == [EXPORT_HEADER]


@pytest.mark.parametrize("url", ["/transactions/export.csv", "/transactions/export.xlsx"])
def test_exports_refuse_a_filter_that_makes_no_sense(staff_client, db, url):
    response = staff_client.get(url, {"since": "not a date"})
    assert response.status_code == 400
    assert b"filter is not valid" in response.content


def load_sheet(response):
    content = b"".join(response.streaming_content)
    return load_workbook(io.BytesIO(content)).active, content


def test_xlsx_has_the_same_columns_with_real_numbers_and_eat_times(staff_client, make_payment):
    make_payment(at="2026-11-27 14:30:15", trans_id="TKR3XYZ9AB", amount="1500.50")
    response = staff_client.get("/transactions/export.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"].startswith('attachment; filename="neno-payments-')
    sheet, _ = load_sheet(response)
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == EXPORT_HEADER
    assert rows[1][0] == "TKR3XYZ9AB"
    assert str(rows[1][2]) == "2026-11-27 14:30:15"
    assert rows[1][3] == 1500.5
    assert rows[1][7] == 49197


def test_xlsx_cells_are_text_never_formulas(staff_client, make_payment):
    make_payment(**HOSTILE)
    sheet, content = load_sheet(staff_client.get("/transactions/export.xlsx"))
    row = list(sheet.iter_rows())[1]
    assert all(cell.data_type != "f" for cell in row)
    assert row[5].value == "'" + HOSTILE["bill_ref_number"]
    assert row[10].value == "'+SUM(A1)"
    assert row[12].value == "'@cmd"
    import zipfile

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml


def test_xlsx_refuses_more_rows_than_its_limit_and_points_to_csv(
    staff_client, make_payment, settings
):
    settings.STAFF_XLSX_MAX_ROWS = 2
    for _ in range(3):
        make_payment()
    response = staff_client.get("/transactions/export.xlsx")
    assert response.status_code == 400
    assert "More than 2 payments match" in response.content.decode()
    assert "CSV export" in response.content.decode()
    settings.STAFF_XLSX_MAX_ROWS = 3
    assert staff_client.get("/transactions/export.xlsx").status_code == 200
