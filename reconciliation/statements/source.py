"""What every format module hands the shared reader: ways to read a file's rows from the top.

A format module turns the file's bytes into one or more ``RowSource``: a callable that, each
time it is called, reads the rows again from the first (so a statement can be read twice without
being held in memory), yielding each row's cells in order, empty rows included, so that the
n-th row yielded is row n of the file. Several sources mean several readings to try (a CSV's
possible delimiters, a workbook's sheets); the first with a header row wins. A source raises
only ``StatementError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from reconciliation.statements.cells import Cell

Rows = Iterator[Sequence[Cell]]
RowSource = Callable[[], Rows]
