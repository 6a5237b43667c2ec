"""The door for CSV statements: bytes in, rows of text out.

The encoding is read from the file: a UTF-8 or UTF-16 byte-order mark (if the rest decodes),
else UTF-8 if the bytes are valid UTF-8, else Windows-1252 (Excel's "CSV" on Windows), else
Latin-1, which reads any bytes. The delimiter is whichever of comma, semicolon or tab yields a
header row (comma first). Rows are counted as a spreadsheet counts them: one per record, blank
lines included.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io

from reconciliation.statements.model import StatementError
from reconciliation.statements.source import Rows, RowSource

DELIMITERS = (",", ";", "\t")
_CHUNK = 1 << 20


def csv_sources(data: bytes) -> list[RowSource]:
    """One source per delimiter to try, all reading ``data`` in the encoding it is in."""
    encoding = _encoding(data)
    return [functools.partial(_rows, data, encoding, d) for d in DELIMITERS]


def _encoding(data: bytes) -> str:
    candidates = ["utf-8", "cp1252"]
    if data.startswith(codecs.BOM_UTF8):
        candidates.insert(0, "utf-8-sig")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates.insert(0, "utf-16")
    for encoding in candidates:
        if _decodes(data, encoding):
            return encoding
    return "latin-1"


def _decodes(data: bytes, encoding: str) -> bool:
    """Whether all of ``data`` decodes, checked a chunk at a time (no second copy of a big
    file in memory)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for start in range(0, len(data), _CHUNK):
            decoder.decode(data[start : start + _CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _rows(data: bytes, encoding: str, delimiter: str) -> Rows:
    text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    reader = csv.reader(text, delimiter=delimiter)
    try:
        yield from reader
    except csv.Error as error:  # a field over csv's size limit: no statement has one
        raise StatementError(
            f"line {reader.line_num} of the file cannot be read as CSV ({error})"
        ) from None
