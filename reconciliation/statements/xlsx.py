"""The door for XLSX statements (Excel 2007 and later), read with openpyxl in read-only mode.

Read-only mode streams the sheet's XML, so memory stays flat however many rows there are. Cells
come as they are stored: text, numbers (floats) and date-times (naive: the shared reader takes
them as EAT). Formulas give their last computed value. Every sheet is a source, first to last:
the statement is on the first sheet that has a header row.
"""

from __future__ import annotations

import functools
import io
import warnings
import zipfile
from typing import Any

import openpyxl

from reconciliation.statements.model import StatementError
from reconciliation.statements.source import Rows, RowSource


def xlsx_sources(data: bytes) -> list[RowSource]:
    """One source per worksheet. Raises ``StatementError`` when ``data`` is no XLSX workbook."""
    book = _open(data)
    try:
        count = len(book.worksheets)
    finally:
        book.close()
    return [functools.partial(_rows, data, index) for index in range(count)]


def _open(data: bytes) -> Any:
    try:
        with warnings.catch_warnings():
            # Files not written by Excel lack a default style; openpyxl warns and reads them.
            warnings.simplefilter("ignore", UserWarning)
            return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except zipfile.BadZipFile:
        raise StatementError(
            "the file is damaged or not an Excel workbook (XLSX): download it again"
        ) from None
    except Exception as error:  # openpyxl raises many kinds; each means the same to staff
        raise StatementError(
            f"the file cannot be read as an Excel workbook (XLSX): {_said(error)}"
        ) from None


def _rows(data: bytes, index: int) -> Rows:
    book = _open(data)
    try:
        sheet = book.worksheets[index]
        # Some writers record wrong sheet dimensions; read what is there instead.
        sheet.reset_dimensions()
        rows = sheet.iter_rows(values_only=True)
        number = 0
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception as error:
                raise StatementError(
                    f"the workbook cannot be read after row {number}: {_said(error)}"
                ) from None
            number += 1
            yield row
    finally:
        book.close()


def _said(error: Exception) -> str:
    return str(error) or type(error).__name__
