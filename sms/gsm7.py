"""GSM 03.38, the 7-bit alphabet: a message that stays inside it fits 160 characters in one SMS.

One character outside it (a curly quote, an emoji, a name with ``ł``) makes the whole message
UCS-2, which halves the limit to 70 and can double or triple the cost of a receipt.
"""

from __future__ import annotations

import unicodedata

BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENDED = set("^{}\\[~]|€\f")  # sent as escape + character: two septets each
ALPHABET = frozenset(BASIC | EXTENDED)
SINGLE_SMS_SEPTETS = 160
_REPLACEMENTS = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "\u00a0": " ",
    "\t": " ",
    "\u02bc": "'",
    "\u0141": "L",
    "\u0142": "l",
    "\u0110": "D",
    "\u0111": "d",
    "\u0131": "i",
    "\u0152": "OE",
    "\u0153": "oe",
}


def gsm7_length(text: str) -> int | None:
    """Septets the text needs, or ``None`` when some character forces UCS-2."""
    if BASIC.issuperset(text):  # the usual case, checked at C speed
        return len(text)
    length = 0
    for char in text:
        if char in BASIC:
            length += 1
        elif char in EXTENDED:
            length += 2
        else:
            return None
    return length


def to_gsm7(text: str) -> str:
    """Transliterate what has a GSM-7 look-alike (``Zoë`` stays, ``Łukasz`` → ``Lukasz``, curly
    quotes → straight) and drop the rest (emoji)."""
    if ALPHABET.issuperset(text):  # the usual case, checked at C speed
        return text
    out: list[str] = []
    for char in text:
        char = _REPLACEMENTS.get(char, char)
        if ALPHABET.issuperset(char):
            out.append(char)
            continue
        base = unicodedata.normalize("NFKD", char)
        out.extend(c for c in base if c in BASIC)
    return "".join(out)


def fits_one_sms(text: str) -> bool:
    length = gsm7_length(text)
    return length is not None and length <= SINGLE_SMS_SEPTETS
