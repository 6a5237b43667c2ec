"""What a line is (customer payment, charge, transfer, reversal, other) and who paid.

Judged from the words M-Pesa writes, in this order (the first that fits decides):

1. ``reversal``: ``Details`` or ``Reason Type`` speak of a reversal; the reversed receipt is in
   ``Linked Transaction ID``.
2. ``charge``: they speak of a charge (``Pay Bill Charge``, one beside each payment, sharing its
   receipt).
3. ``transfer``: money moved from one of the organisation's accounts to another (``Utility
   Account to Organization Settlement Account``; a sweep shows as a Paid In and a Withdrawn line
   sharing one receipt).
4. ``other``: ``A/C No.`` is ``Schemes`` (internal bookings, never a member's payment).
5. ``payment``: ``Details`` describe a customer paying in (``Pay Bill from …``, ``Pay Bill
   Online from …``, ``Small Business Pay Bill from …``, ``Merchant Pay Utility Received from
   …``, ``Business Pay Bill via API by …`` (a bank paying in), ``FSI to Pay Bill by …``) or
   ``Reason Type`` is a customer payment type (``Pay Bill Online``, ``Pay Utility``, …), and no
   money went out.
6. ``other``: anything else, with its words quoted, so staff can see what it was.
"""

from __future__ import annotations

import re

from reconciliation.statements.model import LineKind

PAYMENT_DESCRIPTIONS = frozenset(
    {
        "pay bill",
        "pay bill online",
        "small business pay bill",
        "merchant pay utility received",
        "business pay bill via api",
        "fsi to pay bill",
        "customer pay bill online",
        "customer paybill online",
        "pay utility",
        "standing order pay bill",
    }
)
PAYMENT_REASON_TYPES = PAYMENT_DESCRIPTIONS | {
    "pay utility with od via stk",
    "pay utility with od online",
    "organization to organization transfer",
    "buy goods",
    "pay merchant",
}
SCHEMES = "schemes"

_DETAILS = re.compile(
    r"^(?P<what>.+?)\s+(?:from|by)\s+(?P<party>.+?)(?:\s+Acc\.\s*(?P<account>.*?))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_PARTY = re.compile(r"^(?P<id>[0-9*][0-9* ]*?)\s*-\s*(?P<name>.*)$", re.DOTALL)
_HASHED = re.compile(r"^[0-9a-fA-F]{64}$")
_REVERSAL = re.compile(r"\brevers", re.IGNORECASE)
_CHARGE = re.compile(r"\bcharges?\b", re.IGNORECASE)
_OWN_ACCOUNTS = re.compile(r"\baccount\b.*?\bto\b.*?\baccount\b", re.IGNORECASE | re.DOTALL)


def details_parts(details: str) -> tuple[str, str, str | None]:
    """``"Pay Bill from 2547****376 - JANE DOE Acc. NS0207"`` → ``("Pay Bill",
    "2547****376 - JANE DOE", "NS0207")``; ``(details, "", None)`` when they name no party;
    the account is ``None`` when they have no ``Acc.`` part."""
    match = _DETAILS.match(details.strip())
    if match is None:
        return details.strip(), "", None
    return match["what"].strip(), match["party"].strip(), match["account"]


def party_parts(party: str) -> tuple[str, str]:
    """``"2547******311 - NAME"`` → ``("2547******311", "NAME")``: the phone as written (never
    a number) and the name. A party that is not a phone (a bank's or organisation's shortcode,
    or a name alone) gives ``""`` for the phone and its name."""
    text = party.strip()
    if _HASHED.match(text):
        return text, ""
    match = _PARTY.match(text)
    if match is None:
        return "", text
    identity, name = match["id"].strip(), match["name"].strip()
    digits = identity.replace(" ", "").replace("*", "")
    is_phone = "*" in identity or len(digits) >= 9
    return (identity if is_phone else ""), name


def classify(
    *,
    details: str,
    reason_type: str,
    account: str,
    linked_receipt: str,
    money_out: bool,
) -> tuple[LineKind, str]:
    """The line's kind and, for staff, why."""
    words = f"{details} {reason_type}"
    if _REVERSAL.search(words):
        of = f"of {linked_receipt}" if linked_receipt else "(no Linked Transaction ID)"
        return LineKind.REVERSAL, f"reversal {of}: {details or reason_type!r}"
    if _CHARGE.search(words):
        return LineKind.CHARGE, f"charge: {details or reason_type!r}"
    if _OWN_ACCOUNTS.search(details) or _OWN_ACCOUNTS.search(reason_type):
        return LineKind.TRANSFER, f"between the organisation's own accounts: {details!r}"
    if account.strip().lower() == SCHEMES:
        return LineKind.OTHER, "A/C No. is 'Schemes': not a member's payment"
    what = details_parts(details)[0].lower() if details else ""
    reason = reason_type.strip().lower()
    if what in PAYMENT_DESCRIPTIONS or reason in PAYMENT_REASON_TYPES:
        if money_out:
            return LineKind.OTHER, f"described as a payment but money went out: {details!r}"
        return LineKind.PAYMENT, f"customer payment: {(details_parts(details)[0] or reason_type)!r}"
    return LineKind.OTHER, (
        f"not a known customer payment: Details {details!r}, Reason Type {reason_type!r}"
    )
