"""Kenyan phone numbers as M-Pesa shows them: full, masked (``2547 ***** 126``) or SHA-256 hashed.

The canonical form is ``254`` + nine digits (``2547XXXXXXXX`` or ``2541XXXXXXXX``), the form
Safaricom hashes, so a member's known phone can be compared with a hashed MSISDN by hashing it the
same way.
"""

from __future__ import annotations

import hashlib
import re

_KENYAN_MOBILE = re.compile(r"^254[17]\d{8}$")
_SEPARATORS = re.compile(r"[\s\-().]")
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_MASKED = re.compile(r"^(\d*)\s*\*+\s*(\d*)$")


def phone_normalise(raw: str) -> str | None:
    """``0712 345 678``, ``+254712345678``, ``712345678`` → ``254712345678``; ``None`` if not a
    Kenyan mobile number."""
    digits = _SEPARATORS.sub("", raw or "")
    if digits.startswith("+"):
        digits = digits[1:]
    if not digits.isdigit():
        return None
    if digits.startswith("0") and len(digits) == 10:
        digits = "254" + digits[1:]
    elif len(digits) == 9 and digits[0] in "17":
        digits = "254" + digits
    return digits if _KENYAN_MOBILE.match(digits) else None


def phone_hash(number: str) -> str:
    """SHA-256 hex digest of the canonical number, as Safaricom sends it in ``MSISDN``."""
    return hashlib.sha256(number.encode("ascii")).hexdigest()


def is_sha256(msisdn: str) -> bool:
    return bool(_SHA256.match(msisdn or ""))


def masked_parts(msisdn: str) -> tuple[str, str] | None:
    """The visible leading and trailing digits of a masked MSISDN, or ``None`` if not masked."""
    found = _MASKED.match((msisdn or "").strip())
    if not found or not (found.group(1) or found.group(2)):
        return None
    return found.group(1), found.group(2)


def masked_fits(msisdn: str, number: str) -> bool:
    """Whether a masked MSISDN's visible digits agree with ``number`` (canonical form)."""
    parts = masked_parts(msisdn)
    if parts is None:
        return False
    head, tail = parts
    return number.startswith(head) and number.endswith(tail)


def phone_mask(number: str) -> str:
    """For logs and screens: ``254712345678`` → ``2547*****678``. Hashes are shortened."""
    if not number:
        return ""
    if is_sha256(number):
        return number[:8] + "…"
    if len(number) <= 7:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 7) + number[-3:]
