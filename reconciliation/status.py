"""Transaction Status: ask M-Pesa about one receipt, and read its answer when it comes.

``payment_verify`` sends the query (the initiator's password encrypted with M-Pesa's public
certificate for the shortcode's environment) and records a ``StatusCheck``. M-Pesa posts the
result later to our ResultURL (or QueueTimeOutURL), token-guarded like the C2B callbacks:
``daraja_result_store`` keeps the body raw first, ``daraja_result_process`` reads it by Key
(``daraja.status``) and gives the check its verdict:

- **confirmed**: M-Pesa completed the payment and its amount and payer agree with the ledger's
  (a receipt the ledger lacks is backfilled, source ``status``: the money arrived, though M-Pesa
  never says whose account it was for, so the payment has no account number);
- **differs**: M-Pesa has it, but the amount or the payer differ;
- **not found**: M-Pesa has no completed payment with that receipt;
- **error**: the query was refused (for example a wrong initiator) or timed out in M-Pesa.
"""

from __future__ import annotations

import logging
import traceback

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from c2b.models import Payment, Shortcode
from core.phones import is_sha256, masked_parts, phone_hash, phone_normalise
from daraja.client import DarajaClient
from daraja.credential import security_credential
from daraja.errors import DarajaError, ResultParseError
from daraja.status import (
    TransactionStatusResult,
    parse_queue_timeout,
    parse_transaction_status_result,
)
from reconciliation.backfill import Unrecordable, payload_from_status, payments_backfill
from reconciliation.models import DarajaResult, StatusCheck
from reconciliation.pull import daraja_callback_url, daraja_client

logger = logging.getLogger(__name__)

Verdict = StatusCheck.Verdict
# Result codes meaning "M-Pesa knows no such completed payment". Safaricom does not document
# the one for an unknown receipt; R000002 is its reversal API's "invalid original transaction".
NOT_FOUND_CODES = {"R000002"}
INVALID_INITIATOR = "2001"


class VerifyRefused(ValueError):
    """The query cannot be sent; the message says what to fix."""


def payment_verify(
    *,
    trans_id: str,
    shortcode: Shortcode | None = None,
    user: str = "",
    client: DarajaClient | None = None,
) -> StatusCheck:
    """Ask M-Pesa about receipt ``trans_id``. The shortcode is the payment's, else the one
    given, else the only one there is. Raises ``VerifyRefused`` (nothing sent) or
    ``DarajaError`` (Daraja refused the query)."""
    trans_id = trans_id.strip().upper()
    payment = Payment.objects.select_related("shortcode").filter(trans_id=trans_id).first()
    code = payment.shortcode if payment else shortcode or _only_shortcode()
    credential = _credential(code)
    with daraja_client(client) as daraja:
        ack = daraja.transaction_status(
            shortcode=code.number,
            receipt=trans_id,
            initiator=settings.DARAJA_INITIATOR_NAME,
            security_credential=credential,
            result_url=daraja_callback_url("status-result"),
            queue_timeout_url=daraja_callback_url("status-timeout"),
            remarks="Reconciliation check",
        )
    check = StatusCheck.objects.create(
        trans_id=trans_id,
        shortcode=code,
        payment=payment,
        conversation_id=ack.conversation_id[:100],
        originator_conversation_id=ack.originator_conversation_id[:100],
        requested_by=user[:150],
        detail="Asked M-Pesa; its answer arrives in a few seconds.",
    )
    logger.info("Transaction Status of %s asked (check %s)", trans_id, check.pk)
    return check


def _only_shortcode() -> Shortcode:
    shortcodes = list(Shortcode.objects.all()[:2])
    if len(shortcodes) != 1:
        raise VerifyRefused("Say which shortcode the receipt was paid to (--shortcode).")
    return shortcodes[0]


def _credential(code: Shortcode) -> str:
    if not settings.DARAJA_INITIATOR_NAME or not settings.DARAJA_INITIATOR_PASSWORD:
        raise VerifyRefused(
            "Set DARAJA_INITIATOR_NAME and DARAJA_INITIATOR_PASSWORD (an API operator created in "
            "the M-Pesa Org portal) to check payments with M-Pesa."
        )
    production = code.environment == Shortcode.Environment.PRODUCTION
    name = "DARAJA_PRODUCTION_CERTIFICATE" if production else "DARAJA_SANDBOX_CERTIFICATE"
    path = getattr(settings, name)
    if not path:
        raise VerifyRefused(
            f"Set {name} to M-Pesa's public certificate for {code.environment} (download it "
            "from the Daraja portal)."
        )
    try:
        return security_credential(password=settings.DARAJA_INITIATOR_PASSWORD, certificate=path)
    except DarajaError as exc:
        raise VerifyRefused(f"{name}: {exc}") from None


# --- results ----------------------------------------------------------------------------------


def daraja_result_store(*, kind: str, body: bytes, source_ip: str | None) -> DarajaResult:
    """Commit what Daraja posted, as received, before reading it."""
    return DarajaResult.objects.create(kind=kind, body=body, source_ip=source_ip or None)


def daraja_result_process(*, result: DarajaResult) -> StatusCheck | None:
    """Read a stored result and give its check a verdict. A result that cannot be read or
    matched is marked failed with the reason (kept for staff), never raised."""
    if result.kind == DarajaResult.Kind.PULL_CALLBACK:
        _result_done(result, DarajaResult.Status.PROCESSED)
        return None
    try:
        body = bytes(result.body)
        parsed = (
            parse_queue_timeout(body)
            if result.kind == DarajaResult.Kind.STATUS_TIMEOUT
            else parse_transaction_status_result(body)
        )
    except ResultParseError as exc:
        _result_done(result, DarajaResult.Status.FAILED, error=f"Unreadable: {exc.reason}")
        return None
    check = _check_for(parsed)
    if check is None:
        _result_done(
            result, DarajaResult.Status.FAILED, error="No query of ours has this ConversationID."
        )
        return None
    try:
        with transaction.atomic():
            _verdict(check, parsed)
            check.result_received_at = timezone.now()
            check.save()
            result.status_check = check
            _result_done(result, DarajaResult.Status.PROCESSED)
    except Exception:
        logger.exception("Bug while reading Daraja result %s", result.pk)
        _result_done(
            result,
            DarajaResult.Status.FAILED,
            error="Unexpected error while reading (see the log): " + traceback.format_exc(-1),
        )
    return check


def _result_done(result: DarajaResult, status: str, *, error: str = "") -> None:
    result.status, result.error = status, error
    result.save(update_fields=["status", "error", "status_check"])


def _check_for(parsed: TransactionStatusResult) -> StatusCheck | None:
    for field, value in (
        ("conversation_id", parsed.conversation_id),
        ("originator_conversation_id", parsed.originator_conversation_id),
    ):
        if value:
            check = StatusCheck.objects.filter(**{field: value}).order_by("-id").first()
            if check is not None:
                return check
    return None


def _verdict(check: StatusCheck, parsed: TransactionStatusResult) -> None:
    check.result_code = parsed.result_code[:20]
    if parsed.timed_out:
        check.verdict = Verdict.ERROR
        check.detail = "M-Pesa's queue timed out before it answered: ask again."
        return
    if not parsed.success:
        if parsed.result_code == INVALID_INITIATOR:
            check.verdict = Verdict.ERROR
            check.detail = (
                f"M-Pesa refused the initiator ({parsed.description}): check "
                "DARAJA_INITIATOR_NAME, DARAJA_INITIATOR_PASSWORD and the certificate."
            )
        elif parsed.result_code in NOT_FOUND_CODES:
            check.verdict = Verdict.NOT_FOUND
            check.detail = f"M-Pesa has no payment with receipt {check.trans_id}."
        else:
            check.verdict = Verdict.ERROR
            check.detail = f"M-Pesa answered {parsed.result_code}: {parsed.description}"
        return
    check.amount, check.completed_at = parsed.amount, parsed.finalised_at or parsed.initiated_at
    check.payer = f"{parsed.debit_party_msisdn} {parsed.debit_party_name}".strip()[:255]
    if not parsed.completed:
        check.verdict = Verdict.NOT_FOUND
        check.detail = (
            f"M-Pesa knows {check.trans_id} but says it is {parsed.transaction_status or 'not'} "
            "completed: no money moved."
        )
        return
    if parsed.receipt and parsed.receipt.upper() != check.trans_id:
        check.verdict = Verdict.ERROR
        check.detail = f"M-Pesa answered about {parsed.receipt}, not {check.trans_id}."
        return
    payment = check.payment or Payment.objects.filter(trans_id=check.trans_id).first()
    if payment is None:
        _backfill(check, parsed)
        return
    check.payment = payment
    differences = []
    if parsed.amount != payment.amount:
        differences.append(f"amount: M-Pesa {parsed.amount}, ledger {payment.amount}")
    if not _same_payer(payment, parsed):
        differences.append("payer: M-Pesa's debit party is not the ledger's payer")
    if differences:
        check.verdict, check.detail = (
            Verdict.DIFFERS,
            "M-Pesa has it, but " + "; ".join(differences),
        )
    else:
        check.verdict = Verdict.CONFIRMED
        check.detail = "M-Pesa completed this payment; amount and payer agree."


def _backfill(check: StatusCheck, parsed: TransactionStatusResult) -> None:
    try:
        payload = payload_from_status(parsed, shortcode=check.shortcode.number)
    except Unrecordable as exc:
        check.verdict, check.detail = (
            Verdict.ERROR,
            f"M-Pesa has it, but it cannot be stored: {exc}",
        )
        return
    [recording] = payments_backfill(payloads=[payload], source=Payment.Source.STATUS)
    check.payment = recording.payment
    check.backfilled = recording.created
    check.verdict = Verdict.CONFIRMED
    check.detail = (
        "M-Pesa completed this payment, which no callback had brought: it is now recorded "
        "(without an account number: M-Pesa's answer does not carry one)."
        if recording.created
        else "M-Pesa completed this payment; its callback arrived meanwhile."
    )


def _same_payer(payment: Payment, parsed: TransactionStatusResult) -> bool:
    """Whether M-Pesa's debit party can be the ledger's payer: the same phone where both can be
    compared (full, hashed or masked with visible digits), else a name in common. Payers that
    cannot be compared at all are not held against the payment."""
    ours, theirs = payment.msisdn.replace(" ", ""), parsed.debit_party_msisdn.replace(" ", "")
    full_ours, full_theirs = phone_normalise(ours), phone_normalise(theirs)
    if full_ours and full_theirs:
        return full_ours == full_theirs
    if is_sha256(ours) and full_theirs:
        return phone_hash(full_theirs) == ours.lower()
    visible_ours, visible_theirs = masked_parts(ours), masked_parts(theirs)
    if full_ours and visible_theirs:
        return full_ours.startswith(visible_theirs[0]) and full_ours.endswith(visible_theirs[1])
    if visible_ours and visible_theirs:
        head = min(len(visible_ours[0]), len(visible_theirs[0]))
        tail = min(len(visible_ours[1]), len(visible_theirs[1]))
        heads_agree = visible_ours[0][:head] == visible_theirs[0][:head]
        tails_agree = not tail or visible_ours[1][-tail:] == visible_theirs[1][-tail:]
        return heads_agree and tails_agree
    names = {w for w in payment.payer_name.upper().split() if "*" not in w}
    their_names = {w for w in parsed.debit_party_name.upper().split() if "*" not in w}
    return not names or not their_names or bool(names & their_names)
