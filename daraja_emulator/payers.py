"""The people who pay: phone numbers, the forms M-Pesa disguises them in, and their names."""

from __future__ import annotations

import hashlib
import random
import re
import threading
from dataclasses import dataclass

DARAJA_MSISDN_RE = re.compile(r"^254[17]\d{8}$")
SANDBOX_TEST_MSISDN = "254708374149"

_FIRST = (
    "JOHN", "MARY", "PETER", "GRACE", "JAMES", "FAITH", "DAVID", "MERCY", "JOSEPH", "ESTHER",
    "SAMUEL", "JANE", "DANIEL", "LUCY", "BRIAN", "ANN", "KEVIN", "JOYCE", "DENNIS", "NANCY",
)  # fmt: skip
_FAMILY = (
    "KAMAU", "WANJIRU", "OTIENO", "ACHIENG", "KIPCHOGE", "CHEPKOECH", "MWANGI", "NJERI",
    "ODHIAMBO", "AUMA", "KIPROTICH", "WAMBUI", "MUTUA", "NDUTA", "OMONDI", "WEKESA",
)  # fmt: skip


@dataclass(frozen=True)
class Payer:
    msisdn: str
    first_name: str
    middle_name: str = ""
    last_name: str = ""

    @property
    def display_name(self) -> str:
        """``JOHN DOE``: how statements and status results name the customer."""
        return " ".join(part for part in (self.first_name, self.last_name) if part).upper()


def normalise_phone(value: str) -> str:
    """Lenient: ``0712 345 678``, ``+254712345678`` or ``712345678`` -> ``254712345678``.
    Used for member lists, never for API input (the API wants 2547... exactly)."""
    digits = re.sub(r"[\s\-()+]", "", str(value))
    if digits.startswith("0") and len(digits) == 10:
        digits = "254" + digits[1:]
    elif len(digits) == 9:
        digits = "254" + digits
    if not DARAJA_MSISDN_RE.match(digits):
        raise ValueError(f"not a Kenyan mobile number: {value!r}")
    return digits


def hashed_msisdn(msisdn: str) -> str:
    """C2B v1 callbacks: lower-case hex SHA-256 of the ``2547XXXXXXXX`` number."""
    return hashlib.sha256(msisdn.encode("ascii")).hexdigest()


def masked_msisdn(msisdn: str) -> str:
    """C2B v2 callbacks: ``2547 ***** 149``."""
    return f"{msisdn[:4]} ***** {msisdn[-3:]}"


def portal_msisdn(msisdn: str) -> str:
    """Statements and status results: ``2547******149``."""
    return f"{msisdn[:4]}******{msisdn[-3:]}"


def callback_msisdn(msisdn: str, api_version: str) -> str:
    return hashed_msisdn(msisdn) if api_version == "v1" else masked_msisdn(msisdn)


def callback_names(payer: Payer, shape: str, rng: random.Random) -> dict[str, str]:
    """The name keys of a callback. Real traffic often carries only ``FirstName``, with the
    other keys missing altogether, so ``mixed`` flips a (seeded) coin per payment."""
    first_only = shape == "first_only" or (shape == "mixed" and rng.random() < 0.5)
    if first_only:
        return {"FirstName": payer.first_name}
    return {
        "FirstName": payer.first_name,
        "MiddleName": payer.middle_name,
        "LastName": payer.last_name,
    }


class PayerDirectory:
    """Who owns which phone. Known payers come from scenarios' member lists; anyone else gets a
    name derived from the number, so the same phone always pays under the same name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[str, Payer] = {}
        self._seed_defaults()

    def _seed_defaults(self) -> None:
        self._known[SANDBOX_TEST_MSISDN] = Payer(SANDBOX_TEST_MSISDN, "JOHN", "J.", "DOE")

    def add(self, payer: Payer) -> None:
        with self._lock:
            self._known[payer.msisdn] = payer

    def get(self, msisdn: str) -> Payer:
        with self._lock:
            known = self._known.get(msisdn)
        if known:
            return known
        digest = hashlib.sha256(b"payer:" + msisdn.encode("ascii")).digest()
        return Payer(
            msisdn,
            _FIRST[digest[0] % len(_FIRST)],
            _FAMILY[digest[1] % len(_FAMILY)],
            _FAMILY[digest[2] % len(_FAMILY)],
        )

    def clear(self) -> None:
        with self._lock:
            self._known.clear()
            self._seed_defaults()
