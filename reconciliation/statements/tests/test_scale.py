"""A statement streams: reading ten times the lines needs no more memory, and it can be read
again and again from its bytes."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from decimal import Decimal

import pytest

from reconciliation.statements import Statement, open_statement, statement_proof
from reconciliation.statements.tests.generate import Line, Style, csv_bytes, many_lines, rows
from reconciliation.statements.tests.workbooks import xlsx_bytes


def peak_while_reading(statement: Statement) -> int:
    """Bytes allocated at the peak of a proof and an import-like pass (the file's own bytes,
    allocated before, not counted)."""
    tracemalloc.start()
    try:
        statement_proof(statement)
        for _ in statement.rows():
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "write",
    [
        lambda lines: csv_bytes(rows(lines, Style(), opening=Decimal(0))),
        lambda lines: xlsx_bytes(rows(lines, Style(typed=True), opening=Decimal(0))),
    ],
    ids=["csv", "xlsx"],
)
def test_ten_times_the_lines_need_no_more_memory(write: Callable[[list[Line]], bytes]):
    lines = many_lines(5_000)
    small = open_statement(write(lines[:500]))
    large = open_statement(write(lines))
    small_peak, large_peak = peak_while_reading(small), peak_while_reading(large)
    assert large_peak < small_peak * 1.5 + 256 * 1024, (small_peak, large_peak)


def test_a_statement_reads_the_same_every_time():
    statement = open_statement(csv_bytes(rows(many_lines(50), Style(), opening=Decimal(0))))
    first, second = list(statement.rows()), list(statement)
    assert first == second and len(first) == 50
