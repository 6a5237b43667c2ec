"""Writing statements as spreadsheets, the way Excel and the portal store them, for the tests.

Cells keep their Python type: ``str`` is text, ``Decimal``/``int``/``float`` a number,
``datetime`` a date-time cell formatted ``dd-mm-yyyy hh:mm:ss``.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

import openpyxl
import xlwt

Value = str | int | float | Decimal | datetime | None
PORTAL_TIME = "dd-mm-yyyy hh:mm:ss"


def xlsx_bytes(rows: Iterable[Sequence[Value]], *, sheets_before: int = 0) -> bytes:
    """An XLSX workbook whose first sheet (after ``sheets_before`` empty ones) holds ``rows``;
    written in write-only mode so that 100,000 rows do not need 100,000 cell objects."""
    book = openpyxl.Workbook(write_only=True)
    for number in range(sheets_before):
        book.create_sheet(f"Notes {number + 1}").append(["Nothing here"])
    sheet = book.create_sheet("Statement")
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_cell(sheet: object, value: Value) -> object:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        cell = openpyxl.cell.WriteOnlyCell(sheet, value=value)
        cell.number_format = PORTAL_TIME
        return cell
    return value


def xls_bytes(rows: Iterable[Sequence[Value]]) -> bytes:
    """An Excel 97 workbook with ``rows`` on its only sheet."""
    book = xlwt.Workbook()
    sheet = book.add_sheet("Statement")
    dated = xlwt.easyxf(num_format_str=PORTAL_TIME)
    for y, row in enumerate(rows):
        for x, value in enumerate(row):
            if isinstance(value, datetime):
                sheet.write(y, x, value, dated)
            elif isinstance(value, Decimal):
                sheet.write(y, x, float(value))
            elif value is not None:
                sheet.write(y, x, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
