"""The XLSX door on workbooks shaped like Excel's own (openpyxl writes only inline strings):
shared strings, prefixed namespaces, date styles, the 1904 date system, gaps."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from decimal import Decimal

import pytest

from reconciliation.statements import LineProblem, StatementError, StatementLine, open_statement
from reconciliation.statements.cells import EAT

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
HEADER = (
    "Receipt No.", "Completion Time", "Details", "Transaction Status", "Paid In", "Withdrawn",
    "Balance", "A/C No.",
)  # fmt: skip
STRINGS = (*HEADER, "SCV7K2M4QX", "Pay Bill from 2547****376 - JANE DOE Acc. NS0207", "Completed")


def workbook(sheet_data: str, *, date1904: bool = False, prefix: str = "x:") -> bytes:
    """A workbook as Excel writes one: shared strings, a prefixed namespace, styles where
    style 1 is a custom date-time format and style 2 the built-in date 14."""
    p = prefix
    ns = f'xmlns:{p[:-1]}="{MAIN}"' if p else f'xmlns="{MAIN}"'
    strings = "".join(
        f"<{p}si><{p}r><{p}t>{s[:3]}</{p}t></{p}r><{p}r><{p}t>{s[3:]}</{p}t></{p}r>"
        f"<{p}rPh sb='0' eb='1'><{p}t>PHONETIC</{p}t></{p}rPh></{p}si>"
        for s in STRINGS
    )
    parts = {
        "xl/workbook.xml": f'<{p}workbook {ns} xmlns:r="{RELS}">'
        f'<{p}workbookPr date1904="{int(date1904)}"/><{p}sheets>'
        f'<{p}sheet name="Statement" sheetId="1" r:id="rId1"/></{p}sheets></{p}workbook>',
        "xl/_rels/workbook.xml.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/'
        'package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{RELS}/worksheet" Target="/xl/worksheets/data.xml"/>'
        f'<Relationship Id="rId2" Type="{RELS}/sharedStrings" Target="strings.xml"/>'
        f'<Relationship Id="rId3" Type="{RELS}/styles" Target="styles.xml"/></Relationships>',
        "xl/strings.xml": f"<{p}sst {ns}>{strings}</{p}sst>",
        "xl/styles.xml": f'<{p}styleSheet {ns}><{p}numFmts><{p}numFmt numFmtId="164" '
        f'formatCode="dd\\-mm\\-yyyy\\ hh:mm:ss"/><{p}numFmt numFmtId="165" '
        f'formatCode="&quot;day&quot;\\ 0.00"/></{p}numFmts><{p}cellXfs>'
        f'<{p}xf numFmtId="0"/><{p}xf numFmtId="164"/><{p}xf numFmtId="14"/>'
        f'<{p}xf numFmtId="165"/></{p}cellXfs></{p}styleSheet>',
        "xl/worksheets/data.xml": f"<{p}worksheet {ns}><{p}sheetData>{sheet_data}"
        f"</{p}sheetData></{p}worksheet>",
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return out.getvalue()


def header_row(p: str = "x:", row: int = 1) -> str:
    cells = "".join(
        f'<{p}c r="{chr(65 + i)}{row}" t="s"><{p}v>{i}</{p}v></{p}c>' for i in range(len(HEADER))
    )
    return f'<{p}row r="{row}">{cells}</{p}row>'


def line_row(row: int, completion: str, *, p: str = "x:", style: int = 1) -> str:
    return (
        f'<{p}row r="{row}"><{p}c r="A{row}" t="s"><{p}v>8</{p}v></{p}c>'
        f'<{p}c r="B{row}" s="{style}"><{p}v>{completion}</{p}v></{p}c>'
        f'<{p}c r="C{row}" t="s"><{p}v>9</{p}v></{p}c>'
        f'<{p}c r="D{row}" t="s"><{p}v>10</{p}v></{p}c>'
        f'<{p}c r="E{row}" s="3"><{p}v>1020.5</{p}v></{p}c>'  # "day" 0.00 is no date format
        f'<{p}c r="G{row}"><{p}v>-3</{p}v></{p}c>'  # F, Withdrawn, skipped: empty
        f'<{p}c r="H{row}" t="inlineStr"><{p}is><{p}t>NS0207</{p}t></{p}is></{p}c></{p}row>'
    )


@pytest.mark.parametrize("prefix", ["x:", ""])
def test_shared_strings_date_styles_and_skipped_cells_and_rows(prefix: str):
    data = workbook(
        header_row(prefix, 2) + line_row(5, "46112.5", p=prefix), prefix=prefix
    )  # rows 1, 3 and 4 are not in the file
    statement = open_statement(data)
    assert statement.format == "xlsx" and statement.header_row == 2
    [line] = list(statement.rows())
    assert isinstance(line, StatementLine)
    assert line.row == 5
    assert line.receipt == "SCV7K2M4QX"  # rich-text runs joined, the phonetic hint left out
    assert line.completed_at == datetime(2026, 3, 31, 12, tzinfo=EAT)
    assert (line.paid_in, line.withdrawn, line.balance) == (
        Decimal("1020.50"), Decimal("0.00"), Decimal("-3.00"),
    )  # fmt: skip
    assert (line.account, line.payer_name) == ("NS0207", "JANE DOE")


def test_the_1904_date_system():
    data = workbook(header_row() + line_row(2, "44650.5"), date1904=True)
    [line] = list(open_statement(data).rows())
    assert isinstance(line, StatementLine)
    assert line.completed_at == datetime(2026, 3, 31, 12, tzinfo=EAT)


@pytest.mark.parametrize(
    ("cell", "completed_at"),
    [
        ('t="d"><x:v>2026-03-31T12:00:00</x:v>', datetime(2026, 3, 31, 12, tzinfo=EAT)),
        ('s="2"><x:v>46112</x:v>', datetime(2026, 3, 31, tzinfo=EAT)),  # built-in date 14
        ('t="str"><x:f>A1</x:f><x:v>31-03-2026 12:00</x:v>', datetime(2026, 3, 31, 12, tzinfo=EAT)),
    ],
)  # fmt: skip
def test_other_ways_a_time_is_stored(cell: str, completed_at: datetime):
    sheet = header_row() + line_row(2, "0").replace('s="1"><x:v>0</x:v>', cell)
    [line] = list(open_statement(workbook(sheet)).rows())
    assert isinstance(line, StatementLine) and line.completed_at == completed_at


def test_booleans_and_errors_are_cells_too():
    sheet = header_row() + line_row(2, "46112.5").replace(
        '<x:c r="E2" s="3"><x:v>1020.5</x:v></x:c>', '<x:c r="E2" t="e"><x:v>#N/A</x:v></x:c>'
    ).replace('<x:c r="G2"><x:v>-3</x:v></x:c>', '<x:c r="G2" t="b"><x:v>1</x:v></x:c>')
    [problem] = list(open_statement(workbook(sheet)).rows())
    assert isinstance(problem, LineProblem)
    assert problem.reason == "Paid In '#N/A' is not an amount; Balance 'TRUE' is not an amount"


def test_a_workbook_without_sheets():
    data = workbook("")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            text = source.read(item)
            if item.filename == "xl/workbook.xml":
                text = text.replace(b'r:id="rId1"', b'r:id="rId9"')
            target.writestr(item, text)
    with pytest.raises(StatementError, match="has no worksheet"):
        open_statement(out.getvalue())


def test_a_shared_string_index_out_of_range():
    sheet = header_row() + line_row(2, "46112.5").replace("<x:v>9</x:v>", "<x:v>99</x:v>")
    with pytest.raises(StatementError, match="cannot be read: list index out of range"):
        list(open_statement(workbook(sheet)).rows())
