import hashlib

import pytest

from core.phones import (
    is_sha256,
    masked_fits,
    masked_parts,
    phone_hash,
    phone_mask,
    phone_normalise,
)


@pytest.mark.parametrize(
    "raw",
    ["254712345678", "+254712345678", "0712345678", "712345678", "0712 345 678", "0712-345-678"],
)
def test_kenyan_mobile_numbers_in_any_common_form_normalise_to_2547(raw):
    assert phone_normalise(raw) == "254712345678"


def test_safaricom_011x_numbers_are_mobile_numbers():
    assert phone_normalise("0110123456") == "254110123456"


@pytest.mark.parametrize(
    "raw", ["", "2547 ***** 126", "0201234567", "25571234567", "07123", "phone", "+2547123456789"]
)
def test_what_is_not_a_kenyan_mobile_number_is_refused(raw):
    assert phone_normalise(raw) is None


def test_hash_is_sha256_of_the_2547_form_as_safaricom_sends_it():
    assert phone_hash("254712345678") == hashlib.sha256(b"254712345678").hexdigest()
    assert is_sha256(phone_hash("254712345678"))
    assert not is_sha256("254712345678")


def test_masked_msisdn_exposes_its_visible_digits():
    assert masked_parts("2547 ***** 126") == ("2547", "126")
    assert masked_parts("2547******287") == ("2547", "287")
    assert masked_parts("254712345678") is None
    assert masked_parts("*****") is None


def test_masked_msisdn_fits_only_numbers_with_the_same_visible_digits():
    assert masked_fits("2547 ***** 126", "254712345126")
    assert not masked_fits("2547 ***** 126", "254712345127")
    assert not masked_fits("2547 ***** 126", "254112345126")


def test_masking_for_logs_hides_the_middle_digits():
    assert phone_mask("254712345678") == "2547*****678"
    assert phone_mask("") == ""
    assert phone_mask(phone_hash("254712345678")).endswith("…")
