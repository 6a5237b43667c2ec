"""Properties of the reader and the proof, for statements Hypothesis makes up.

- Any statement, in any style the portal has used, written as CSV, XLSX or XLS, reads back to
  the same lines, which are the lines written.
- Whatever bytes come in, nothing but ``StatementError`` comes out.
- When the totals are stated, a deleted or edited Completed line is always caught.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reconciliation.statements import (
    LineKind,
    LineProblem,
    StatementError,
    StatementLine,
    open_statement,
    statement_proof,
)
from reconciliation.statements.cells import EAT
from reconciliation.statements.tests.generate import (
    PREAMBLES,
    TIME_FORMATS,
    Line,
    Style,
    balances,
    charge,
    csv_bytes,
    payment,
    rows,
)
from reconciliation.statements.tests.workbooks import xls_bytes, xlsx_bytes

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

receipts = st.from_regex(r"\A[A-Z][A-Z0-9]{9}\Z")
amounts = st.integers(min_value=1, max_value=10**10).map(lambda cents: Decimal(cents) / 100)
starts = st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2030, 1, 1)).map(
    lambda moment: moment.replace(microsecond=0, tzinfo=EAT)
)


@st.composite
def statements(draw: st.DrawFn, *, min_size: int = 1) -> list[Line]:
    """Lines in time order: payments (some failed), each perhaps with its charge, and sweeps."""
    at = draw(starts)
    lines: list[Line] = []
    for _ in range(draw(st.integers(min_value=min_size, max_value=12))):
        at += timedelta(seconds=draw(st.integers(min_value=0, max_value=86_400)))
        receipt, amount = draw(receipts), draw(amounts)
        shape = draw(st.sampled_from(["payment", "failed", "charged", "sweep"]))
        if shape == "sweep":
            moved = replace(payment(receipt, at, amount), account="", other_party="")
            details = "Utility Account to Organization Settlement Account"
            lines.append(replace(moved, details=details, reason_type="Organization Settlement"))
            lines.append(charge(lines[-1], amount))
            lines[-1] = replace(lines[-1], details=details, reason_type="Organization Settlement")
            continue
        line = payment(receipt, at, amount, status="Failed" if shape == "failed" else "Completed")
        lines.append(line)
        if shape == "charged":
            lines.append(charge(line, draw(amounts)))
    return lines


styles = st.builds(
    Style,
    preamble=st.sampled_from(PREAMBLES),
    times=st.sampled_from(sorted(TIME_FORMATS)),
    separators=st.booleans(),
    negative_withdrawals=st.booleans(),
    currency_column=st.booleans(),
    newest_first=st.booleans(),
)
openings = st.integers(min_value=-(10**9), max_value=10**10).map(lambda c: Decimal(c) / 100)


def read(data: bytes) -> list[StatementLine]:
    items = list(open_statement(data).rows())
    assert not [item for item in items if isinstance(item, LineProblem)], items
    return items  # type: ignore[return-value]


def facts(line: StatementLine) -> tuple[object, ...]:
    return tuple(getattr(line, name) for name in StatementLine.__slots__ if name != "raw")


@EXAMPLES
@given(lines=statements(), style=styles, opening=openings, typed=st.booleans())
def test_csv_xlsx_and_xls_read_back_the_lines_written(
    lines: list[Line], style: Style, opening: Decimal, typed: bool
):
    as_csv = read(csv_bytes(rows(lines, style, opening=opening)))
    spreadsheet = replace(style, typed=typed)
    as_xlsx = read(xlsx_bytes(rows(lines, spreadsheet, opening=opening)))
    as_xls = read(xls_bytes(rows(lines, spreadsheet, opening=opening)))
    assert [facts(line) for line in as_xlsx] == [facts(line) for line in as_csv]
    assert [facts(line) for line in as_xls] == [facts(line) for line in as_csv]

    written = list(zip(lines, balances(lines, opening), strict=True))
    if style.newest_first:
        written.reverse()
    assert len(as_csv) == len(written)
    for got, (line, balance) in zip(as_csv, written, strict=True):
        assert (got.receipt, got.completed_at, got.status) == (
            line.receipt, line.completed_at, line.status,
        )  # fmt: skip
        assert (got.paid_in, got.withdrawn, got.balance) == (line.paid_in, line.withdrawn, balance)
        assert got.account == line.account
        assert got.kind is (
            LineKind.PAYMENT if line.details.startswith("Pay Bill Online")
            else LineKind.CHARGE if line.details == "Pay Bill Charge"
            else LineKind.TRANSFER
        )  # fmt: skip
        if got.kind is LineKind.PAYMENT:
            assert got.payer_msisdn.startswith("2547******") and got.payer_name == "JANE DOE"

    proof = statement_proof(open_statement(csv_bytes(rows(lines, style, opening=opening))))
    assert proof.discrepancies == ()
    assert proof.complete is (style.preamble == "totals")


def _survives(data: bytes) -> None:
    try:
        statement = open_statement(data, filename="upload")
        statement_proof(statement)
        for _ in statement.rows():
            pass
    except StatementError as error:
        assert str(error)


@EXAMPLES
@given(data=st.binary(max_size=4096))
def test_arbitrary_bytes_raise_nothing_but_statement_error(data: bytes):
    _survives(data)


@EXAMPLES
@given(
    magic=st.sampled_from(
        [b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"%PDF", b"\xff\xfe", b"<"]
    ),
    tail=st.binary(max_size=2048),
)
def test_bytes_that_start_like_a_known_format_raise_nothing_but_statement_error(
    magic: bytes, tail: bytes
):
    _survives(magic + tail)


@EXAMPLES
@given(
    name=st.sampled_from(sorted(p.name for p in FIXTURES.iterdir() if p.suffix != ".py")),
    cut=st.floats(min_value=0, max_value=1),
    flips=st.lists(st.tuples(st.floats(min_value=0, max_value=1), st.integers(0, 255)), max_size=8),
)
def test_damaged_real_files_raise_nothing_but_statement_error(
    name: str, cut: float, flips: list[tuple[float, int]]
):
    data = bytearray((FIXTURES / name).read_bytes())
    for where, value in flips:
        data[int(where * (len(data) - 1))] = value
    _survives(bytes(data[: max(1, int(cut * len(data)))]))


@EXAMPLES
@given(
    lines=statements(min_size=2),
    style=styles.map(lambda s: replace(s, preamble="totals")),
    opening=openings,
    change=st.sampled_from(["delete", "amount", "balance", "status"]),
    which=st.integers(min_value=0),
    delta=amounts,
)
def test_a_deleted_or_edited_completed_line_is_always_caught_when_totals_are_stated(
    lines: list[Line],
    style: Style,
    opening: Decimal,
    change: str,
    which: int,
    delta: Decimal,
):
    table = list(rows(lines, style, opening=opening))
    first = next(i for i, row in enumerate(table) if row and row[0] == "Receipt No.") + 1
    completed = [i for i in range(first, len(table)) if table[i][4] == "Completed"]
    assume(completed)
    at = completed[which % len(completed)]
    row = table[at]
    if change == "delete":
        del table[at]
    elif change == "amount":
        column = 5 if row[5] else 6
        sign = -1 if style.negative_withdrawals and column == 6 else 1
        edited = Decimal(str(row[column]).replace(",", "")) + sign * delta
        row[column] = f"{edited:.2f}"
    elif change == "balance":
        row[7] = f"{Decimal(str(row[7]).replace(',', '')) + delta:.2f}"
    else:
        row[4] = "Failed"
    proof = statement_proof(open_statement(csv_bytes(table)))
    assert not proof.complete
    assert proof.discrepancies
