"""Receipt numbers and payer identities look and behave like M-Pesa's."""

from __future__ import annotations

from datetime import datetime

import pytest

from daraja_emulator.clock import EAT
from daraja_emulator.ids import receipt_number, receipt_prefix
from daraja_emulator.payers import PayerDirectory, masked_msisdn, normalise_phone, portal_msisdn


@pytest.mark.parametrize(
    "day,prefix",
    [
        ((2017, 7, 27), "LGR"),
        ((2019, 12, 19), "NLJ"),
        ((2026, 11, 27), "UKR"),
        ((2026, 1, 5), "UA5"),
    ],
)
def test_receipt_numbers_encode_the_eat_date_like_real_ones(
    day: tuple[int, int, int], prefix: str
) -> None:
    assert receipt_prefix(datetime(*day, 12, tzinfo=EAT)) == prefix
    receipt = receipt_number(datetime(*day, 12, tzinfo=EAT))
    assert len(receipt) == 10 and receipt.isupper() and receipt.startswith(prefix)


def test_unknown_phones_always_pay_under_the_same_name() -> None:
    first, second = PayerDirectory(), PayerDirectory()
    assert first.get("254712345678") == second.get("254712345678")
    assert first.get("254712345678") != first.get("254712345679")


def test_msisdn_disguises() -> None:
    assert masked_msisdn("254712345149") == "2547 ***** 149"
    assert portal_msisdn("254712345287") == "2547******287"


@pytest.mark.parametrize("raw", ["0712345678", "+254712345678", "712345678", "0712 345 678"])
def test_member_phones_are_normalised_to_2547_format(raw: str) -> None:
    assert normalise_phone(raw) == "254712345678"
