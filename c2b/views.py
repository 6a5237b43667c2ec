"""The C2B callback endpoints M-Pesa calls. Thin: check, store, hand to a service, answer.

The checks are cheap and come first (``core.requests.callback_read``): the secret token in the
path and the source address (either wrong: 404), method and size; only then is the raw request
committed.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from c2b.models import CallbackReceipt
from c2b.services.callbacks import (
    callback_receipt_answer,
    callback_receipt_store,
    callback_validation_answer,
)
from core.requests import callback_read

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
def c2b_callback(request: HttpRequest, token: str, kind: str) -> HttpResponse:
    checked = callback_read(
        request,
        token=token,
        tokens=settings.C2B_CALLBACK_TOKENS,
        limit=settings.C2B_MAX_BODY_BYTES,
        what=f"C2B {kind} callback",
    )
    if isinstance(checked, HttpResponse):
        return checked
    body, source_ip = checked

    headers = {h: request.META[k] for h, k in KEPT_HEADERS.items() if k in request.META}
    if kind == CallbackReceipt.Kind.VALIDATION:
        # Decided first, then kept with its decision in one write (docs/decisions.md #17).
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
