"""HTTP endpoints M-Pesa and load balancers call. Thin: check, store, hand to a service, answer."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponseNotAllowed, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from c2b.models import CallbackReceipt
from c2b.security import callback_token_is_valid, client_ip, source_ip_allowed
from c2b.selectors import capture_backlog
from c2b.services.callbacks import callback_receipt_answer, callback_receipt_store

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
}
UNAVAILABLE = {"ResultCode": 1, "ResultDesc": "Service temporarily unavailable"}


@csrf_exempt
def c2b_callback(request: HttpRequest, token: str, kind: str) -> JsonResponse:
    if not callback_token_is_valid(token):
        raise Http404
    source_ip = client_ip(request)
    if not source_ip_allowed(source_ip):
        logger.warning("C2B %s callback refused from address %s", kind, source_ip)
        return JsonResponse({"ResultCode": 1, "ResultDesc": "Forbidden source address"}, status=403)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])

    body = _read_limited(request, settings.C2B_MAX_BODY_BYTES)
    if body is None:
        return JsonResponse(
            {"ResultCode": 1, "ResultDesc": "Body larger than 64 KiB; not stored."}, status=413
        )

    try:
        receipt = callback_receipt_store(
            kind=CallbackReceipt.Kind(kind),
            body=body,
            headers={h: request.META[k] for h, k in KEPT_HEADERS.items() if k in request.META},
            source_ip=source_ip or None,
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


def _read_limited(request: HttpRequest, limit: int) -> bytes | None:
    """The body, or ``None`` when it exceeds ``limit`` (declared or actual)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    body = request.read(limit + 1)
    return None if len(body) > limit else body


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 while the database answers, with the capture backlog for monitoring (a backlog
    older than a minute means no capture worker is running); 503 when it does not answer."""
    try:
        backlog = capture_backlog()
    except DatabaseError:
        return JsonResponse({"status": "unhealthy", "database": "unreachable"}, status=503)
    return JsonResponse(
        {
            "status": "ok",
            "database": "ok",
            "capture": {
                "waiting": backlog.waiting,
                "oldest_seconds": backlog.oldest_seconds,
                "late": backlog.late,
            },
        }
    )
