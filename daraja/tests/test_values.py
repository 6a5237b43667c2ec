"""Daraja's loose values read strictly."""

from datetime import datetime
from decimal import Decimal

import pytest

from daraja import values
from daraja.values import EAT


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ("10.00", "10.00"),
        ("10", "10.00"),
        (10, "10.00"),
        (10.5, "10.50"),
        (0.1, "0.10"),
        (Decimal("1020"), "1020.00"),
        ("1,020.00", "1020.00"),
        (" 5.5 ", "5.50"),
    ],
)
def test_amounts_become_two_place_decimals(sent, expected):
    assert values.amount(sent) == Decimal(expected)
    assert str(values.amount(sent)) == expected


@pytest.mark.parametrize(
    "sent", [True, None, "", "ten", "10.001", "NaN", "Infinity", float("inf"), "1E+999", [10]]
)
def test_anything_else_is_not_an_amount(sent):
    with pytest.raises(ValueError):
        values.amount(sent)


@pytest.mark.parametrize(
    ("sent", "expected"), [(0, "0"), ("0", "0"), (2001, "2001"), (0.0, "0"), ("R000002", "R000002")]
)
def test_codes_become_text(sent, expected):
    assert values.code(sent) == expected


@pytest.mark.parametrize("sent", [None, True, "", "  ", 1.5, float("nan"), {"a": 1}])
def test_anything_else_is_not_a_code(sent):
    with pytest.raises(ValueError):
        values.code(sent)


@pytest.mark.parametrize("sent", [20261127143015, "20261127143015", 20261127143015.0])
def test_mpesa_timestamps_are_eat(sent):
    assert values.mpesa_timestamp(sent) == datetime(2026, 11, 27, 14, 30, 15, tzinfo=EAT)


@pytest.mark.parametrize(
    "sent", ["2026-11-27 14:30:15", "20261327143015", "2026112714301", "٢٠٢٦١١٢٧١٤٣٠١٥", True, None]
)
def test_anything_else_is_not_a_timestamp(sent):
    with pytest.raises(ValueError):
        values.mpesa_timestamp(sent)


@pytest.mark.parametrize(
    ("sent", "expected"),
    [(None, ""), (" x ", "x"), (722000000, "722000000"), (722000000.0, "722000000"), (1.5, "1.5")],
)
def test_text(sent, expected):
    assert values.text(sent) == expected


def test_structures_are_not_text():
    with pytest.raises(ValueError):
        values.text({"a": 1})


def test_error_messages_never_hold_a_whole_structure():
    with pytest.raises(ValueError) as exc:
        values.code({"msisdn": "254712345126"})
    assert "254712345126" not in str(exc.value)
