"""The C2B callback endpoints M-Pesa calls. Thin: check, store, hand to a service, answer.

The checks are cheap and come first: the secret token in the path (wrong: 404), the source
address (refused: 403), method and size; only then is the raw request committed.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponseNotAllowed, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from c2b.models import CallbackReceipt
from c2b.services.callbacks import (
    callback_receipt_answer,
    callback_receipt_store,
    callback_validation_answer,
)
from core.network import client_ip, source_ip_allowed
from core.secrets import token_matches

logger = logging.getLogger(__name__)

# Request headers kept on the receipt for diagnosis, and where WSGI puts them.
KEPT_HEADERS = {
    "Content-Type": "CONTENT_TYPE",
    "Content-Length": "CONTENT_LENGTH",
    "User-Agent": "HTTP_USER_AGENT",
    "Host": "HTTP_HOST",
    "X-Forwarded-For": "HTTP_X_FORWARDED_FOR",
    "X-Forwarded-Proto": "HTTP_X_FORWARDED_PROTO",
    "X-Real-Ip": "HTTP_X_REAL_IP",
    "Transfer-Encoding": "HTTP_TRANSFER_ENCODING",
}
UNAVAILABLE = {"ResultCode": 1, "ResultDesc": "Service temporarily unavailable"}


@csrf_exempt
def c2b_callback(request: HttpRequest, token: str, kind: str) -> JsonResponse:
    if not token_matches(token, settings.C2B_CALLBACK_TOKENS):
        raise Http404
    source_ip = client_ip(request)
    if not source_ip_allowed(source_ip):
        # From outside this looks exactly like a wrong token, so an address we refuse cannot
        # learn that its token is right; the log says why.
        logger.warning("C2B %s callback refused from address %s", kind, source_ip or "unknown")
        raise Http404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])

    limit = settings.C2B_MAX_BODY_BYTES
    try:
        body = _read_limited(request, limit)
    except LengthRequired:
        return JsonResponse(
            {"ResultCode": 1, "ResultDesc": "Length Required: send the body with Content-Length."},
            status=411,
        )
    except OSError:  # UnreadablePostError: the client went away mid-body; nothing to keep
        logger.warning("C2B %s callback body could not be read (client disconnected?)", kind)
        return JsonResponse({"ResultCode": 1, "ResultDesc": "Body not received."}, status=400)
    if body is None:
        return JsonResponse(
            {"ResultCode": 1, "ResultDesc": f"Body larger than {limit // 1024} KiB; not stored."},
            status=413,
        )

    headers = {h: request.META[k] for h, k in KEPT_HEADERS.items() if k in request.META}
    if kind == CallbackReceipt.Kind.VALIDATION:
        # Decided first, then kept with its decision in one write (docs/decisions.md #15).
        try:
            outcome = callback_validation_answer(
                body=body, headers=headers, source_ip=source_ip or None
            )
        except DatabaseError:
            logger.exception("Database unavailable: C2B validation callback not answered")
            return JsonResponse(UNAVAILABLE, status=503)
        return JsonResponse(outcome.body, status=outcome.http_status)

    try:
        receipt = callback_receipt_store(
            kind=CallbackReceipt.Kind(kind), body=body, headers=headers, source_ip=source_ip or None
        )
    except DatabaseError:
        logger.exception("Database unavailable: C2B %s callback not stored", kind)
        return JsonResponse(UNAVAILABLE, status=503)

    try:
        outcome = callback_receipt_answer(receipt=receipt)
    except DatabaseError:
        # The raw receipt is committed and stays 'received'; the capture worker takes it once
        # the database is back.
        logger.exception("Database error while processing receipt %s", receipt.pk)
        return JsonResponse(UNAVAILABLE, status=503)
    return JsonResponse(outcome.body, status=outcome.http_status)


class LengthRequired(Exception):
    """A body sent without Content-Length that the web server did not read for us."""


def _read_limited(request: HttpRequest, limit: int) -> bytes | None:
    """The body, or ``None`` when it exceeds ``limit`` (declared or actual).

    A chunked body (no Content-Length) is read only when the web server has de-chunked it and
    says so (``wsgi.input_terminated``); otherwise Django would read nothing and an empty stand-in
    would be stored in place of the payment, so ``LengthRequired`` is raised instead (411)."""
    length = request.META.get("CONTENT_LENGTH") or ""
    if not length and request.META.get("HTTP_TRANSFER_ENCODING"):
        if not request.META.get("wsgi.input_terminated"):
            raise LengthRequired
        body = request.META["wsgi.input"].read(limit + 1)
        return None if len(body) > limit else body
    try:
        declared = int(length or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    body = request.read(limit + 1)
    return None if len(body) > limit else body
