"""Cells: money to the cent as Decimal, times aware in EAT, identifiers as text."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import pytest

from reconciliation.statements.cells import (
    EAT,
    CellError,
    cell_text,
    parse_money,
    parse_time,
)


@pytest.mark.parametrize(
    ("cell", "amount"),
    [
        ("1,020.00", "1020.00"),
        ("1020", "1020.00"),
        ("1,234,567.5", "1234567.50"),
        ("-25.00", "-25.00"),
        ("(1,020.00)", "-1020.00"),
        ("KES 1,020.00", "1020.00"),
        ("Ksh 50", "50.00"),
        (" 7.10 ", "7.10"),
        ("1.500", "1.50"),
        (1020, "1020.00"),
        (1020.1, "1020.10"),
        (0.29, "0.29"),
        (-5.5, "-5.50"),
        (Decimal("3.40"), "3.40"),
    ],
)
def test_amounts_read_to_the_cent(cell: object, amount: str):
    assert parse_money(cell) == Decimal(amount)  # type: ignore[arg-type]
    assert str(parse_money(cell)) == amount  # type: ignore[arg-type]


@pytest.mark.parametrize("cell", [None, "", "  ", "-"])
def test_an_empty_amount_is_none(cell: object):
    assert parse_money(cell) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("1,02.00", "'1,02.00' is not an amount"),
        ("12abc", "'12abc' is not an amount"),
        ("1.005", "'1.005' is not a whole number of cents"),
        (0.1 + 0.2, "'0.30000000000000004' is not a whole number of cents"),
        (float("nan"), "nan is not an amount"),
        (float("inf"), "inf is not an amount"),
        (True, "'TRUE' is not an amount"),
        (datetime(2026, 1, 1), "'2026-01-01 00:00:00' is not an amount"),
        ("-(5.00)", "'-(5.00)' is not an amount"),
        ("(-5.00)", "'(-5.00)' is not an amount"),
        ("1e400", "'1e400' is not an amount"),
        ("9" * 40 + ".5", "is not an amount"),
    ],
)
def test_anything_else_is_refused_not_rounded(cell: object, reason: str):
    with pytest.raises(CellError) as refused:
        parse_money(cell)  # type: ignore[arg-type]
    assert reason in str(refused.value)


@pytest.mark.parametrize(
    ("cell", "moment"),
    [
        ("31-03-2026 17:42:10", datetime(2026, 3, 31, 17, 42, 10)),
        ("2026-03-31 17:42:10", datetime(2026, 3, 31, 17, 42, 10)),
        ("31/03/2026 17:42:10", datetime(2026, 3, 31, 17, 42, 10)),
        ("01/02/2026 08:00:00", datetime(2026, 2, 1, 8)),  # day first, as Kenya writes
        ("2026-03-31T17:42:10", datetime(2026, 3, 31, 17, 42, 10)),
        ("31-03-2026 17:42", datetime(2026, 3, 31, 17, 42)),
        ("31/03/2026 5:42:10 PM", datetime(2026, 3, 31, 17, 42, 10)),
        ("31/03/2026 12:00:00 am", datetime(2026, 3, 31, 0, 0)),
        ("31-03-2026", datetime(2026, 3, 31)),
        (datetime(2026, 3, 31, 17, 42, 9, 999_600), datetime(2026, 3, 31, 17, 42, 10)),
        (date(2026, 3, 31), datetime(2026, 3, 31)),
        (46112.5, datetime(2026, 3, 31, 12)),  # an Excel serial day
    ],
)
def test_times_are_eat_and_aware(cell: object, moment: datetime):
    read = parse_time(cell)  # type: ignore[arg-type]
    assert read == moment.replace(tzinfo=EAT)
    assert read is not None and read.utcoffset() is not None


def test_an_aware_time_is_converted_to_eat():
    from datetime import UTC

    assert parse_time(datetime(2026, 3, 31, 9, tzinfo=UTC)) == datetime(2026, 3, 31, 12, tzinfo=EAT)


def test_a_date_alone_ends_a_period_at_its_last_second():
    assert parse_time("31-03-2026", end_of_day=True) == datetime(
        2026, 3, 31, 23, 59, 59, tzinfo=EAT
    )
    assert parse_time("31-03-2026 10:00", end_of_day=True) == datetime(2026, 3, 31, 10, tzinfo=EAT)


@pytest.mark.parametrize("cell", [None, "", "   "])
def test_an_empty_time_is_none(cell: object):
    assert parse_time(cell) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("31-02-2026 10:00:00", "is no such date and time"),
        ("31-03-26 10:00:00", "has no four-digit year"),
        ("yesterday", "is not a date and time"),
        ("31-03-2026 25:00:00", "is no such date and time"),
        ("31-03-2026 13:00:00 PM", "is not a date and time"),
        (time(10, 0), "is not a date and time"),
        (True, "is not a date and time"),
        (12.0, "is not a date and time"),
        (float("nan"), "is not a date and time"),
    ],
)
def test_a_time_that_cannot_be_read_says_why(cell: object, reason: str):
    with pytest.raises(CellError) as refused:
        parse_time(cell)  # type: ignore[arg-type]
    assert reason in str(refused.value)


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        (None, ""),
        ("2547******311", "2547******311"),
        (254722926212, "254722926212"),
        (12345678.0, "12345678"),
        (1020.5, "1020.5"),
        (True, "TRUE"),
        (datetime(2026, 3, 31, 17, 42, 10), "2026-03-31 17:42:10"),
    ],
)
def test_cells_as_text(cell: object, text: str):
    assert cell_text(cell) == text  # type: ignore[arg-type]
