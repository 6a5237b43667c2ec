"""The door for Excel 97 statements (``.xls``, the portal's older export), read with xlrd.

xlrd reads the whole sheet into memory; an ``.xls`` sheet holds at most 65,536 rows, so that
stays bounded. Date cells become date-times (naive: the shared reader takes them as EAT),
numbers floats, errors their Excel text (``#N/A``). Every sheet is a source, first to last.
"""

from __future__ import annotations

import functools
import io
from typing import Any

import xlrd
from xlrd.biffh import error_text_from_code

from reconciliation.statements.cells import Cell
from reconciliation.statements.model import StatementError
from reconciliation.statements.source import Rows, RowSource


def xls_sources(data: bytes) -> list[RowSource]:
    """One source per worksheet. Raises ``StatementError`` when ``data`` is no Excel 97
    workbook."""
    book = _open(data)
    try:
        count = book.nsheets
    finally:
        book.release_resources()
    return [functools.partial(_rows, data, index) for index in range(count)]


def _open(data: bytes) -> Any:
    try:
        return xlrd.open_workbook(
            file_contents=data, on_demand=True, logfile=io.StringIO(), verbosity=0
        )
    except Exception as error:  # xlrd raises many kinds; each means the same to staff
        raise StatementError(
            "the file cannot be read as an Excel 97 workbook (.xls): "
            f"{str(error) or type(error).__name__}; open it in Excel and save it as XLSX or CSV"
        ) from None


def _rows(data: bytes, index: int) -> Rows:
    book = _open(data)
    try:
        try:
            sheet = book.sheet_by_index(index)
        except Exception as error:
            raise StatementError(
                f"sheet {index + 1} of the Excel 97 workbook cannot be read: "
                f"{str(error) or type(error).__name__}; save it as XLSX or CSV"
            ) from None
        for number in range(sheet.nrows):
            yield [_value(cell, book.datemode) for cell in sheet.row(number)]
    finally:
        book.release_resources()


def _value(cell: Any, datemode: int) -> Cell:
    kind = cell.ctype
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if kind == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate.xldate_as_datetime(cell.value, datemode)
        except Exception:  # a date cell outside Excel's calendar: leave the number
            return cell.value
    if kind == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    if kind == xlrd.XL_CELL_ERROR:
        return error_text_from_code.get(cell.value, "#ERROR")
    return cell.value
